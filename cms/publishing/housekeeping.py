"""What the build worker does when no request waits (process_requests' idle branch), and the release's size:
work a burst of publishes should not wait for."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings

from .models import BuildRequest, Release
from .releases import current_release_dir, prune_releases
from .routes import collect, site_root
from .worker import worker

logger = logging.getLogger(__name__)


def record_size(release: Release, out: Path):
    """The release's files and bytes, for the admin and the summary, counted once it is live."""
    total_files, total_bytes = 0, 0
    for dirpath, _dirs, names in os.walk(out):
        for name in names:
            total_files += 1
            total_bytes += os.stat(os.path.join(dirpath, name)).st_size
    release.files, release.bytes = total_files, total_bytes
    release.save(update_fields=["files", "bytes"])


def idle_housekeeping():
    """What the worker's builds leave until it is idle: the live release's size (the admin lists it; 2 s of
    walking 150,000 files at 20,000 stories) and pruning old releases."""
    live = current_release_dir()
    if live is not None:
        release = Release.objects.filter(name=live.name, status=Release.STATUS_LIVE, files=0).first()
        if release is not None:
            record_size(release, live)
    prune_releases(settings.SITE_RELEASES_KEEP)


def check_signatures():
    """When idle after builds that brought the last signature pass up to date (from the pages their requests
    named), read everything once and compare. A change that reached the database without a request naming
    its page (a script, a bulk update, a signal we do not know of) would otherwise stay off the site until
    the next full reading: the difference is logged and built now. Either way the fresh pass is kept."""
    held = worker.signatures
    live = current_release_dir()
    if held is None or not held[1].incremental or live is None or held[0] != live.name:
        return
    fresh = collect(site_root(), held[1].extra)
    stale = sorted(
        url
        for url in held[1].routes.keys() | fresh.routes.keys()
        if getattr(held[1].routes.get(url), "signature", None) != getattr(fresh.routes.get(url), "signature", None)
    )
    fresh.in_sync = held[1].in_sync and not stale
    worker.signatures = (held[0], fresh)
    if stale:
        logger.warning("按改动更新的签名与完整计算不一致（%s 个文件，例如 %s）：重新构建", len(stale), stale[:5])
        BuildRequest.objects.create(reason=f"核对签名：{len(stale)} 个文件与数据库不一致"[:200])
