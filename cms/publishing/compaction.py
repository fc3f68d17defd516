"""Folding the search index's delta into a new base, in a release of its own, after a publish is live.

Past DELTA_LIMIT (search/index.py) the build makes a hard-link copy of the live release with a new base
index and swaps it in when ready: its Release has `content_of` set to the page release it indexes (rollback
treats the pair as one). Killed while it works, the live site keeps the delta, and the next build, finding
nothing else to do, does the job (search_is_stale).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from django.utils import timezone

from .files import linked_copy, put_file
from .models import PageState, Release
from .releases import (
    BuildFailed,
    current_release_dir,
    keep_unsaved_manifest,
    load_manifest,
    new_release_name,
    save_manifest,
    search_docs,
    site_dir,
    swap,
)
from .search import update_index
from .worker import worker


def fold_search_index(live: Path, files: dict, live_release: Release, progress) -> bool:
    """Fold the search index's delta into a new base: a copy of the live release (hard links) with the
    new index, swapped in when ready. The publish that asked for it is already live with the delta.
    Returns whether a new base was made (the search records it no longer uses may then be pruned)."""
    started = time.monotonic()
    name = new_release_name()
    release = Release.objects.create(name=name, reason=f"更新搜索索引（{live_release.name}）", content_of=live_release)
    out = site_dir() / "releases" / name
    manifest = dict(load_manifest(live_release.name) or worker.manifests.get(live_release.name, {}))
    compacted = False
    try:
        linked_copy(live, out)
        progress("search", 0, 1)
        manifest["search"] = update_index(out, search_docs(files), None, put_file, compact=True).state
        compacted = True
        if current_release_dir() != live:
            raise BuildFailed("搜索索引完成前线上版本已被替换，本次索引作废")
        swap(out)
    except BaseException as exc:
        shutil.rmtree(out, ignore_errors=True)
        release.status, release.report = Release.STATUS_FAILED, str(exc)
        release.save()
        if isinstance(exc, BuildFailed):
            return compacted
        raise
    # Live from here on: a full disk while writing the manifest must not remove or fail it.
    try:
        save_manifest(name, manifest)
    except OSError as exc:
        keep_unsaved_manifest(name, manifest)
        release.report = f"已上线，但构建清单没有写入（{exc}）：下一次构建会再写。"
    Release.objects.filter(pk=live_release.pk).update(status=Release.STATUS_SUPERSEDED)
    release.status = Release.STATUS_LIVE
    release.finished_at = timezone.now()
    release.pages, release.files, release.bytes = live_release.pages, live_release.files, live_release.bytes
    release.seconds = time.monotonic() - started
    release.save()
    PageState.objects.filter(release=live_release).update(release=release)
    return compacted


def search_is_stale(live_release: Release) -> bool:
    """True when the live release is a page release whose search-index release never went live."""
    if live_release.content_of_id is not None:
        return False
    followers = Release.objects.filter(content_of=live_release)
    return (
        followers.exists()
        and not followers.filter(
            status__in=[Release.STATUS_LIVE, Release.STATUS_SUPERSEDED, Release.STATUS_PRUNED]
        ).exists()
    )
