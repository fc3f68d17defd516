"""Publish targets: object stores that speak the S3 API, where the public site is served (see sync.py)."""

from .order import IMMUTABLE, link_levels, upload_order
from .purge import purge
from .sync import (
    MARKER,
    Location,
    Syncer,
    SyncResult,
    TargetError,
    client,
    configured,
    local_objects,
    pending,
    sync_live,
    sync_live_quietly,
    sync_release,
    verify,
)

__all__ = [
    "IMMUTABLE",
    "MARKER",
    "Location",
    "SyncResult",
    "Syncer",
    "TargetError",
    "client",
    "configured",
    "link_levels",
    "local_objects",
    "pending",
    "purge",
    "sync_live",
    "sync_live_quietly",
    "sync_release",
    "upload_order",
    "verify",
]
