"""Writing a release's files: compressed twins, new inodes, hard links and hard-link copies.

A release made of hard links shares its files with the live release: a file there is written beside its
name and renamed over it, never written through.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import subprocess
import time
from pathlib import Path

import brotli

COMPRESSIBLE = {".html", ".css", ".js", ".json", ".xml", ".txt", ".svg", ".webmanifest", ".map", ".bin"}


LARGE = 1 << 20


def compress_data(data: bytes, suffix: str, best: bool = False) -> list[tuple[str, bytes]]:
    """The .gz and .br twins worth writing for a file. Pages use Brotli 7 (a third of a millisecond, within
    2 % of the size of level 9); files over 64 KB (the API index, the sitemap: rebuilt on every publish)
    Brotli 5, a third of the time of 7 for within 3 % of its size; over 1 MB (those of a large site: 5 MB
    and 3 MB at 20,000 stories) Brotli 3 and gzip 1: the API index's twins in 24 ms instead of 67, 0.6 %
    and 7 % larger. Static assets, few and cached for a year, use the best level."""
    if suffix not in COMPRESSIBLE or len(data) < 256:
        return []
    out = []
    size = len(data)
    gz = gzip.compress(data, compresslevel=9 if size < 65536 else 6 if size < LARGE else 1, mtime=0)
    if len(gz) < len(data):
        out.append((".gz", gz))
    br = brotli.compress(data, quality=11 if best else 7 if size < 65536 else 5 if size < LARGE else 3)
    if len(br) < len(data):
        out.append((".br", br))
    return out


def write_new(path: Path, data: bytes):
    """Write a file as a new inode (write beside it, then rename over it): never through a hard link."""
    tmp = path.with_name(path.name + ".tmp-write")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def put_file(path: Path, data: bytes):
    """Write a file and its compressed twins as new inodes (never through a hard link)."""
    write_new(path, data)
    for suffix, packed in compress_data(data, path.suffix):
        write_new(path.with_name(path.name + suffix), packed)


def compress_twins(path: Path) -> list[str]:
    """Write .gz and .br beside a static asset; return the suffixes written."""
    written = []
    for suffix, packed in compress_data(path.read_bytes(), path.suffix, best=True):
        write_new(path.with_name(path.name + suffix), packed)
        written.append(suffix)
    return written


def link_or_copy(src: Path, dst: Path):
    """Make dst a link to (or a copy of) src. An existing dst is replaced by a rename, never written through:
    in a release made from hard links it is the live release's file too."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
        return
    except OSError:  # dst exists (replace it, below) or src is on another file system (copy it)
        pass
    tmp = dst.with_name(dst.name + ".tmp-link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def start_linked_copy(src: Path, dst: Path) -> subprocess.Popen:
    """Start `cp -al src dst` (a copy of a release made of hard links) and return at once."""
    return subprocess.Popen(["cp", "-al", str(src), str(dst)])  # noqa: S603,S607


def linked_copy(src: Path, dst: Path):
    """`cp -al src dst`: a copy of a release made of hard links (raises if it fails)."""
    subprocess.run(["cp", "-al", str(src), str(dst)], check=True)  # noqa: S603,S607


TRASH_PREFIX = ".trash-"


def discard(folder: Path):
    """Remove a folder of the site (an old release, a spare copy, a killed build's folder). It is renamed out
    of the way at once (one rename) and removed by a `rm -rf` at the lowest priority in the background: a
    release of a large site is 150,000 files and 50,000 folders, 10 s of unlinking that must not hold up the
    next publish. A trash folder whose removal was killed is removed by the next call for it
    (remove_trash)."""
    if not folder.exists():
        return
    trash = folder.with_name(f"{TRASH_PREFIX}{folder.name}-{os.getpid()}-{time.monotonic_ns()}")
    os.rename(folder, trash)
    subprocess.Popen(  # noqa: S603
        ["nice", "-n", "19", "rm", "-rf", "--", str(trash)],  # noqa: S607
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def remove_trash(folder: Path, older_than: float = 600):
    """Trash folders under `folder` left by a removal that did not finish (the machine restarted): removed in
    the background again once they are older than `older_than` seconds (younger ones are being removed)."""
    now = time.time()
    for trash in folder.glob(f"{TRASH_PREFIX}*"):
        with contextlib.suppress(OSError):
            if now - trash.stat().st_mtime > older_than:
                discard(trash)
