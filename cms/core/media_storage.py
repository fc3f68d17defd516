"""Uploads and renditions on an S3 bucket, for CMS machines that share one database (MEDIA_STORAGE_URL).

    MEDIA_STORAGE_URL="s3://bucket/prefix"     (unset: the local MEDIA_ROOT, as on one machine)

django-storages' S3 backend, with the S3 client's standard AWS_* settings, like PUBLISH_TARGETS. The media
bucket is private: original uploads never leave it (objects are written without an ACL); the build worker
copies the renditions and documents a release names from it into the release (cms/publishing/stage.py).
URLs stay the site's own (`/media/images/…`), as with the local folder, so a release is byte for byte the
same wherever the media live; the CMS serves them to the admin and to previews (media_view).
"""

from __future__ import annotations

import mimetypes
import os
import re
import threading
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import FileResponse, Http404
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

URL_FORMAT = re.compile(r"s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(.*))?")


def storage_options(url: str) -> dict:
    """The STORAGES["default"] OPTIONS for MEDIA_STORAGE_URL, or a message naming the setting."""
    match = URL_FORMAT.fullmatch(url.strip())
    if not match:
        raise ImproperlyConfigured(
            f"MEDIA_STORAGE_URL={url!r} cannot be read: write s3://bucket/prefix (the bucket's name in lower case)"
        )
    return {"bucket_name": match.group(1), "location": (match.group(2) or "").strip("/")}


class MediaStorage(S3Storage):
    """The private media bucket. Names never overwrite each other (two uploads of photo.jpg get two names, as
    on disk); a forked render worker opens its own connection (a pool's sockets are not shared across fork)."""

    file_overwrite = False
    default_acl = None
    querystring_auth = True

    def __init__(self, **options):
        from botocore.config import Config

        options.setdefault("addressing_style", os.environ.get("AWS_S3_ADDRESSING_STYLE") or None)
        options.setdefault(
            "client_config",
            Config(
                retries={"mode": "standard", "total_max_attempts": settings.PUBLISH_RETRIES},
                connect_timeout=5,
                read_timeout=30,
                s3={"addressing_style": options["addressing_style"] or "auto"},
                max_pool_connections=16,
            ),
        )
        super().__init__(**options)
        self._pid = os.getpid()

    def get_default_settings(self):
        found = super().get_default_settings()
        found["file_overwrite"] = False  # AWS_S3_FILE_OVERWRITE defaults to True: never for uploads
        return found

    def _forked(self):
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._connections = threading.local()
            self._unsigned_connections = threading.local()
            self._bucket = None

    @property
    def connection(self):
        self._forked()
        return super().connection

    @property
    def bucket(self):
        self._forked()
        return super().bucket

    def url(self, name, parameters=None, expire=None, http_method=None):
        """The site's own address, as FileSystemStorage gives it: what releases and the admin link to."""
        return urljoin(settings.MEDIA_URL, filepath_to_uri(clean_name(name)).lstrip("/"))


# What the CMS serves from the bucket: renditions to anyone (previews and share links show them; they are
# what the public site shows), everything else (original uploads, documents) only to editors.
PUBLIC_PREFIXES = ("images/",)


def media_view(request, path: str):
    """/media/<path> from the media storage, for the CMS's own pages (admin, previews, share links)."""
    from django.core.files.storage import default_storage

    name = clean_name(path)
    if ".." in name.split("/") or name.startswith("/"):
        raise Http404
    if not name.startswith(PUBLIC_PREFIXES) and not request.user.has_perm("wagtailadmin.access_admin"):
        raise Http404
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=kind)
    response["X-Content-Type-Options"] = "nosniff"
    if name.startswith("documents/"):
        response["Content-Disposition"] = "attachment"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600" if name.startswith(PUBLIC_PREFIXES) else "private, no-store"
    return response
