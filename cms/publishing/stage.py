"""Putting a new release together in its folder: the files rendered for it moved in, the files it no longer
has removed, and the static files and media its pages use, shared with the live release where it has them.

An incremental build's folder starts as a hard-link copy of the live release: every file there is also the
live release's file, so nothing is written through a name; files are replaced by a rename.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from django.conf import settings

from .files import COMPRESSIBLE, compress_twins, link_or_copy
from .render import Rendered


def manifest_entry(item: Rendered, signature: str) -> dict:
    """What the manifest records of a rendered file."""
    return {
        "sig": signature,
        "sha": item.sha,
        "size": item.size,
        "assets": item.assets,
        "twins": item.twins,
        "links": item.links,
        "problems": item.problems,
        **({"doc": item.doc} if item.doc else {}),
    }


def move_rendered(staging: Path, out: Path, rendered: list[Rendered], prev_files: dict, removed: set[str]):
    """Move the rendered files (and their twins) from the staging folder over the release's links, and
    remove the files the release no longer has."""
    for item in rendered:
        old_twins = set(prev_files.get(item.file, {}).get("twins", []))
        (out / item.file).parent.mkdir(parents=True, exist_ok=True)
        for name in (item.file, *(item.file + t for t in item.twins)):
            os.replace(staging / name, out / name)
        for twin in old_twins - set(item.twins):
            (out / (item.file + twin)).unlink(missing_ok=True)
    for rel in removed:
        for name in (rel, *(rel + t for t in prev_files[rel].get("twins", []))):
            (out / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the page's folder and its parents, if nothing else is in them
            os.removedirs(out / os.path.dirname(rel))
    shutil.rmtree(staging, ignore_errors=True)


def remove_assets(out: Path, unused: set[str]):
    """Assets the release no longer uses (e.g. the images of an unpublished story), with their twins."""
    for rel in unused:
        for name in (rel, rel + ".gz", rel + ".br"):
            (out / name).unlink(missing_ok=True)


def copy_static_file(rel: str, out: Path):
    """An asset at a fixed URL (e.g. the service worker), copied from the collected static files."""
    src = Path(settings.STATIC_ROOT) / rel
    if src.exists():
        link_or_copy(src, out / rel)
        compress_twins(out / rel)


def copy_assets(assets: list[str], live_dir: Path | None, out: Path):
    """The static files and media the release's files use: linked from the live release where it has them,
    else from the collected static files (with twins) and the media folder."""
    static_prefix = settings.STATIC_URL.lstrip("/")
    media_prefix = settings.MEDIA_URL.lstrip("/")
    for rel in assets:
        if (out / rel).exists():
            continue
        if live_dir and (live_dir / rel).exists():
            link_or_copy(live_dir / rel, out / rel)
            for twin in (".gz", ".br"):
                if (live_dir / (rel + twin)).exists():
                    link_or_copy(live_dir / (rel + twin), out / (rel + twin))
            continue
        if rel.startswith(static_prefix):
            src = Path(settings.STATIC_ROOT) / rel[len(static_prefix) :]
            if src.exists():
                link_or_copy(src, out / rel)
                if src.suffix in COMPRESSIBLE:
                    compress_twins(out / rel)
        elif rel.startswith(media_prefix):
            sub = rel[len(media_prefix) :]
            # Only renditions and public documents: never original uploads.
            if sub.startswith(("images/", "documents/")):
                copy_media(sub, out / rel)


def copy_media(name: str, dst: Path) -> bool:
    """A rendition or document from the media storage into a release: a hard link from the local media folder,
    or a download from the media bucket (MEDIA_STORAGE_URL) written beside dst and renamed. False if the
    storage does not have it (the release check then reports the missing file)."""
    from django.core.files.storage import default_storage

    try:
        src = Path(default_storage.path(name))
    except NotImplementedError:  # object storage: no local path
        src = None
    if src is not None:
        if not src.exists():
            return False
        link_or_copy(src, dst)
        return True
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".tmp-media")
    with handle, open(tmp, "wb") as out:
        shutil.copyfileobj(handle, out, 1 << 20)
    os.replace(tmp, dst)
    return True
