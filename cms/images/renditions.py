"""One process at a time makes the renditions of an image.

A build renders pages in several forked processes; two of them that need the same new rendition would
both make its file, and the second file to reach the storage gets a random suffix
(`lane.fill-640x360_Ab3dE9f.jpg`). Whichever row wins the insert, the release's file name then depends
on timing, and two builds of the same content differ. The lock is taken in the database, so it also holds
between CMS machines that share one database and one media bucket:
- PostgreSQL: a transaction-level advisory lock per image;
- SQLite: the settings begin every transaction IMMEDIATE, which takes the database's write lock.
Inside the lock the caller looks for the rendition again before making it."""

from __future__ import annotations

import contextlib
import zlib

from django.db import connection, transaction

LOCK_NAMESPACE = zlib.crc32(b"xiaoge.rendition")  # the first key of PostgreSQL's two-key advisory locks


@contextlib.contextmanager
def rendition_lock(image_pk: int):
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Two 32-bit keys: the namespace, and the image's id folded into a signed 32-bit integer.
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [LOCK_NAMESPACE - 2**31, (image_pk % 2**32) - 2**31],
                )
        yield
