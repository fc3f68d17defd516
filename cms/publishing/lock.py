"""One build at a time: across processes on one machine, and across CMS machines that share PostgreSQL.

- PostgreSQL: a session-level advisory lock, held on a connection of its own for the whole build. Several CMS
  machines share the database but each has its own site folder, so a lock file in that folder would let
  two of them build (and sync the bucket) at once. The lock's connection is not one of Django's: a build
  closes Django's connections before it forks render workers, which would release a lock held on them.
  If that connection is lost, PostgreSQL releases the lock (a dead machine never holds it).
- SQLite: a lock file in the site folder (flock). SQLite means one machine: its file cannot be shared safely.
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

# PostgreSQL's two-key advisory locks: (namespace, 0). The renditions' lock uses another namespace.
LOCK_NAMESPACE = zlib.crc32(b"xiaoge.build") - 2**31


@contextmanager
def build_lock(blocking: bool = True) -> Iterator[bool]:
    """Yields True with the lock held, or False at once when blocking is False and another process holds it."""
    lock = database_lock if connection.vendor == "postgresql" else file_lock
    with lock(blocking) as acquired:
        yield acquired


@contextmanager
def database_lock(blocking: bool) -> Iterator[bool]:
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        with raw.cursor() as cursor:
            if blocking:
                cursor.execute("SELECT pg_advisory_lock(%s, 0)", [LOCK_NAMESPACE])
                acquired = True
            else:
                cursor.execute("SELECT pg_try_advisory_lock(%s, 0)", [LOCK_NAMESPACE])
                acquired = bool(cursor.fetchone()[0])
        yield acquired
    finally:
        raw.close()  # ends the session, which releases the lock


@contextmanager
def file_lock(blocking: bool) -> Iterator[bool]:
    folder = Path(settings.SITE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
