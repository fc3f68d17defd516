"""The folder an incremental build starts from: a hard-link copy of the live release.

`cp -al` of the live release costs one link per file (155,000 files at 20,000 stories: 7-15 s of the
machine), and pruning an old release costs one unlink per file again. A release old enough to be pruned
differs from the live one only by what the builds since changed, which the two manifests name. So when one
exists, it is recycled: taken out of the kept releases (as pruning would), renamed, and brought to the live
release's state with one link or unlink per changed file. Otherwise the copy is made with `cp -al`.

Files are only ever replaced by a rename or unlinked, never written through: every file of the recycled
folder is also a file of the releases it was linked with.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from django.conf import settings

from .files import discard, link_or_copy, linked_copy
from .models import Release
from .releases import SPARE_PREFIX, current_release_dir, load_manifest, site_dir, spare_dir
from .search import INDEX_DIR

logger = logging.getLogger(__name__)


def twins_of(meta: dict) -> list[str]:
    return list(meta.get("twins", ()))


def prunable(keep: int, live: Path) -> tuple[Release, Path, dict] | None:
    """The newest release that pruning would remove (superseded, beyond the newest `keep` - 1), with its
    folder and its manifest: the one closest to the live release."""
    for release in Release.objects.filter(status=Release.STATUS_SUPERSEDED).order_by("-pk")[keep - 1 :]:
        folder = site_dir() / "releases" / release.name
        if folder == live or not folder.is_dir():
            continue
        manifest = load_manifest(release.name)
        if manifest.get("files"):
            return release, folder, manifest
    return None


def same_inode(a: Path, b: Path) -> bool:
    try:
        sa, sb = a.stat(), b.stat()
    except FileNotFoundError:
        return False
    return (sa.st_ino, sa.st_dev) == (sb.st_ino, sb.st_dev)


def relink(live: Path, dst: Path, names: list[str], old_names: list[str] = ()):
    """dst's `names` made the live release's files; `old_names` that are not among them removed."""
    for name in names:
        link_or_copy(live / name, dst / name)
    for name in set(old_names) - set(names):
        (dst / name).unlink(missing_ok=True)


def remove_file(dst: Path, names: list[str]):
    for name in names:
        (dst / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # its folder and the parents, if nothing else is in them
        os.removedirs(dst / os.path.dirname(names[0]))


def sync_folder(live: Path, dst: Path, sub: str):
    """The files of a folder the manifests do not list file by file (the search index, the top folder):
    dst's made the live one's, by comparing the inodes that listing the two folders gives."""
    src, out = live / sub, dst / sub
    theirs = {e.name: e.inode() for e in os.scandir(src) if e.is_file()} if src.is_dir() else {}
    ours = {e.name: e.inode() for e in os.scandir(out) if e.is_file()} if out.is_dir() else {}
    for name, inode in theirs.items():
        if ours.get(name) != inode:
            link_or_copy(src / name, out / name)
    for name in ours.keys() - theirs.keys():
        (out / name).unlink(missing_ok=True)


def bring_up_to_date(dst: Path, old: dict, live: Path, new: dict) -> int:
    """Make dst (a folder holding the release `old` describes) hold the live release (`new` describes it).
    Returns how many files were linked or removed."""
    done = 0
    old_files, new_files = old.get("files", {}), new.get("files", {})
    for rel, meta in new_files.items():
        prev = old_files.get(rel)
        if prev is None or prev.get("sha") != meta.get("sha") or twins_of(prev) != twins_of(meta):
            names = [rel, *(rel + t for t in twins_of(meta))]
            relink(live, dst, names, [rel + t for t in twins_of(prev or {})])
            done += len(names)
    for rel in old_files.keys() - new_files.keys():
        remove_file(dst, [rel, *(rel + t for t in twins_of(old_files[rel]))])
        done += 1
    # Assets: media can be replaced under the same name, so each is compared by inode (a few thousand).
    old_assets, new_assets = set(old.get("assets", ())), set(new.get("assets", ()))
    for rel in old_assets - new_assets:
        remove_file(dst, [rel, rel + ".gz", rel + ".br"])
        done += 1
    for rel in new_assets:
        for name in (rel, rel + ".gz", rel + ".br"):
            if (live / name).exists():
                if not same_inode(live / name, dst / name):
                    link_or_copy(live / name, dst / name)
                    done += 1
            elif name != rel:
                (dst / name).unlink(missing_ok=True)
    # The search index, and the folders of files at fixed URLs (SITE_EXTRA_FILES; the top folder, where a
    # file no longer wanted would otherwise stay), which the manifest does not list.
    for folder in {INDEX_DIR, "", *(os.path.dirname(extra) for extra in settings.SITE_EXTRA_FILES)}:
        sync_folder(live, dst, folder)
    return done


def recycle(live: Path, live_manifest: dict, dst: Path, keep: int) -> int | None:
    """dst made a copy of the live release from a release pruning would remove; None if there is none (or
    the live release has no manifest). The old release is retired first, as pruning would: from then on
    nobody can roll back to it, and a build killed while its folder is brought up to date leaves a folder
    that remove_unfinished discards."""
    if not live_manifest.get("files"):
        return None
    found = prunable(keep, live)
    if found is None:
        return None
    release, folder, manifest = found
    release.status = Release.STATUS_PRUNED
    release.save(update_fields=["status"])
    (site_dir() / "manifests" / f"{release.name}.json").unlink(missing_ok=True)
    os.rename(folder, dst)
    done = bring_up_to_date(dst, manifest, live, live_manifest)
    logger.info("用旧版本 %s 的文件夹做上线版本的副本：改了 %s 个文件", release.name, done)
    return done


def prepare_spare(keep: int | None = None) -> Path | None:
    """While the worker is idle (with the build lock held): a hard-link copy of the live release, which
    the next incremental build renames into its new release folder instead of copying on the publish
    path. Made under a .part name (recycled from a release pruning would remove, else `cp -al`) and
    renamed when complete; never written to (builds replace files in it by rename). Spares of other
    releases are removed."""
    live = current_release_dir()
    if live is None:
        return None
    spare = spare_dir(live)
    for folder in live.parent.iterdir():
        if folder.name.startswith(SPARE_PREFIX) and folder != spare:
            discard(folder)
    if not spare.is_dir():
        part = spare.with_name(spare.name + ".part")
        if recycle(live, load_manifest(live.name), part, keep or settings.SITE_RELEASES_KEEP) is None:
            linked_copy(live, part)
        os.rename(part, spare)
    return spare
