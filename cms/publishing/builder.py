"""Build a release of the public site, verify it, and make it live with one atomic rename.

A build runs as its stages (Builder._run): collect the routes and their signatures, decide what changed
against the live release's manifest, stage the new release (render what changed, share the rest by hard
link), verify it, update its search index, go live (the swap), record its size; then fold the search
index into a new base if it asks for it, and prune old releases. Where the release lives and how it is
swapped, kept and rolled back is releases.py; rendering is render.py and render_pool.py.

A build that fails or is killed at any moment leaves site/current untouched.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from .changes import Changes, asset_users, changed_routes, changes_among, files_linking_to
from .compaction import fold_search_index, search_is_stale
from .files import compress_twins as compress_twins  # importable from here as before (bench/search_bench.py)
from .files import put_file, start_linked_copy
from .housekeeping import check_signatures, idle_housekeeping, record_size
from .models import BuildRequest, Release
from .releases import (
    BuildFailed,
    SearchDocs,
    build_lock,
    current_release_dir,
    keep_unsaved_manifest,
    kept_search_docs,
    load_manifest,
    new_release_name,
    prune_releases,
    record_page_states,
    remove_unfinished,
    save_manifest,
    site_dir,
    spare_dir,
    swap,
)
from .render import Rendered
from .render_pool import PARALLEL_THRESHOLD, render_routes
from .routes import collect, site_root, tree_digest
from .search import UpdateResult, prune_records, update_index
from .spare import prepare_spare, recycle
from .stage import copy_assets, copy_static_file, manifest_entry, move_rendered, remove_assets
from .targets import sync_live_quietly
from .verify import verify_release
from .worker import worker

logger = logging.getLogger(__name__)


@dataclass
class BuildResult:
    release: Release | None
    rendered: int = 0
    files: int = 0
    pages: int = 0
    bytes: int = 0
    seconds: float = 0.0
    skipped: bool = False
    problems: list[str] = field(default_factory=list)


class Builder:
    def __init__(
        self,
        *,
        full: bool = False,
        reason: str = "",
        progress: Callable | None = None,
        keep: int | None = None,
        on_live: Callable[[], object] | None = None,
        changed: set[int] | None = None,
        housekeeping: bool = True,
    ):
        self.full = full
        # The release's size and pruning old releases right after the build (the command), or when the worker
        # is idle (process_requests: a burst of publishes does not wait for them).
        self.housekeeping = housekeeping
        # The pages published or unpublished since this process's last build (BuildRequest.pages), if known:
        # the signatures are then brought up to date from that build's (routes.collect) instead of read anew.
        self.changed = None if full else changed
        # Called as soon as the release is live here, before the housekeeping after it (its size, the search
        # index's compaction, pruning old releases: seconds at 2,000 stories): the publish targets' sync.
        self.on_live = on_live
        self.reason = reason
        self.progress = progress or (lambda stage, done, total: None)
        self.keep = keep or settings.SITE_RELEASES_KEEP
        self.root = site_dir()
        self.copy_mode = ""  # how an incremental build got its copy of the live release
        self.compacted = False  # whether this build made a new base of the search index
        self.assets: list[str] = []

    def ensure_static(self) -> str:
        """Collect static files with hashed names once per change of the sources."""
        source_digest = tree_digest(*[Path(d) for d in settings.STATICFILES_DIRS])
        stamp = Path(settings.STATIC_ROOT) / ".source-digest"
        if not stamp.exists() or stamp.read_text() != source_digest:
            call_command("collectstatic", interactive=False, verbosity=0)
            stamp.write_text(source_digest)
        return source_digest

    def lap(self, stage: str):
        now = time.monotonic()
        self.timings[stage] = round(now - self._lap, 3)
        self._lap = now

    def run(self) -> BuildResult:
        # No cyclic garbage collection while a small build is on the publish path: a full collection of a
        # warm worker's heap takes up to 0.1 s. Large builds turn it back on once they know their size.
        self.gc_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if self.gc_enabled:
                gc.enable()

    def _run(self) -> BuildResult:
        self.started = self._lap = time.monotonic()
        self.timings: dict[str, float] = {}
        self.collect_routes()
        live_dir = current_release_dir()
        changes = self.decide_what_changed(live_dir)
        if len(changes.todo) >= PARALLEL_THRESHOLD and self.gc_enabled:
            gc.enable()
        remove_unfinished()
        if not changes.todo and not changes.removed and changes.previous:
            return self.nothing_changed(live_dir, changes)
        release, out = self.open_release(changes)
        try:
            files = self.stage_release(changes, live_dir, out)
            self.verify(out, files, changes)
            search = self.update_search_index(out, files, changes)
            self.go_live(release, out, files, search.state, rendered=len(changes.todo))
        except BaseException as exc:
            self.fail(release, out, exc)
            raise
        if self.on_live is not None:
            self.on_live()
        if self.housekeeping:
            record_size(release, out)
        if search.needs_compaction:
            self.fold_search_index(out, files, release)
        if self.housekeeping or self.compacted:
            self.prune()
        return BuildResult(
            release,
            rendered=len(changes.todo),
            files=release.files,
            pages=release.pages,
            bytes=release.bytes,
            seconds=release.seconds,
        )

    # -- the stages, in order -------------------------------------------------------------------------

    def collect_routes(self):
        """Every route of the public site with its signature (and the page types' state for the render)."""
        static_digest = self.ensure_static()
        self.site = site_root()
        # The last pass of this process, if its release is still the live one (another process or machine
        # may have built since: then it reads everything). Taken away until this build is live: a build that
        # fails leaves no pass behind, and the next one reads everything.
        previous, worker.signatures = worker.signatures, None
        live = current_release_dir()
        if previous is not None and (live is None or previous[0] != live.name):
            previous = None
        self.sig = collect(self.site, static_digest, previous and previous[1], self.changed)
        self.state = self.sig.state
        self.routes, self.revisions, self.glob = self.sig.routes, self.sig.revisions, self.sig.glob
        self.lap("signatures")

    def decide_what_changed(self, live_dir: Path | None) -> Changes:
        """The routes to render: those whose signature changed, and kept files that link to a page leaving
        the release (their rich-text link to a page that is no longer public becomes plain words, see
        PublicPageLinkHandler)."""
        if live_dir and live_dir.name in worker.unsaved_manifests:
            with contextlib.suppress(OSError):  # still full: build from the kept one, and try again next time
                save_manifest(live_dir.name, worker.unsaved_manifests[live_dir.name])
        previous = load_manifest(live_dir.name) if live_dir and not self.full else {}
        changes = Changes(previous, [], set())
        routes, prev_files = self.routes, changes.prev_files
        among = None
        if self.sig.touched is not None and prev_files and not self.full:
            among = changes_among(routes, prev_files, self.sig.touched)
            if among is None:
                logger.warning("按改动更新的路由与上线版本的清单对不上：逐一比较全部路由")
        if among is not None:
            changes.todo, changes.removed = among
        else:
            changes.todo = changed_routes(routes, prev_files, self.full)
            changes.removed = set(prev_files) - {r.file for r in routes.values()}
        if changes.removed and not self.full:
            linking = files_linking_to(changes.removed, prev_files, {r.file for r in changes.todo})
            changes.todo += [r for r in routes.values() if r.file in linking]
        return changes

    def nothing_changed(self, live_dir: Path, changes: Changes) -> BuildResult:
        self.sig.in_sync = True
        worker.signatures = (live_dir.name, self.sig)
        live_release = Release.objects.filter(name=live_dir.name).first()
        if live_release and search_is_stale(live_release):
            # A build killed while it made the search index: the pages are live, their index is not.
            self.fold_search_index(live_dir, changes.prev_files, live_release)
            return BuildResult(live_release, rendered=0, seconds=time.monotonic() - self.started)
        return BuildResult(None, skipped=True, seconds=time.monotonic() - self.started)

    def open_release(self, changes: Changes) -> tuple[Release, Path]:
        name = new_release_name()
        release = Release.objects.create(name=name, full=self.full or not changes.previous, reason=self.reason[:200])
        out = self.root / "releases" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        self.lap("prepare")
        return release, out

    def stage_release(self, changes: Changes, live_dir: Path | None, out: Path) -> dict:
        """Render what changed; share everything else with the live release by hard links; add assets.
        Returns the new release's manifest entries ({file: what it was made from}).

        Incremental builds start from a hard-link copy of the live release: the spare one the worker made
        while idle (spare.prepare_spare), else a release old enough to be pruned brought up to date (a
        link per changed file), or else `cp -al` on the other core while pages render into a staging
        folder. They then move the rendered files in, replacing links rather than writing through
        them (a linked file is the live release's file too), and remove what the new release no longer has.
        """
        todo, prev_files = changes.todo, changes.prev_files
        todo_files = {r.file for r in todo}
        # The routes' files are the manifest's, less those leaving, plus new ones (all of them rendered).
        # Each asset's users, from the live release's counts: not a union over every file's list.
        files: dict[str, dict] = dict(prev_files)
        counts = asset_users(live_dir.name if live_dir is not None and prev_files else None, prev_files)
        for rel in changes.removed | todo_files:
            counts.subtract(files.pop(rel, {}).get("assets", ()))
        incremental = live_dir is not None and bool(prev_files)
        target = out.with_name(out.name + ".render") if incremental else out
        target.mkdir(parents=True, exist_ok=True)
        copier = None
        if incremental:
            spare = spare_dir(live_dir)
            if spare.is_dir():  # the idle worker's copy of the live release: no copying on the publish path
                os.rename(spare, out)
                self.copy_mode = "备用副本"
            elif (done := recycle(live_dir, changes.previous, out, self.keep)) is not None:
                self.copy_mode = f"旧版本文件夹改了 {done} 个文件"
                self.lap("recycle")
            else:
                self.copy_mode = "cp -al"
                copier = start_linked_copy(live_dir, out)
        self.progress("render", 0, len(todo))
        try:
            rendered: list[Rendered] = render_routes(
                self.site,
                todo,
                target,
                self.routes,
                self.state,
                progress=lambda d, t: self.progress("render", d, t),
                pages=self.sig.pages,
                sitemap=self.sig.bucket_urls,
            )
        finally:
            self.lap("render")
            if copier is not None and copier.wait() != 0:
                raise BuildFailed("无法用硬链接复制上一个发布版本（cp -al 失败）")
            if copier is not None:
                self.lap("cp-wait")
        by_file = {r.file: r for r in todo}
        for item in rendered:
            files[item.file] = manifest_entry(item, by_file[item.file].signature)
            counts.update(item.assets)
        if incremental:
            move_rendered(target, out, rendered, prev_files, changes.removed)
        assets = sorted(a for a, n in counts.items() if n > 0)
        self.asset_counts = +counts  # the users of each asset still used
        if incremental:
            remove_assets(out, set(changes.previous.get("assets", [])) - set(assets))
        copy_assets(assets, live_dir, out)
        self.assets = assets
        for extra in settings.SITE_EXTRA_FILES:
            copy_static_file(extra, out)
        self.lap("move+assets")
        return files

    def verify(self, out: Path, files: dict, changes: Changes):
        self.progress("verify", 0, 1)
        problems = verify_release(out, self.routes, files, {r.file for r in changes.todo}, changes.removed)
        self.lap("verify")
        if problems:
            raise BuildFailed("发布前检查未通过，线上网站保持不变", problems)

    def update_search_index(self, out: Path, files: dict, changes: Changes) -> UpdateResult:
        """The release's search index: its delta rebuilt, or a new base for a full (or first) build."""
        self.progress("search", 0, 1)
        previous = changes.previous
        compact = self.full or not previous
        touched = {r.file for r in changes.todo} | changes.removed
        search = update_index(
            out, SearchDocs(files), previous.get("search"), put_file, compact=compact, touched=touched
        )
        self.compacted = search.compacted
        self.lap("search")
        return search

    def go_live(self, release: Release, out: Path, files: dict, search_state: dict, *, rendered: int):
        """Swap the release in (from here on it is live), then write its manifest and the pages' states."""
        manifest = {
            "files": files,
            "assets": self.assets,
            "global": self.glob,
            "pages": {str(k): v for k, v in self.revisions.items()},
            "search": search_state,
        }
        worker.manifests[release.name] = manifest
        swap(out)
        self.sig.in_sync = True
        worker.signatures = (release.name, self.sig)
        worker.asset_counts = (release.name, self.asset_counts)
        self.lap("swap")
        release.report = "用时（秒）：" + "，".join(f"{k} {v}" for k, v in self.timings.items())
        if self.copy_mode:
            release.report += f"（上一版本的硬链接副本：{self.copy_mode}）"
        if self.sig.incremental:
            release.report += f"（签名：按 {len(self.changed)} 个改动的页面更新上一次构建的）"
        Release.objects.filter(status=Release.STATUS_LIVE).update(status=Release.STATUS_SUPERSEDED)
        release.status = Release.STATUS_LIVE
        release.finished_at = timezone.now()
        release.pages = sum(1 for r in self.routes.values() if r.kind == "page")
        release.rendered = rendered
        release.seconds = time.monotonic() - self.started
        release.save()
        # Written after the swap (off the publish path). A build killed before this line leaves a live release
        # without a manifest, and the next build simply renders everything again. A full disk here must not
        # call the live release failed: it is live; the manifest stays in memory and the next build writes it.
        try:
            save_manifest(release.name, manifest)
        except OSError as exc:
            keep_unsaved_manifest(release.name, manifest)
            release.report += f"\n已上线，但构建清单没有写入（{exc}）：下一次构建会再写。"
            release.save(update_fields=["report"])
        record_page_states(release, self.revisions)

    def fail(self, release: Release, out: Path, exc: BaseException):
        """A build that did not go live: its folders are removed and its Release says why."""
        if current_release_dir() != out:
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(out.with_name(out.name + ".render"), ignore_errors=True)
        release.status = Release.STATUS_FAILED
        release.finished_at = timezone.now()
        problems = getattr(exc, "problems", [])
        release.report = f"{exc}\n" + "\n".join(problems)
        release.seconds = time.monotonic() - self.started
        release.save()

    # -- after the publish ----------------------------------------------------------------------------

    def fold_search_index(self, live: Path, files: dict, live_release: Release):
        """The search index's delta folded into a new base, in a release of its own (compaction.py)."""
        if fold_search_index(live, files, live_release, self.progress):
            self.compacted = True

    def prune(self):
        """Old releases beyond SITE_RELEASES_KEEP; after a new base of the search index, the search records
        no kept release uses (pages edited or removed since: a compaction reads them all anyway, and it is
        rare)."""
        prune_releases(self.keep)
        if self.compacted:
            prune_records(kept_search_docs())


def build_site(*, full=False, reason="", progress=None) -> BuildResult:
    with build_lock():
        return Builder(full=full, reason=reason, progress=progress).run()


def process_requests() -> list[BuildResult]:
    """Build once for all pending requests; repeat while new ones arrive. Returns at once if a build runs."""
    results = []
    while True:
        with build_lock(blocking=False) as acquired:
            if not acquired:
                return results
            pending = list(BuildRequest.objects.filter(done=False))
            if not pending:
                sync_live_quietly()  # a target that failed or was killed mid-sync catches up
                try:
                    prepare_spare()  # idle: get the next build's copy of the live release ready
                except Exception:  # the next build copies the release itself
                    logger.exception("无法准备上线版本的硬链接副本")
                for idle_work in (idle_housekeeping, check_signatures):
                    if BuildRequest.objects.filter(done=False).exists():
                        break
                    idle_work()
                if BuildRequest.objects.filter(done=False).exists():
                    continue  # a request arrived meanwhile
                return results
            full = any(r.full for r in pending)
            reason = "；".join(sorted({r.reason for r in pending}))[:200]
            changed = None if any(r.pages is None for r in pending) else {pk for r in pending for pk in r.pages}
            try:
                # The publish targets (buckets) as soon as the release is live here; again after the build, for
                # a search-index release its housekeeping made.
                builder = Builder(
                    full=full, reason=reason, on_live=sync_live_quietly, changed=changed, housekeeping=False
                )
                try:
                    results.append(builder.run())
                except BuildFailed:
                    if not getattr(getattr(builder, "sig", None), "incremental", False):
                        raise
                    # Brought up to date from the pages the requests named, the pass missed a change the
                    # database has (a link to a page it does not know): read everything and build again,
                    # rather than leave this publish off the site until the next one.
                    logger.warning("按改动更新的签名未通过发布前检查：完整读取后重新构建")
                    retry = f"{reason}（完整读取后重建）"[:200]
                    builder = Builder(full=full, reason=retry, on_live=sync_live_quietly, housekeeping=False)
                    results.append(builder.run())
                sync_live_quietly()
            finally:
                # Only the requests this build read: one committed meanwhile with a smaller id (transactions
                # commit in any order) is the next build's, with its pages.
                BuildRequest.objects.filter(pk__in=[r.pk for r in pending]).update(done=True)
