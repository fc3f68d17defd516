"""Build a release of the public site, verify it, and make it live with one atomic rename.

    site/releases/<name>/     one folder per release (files shared with the previous one by hard link)
    site/manifests/<name>.json what each file was made from (signatures, digests, links): not public
    site/current -> releases/<name>   the live release; only swap() changes it, with os.replace

A build that fails or is killed at any moment leaves site/current untouched.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import gzip
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import brotli
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Page

from .models import BuildRequest, PageState, Release
from .render import PARALLEL_THRESHOLD, Rendered, render_routes
from .routes import Route, collect_routes, site_root, tree_digest
from .search import prune_records, update_index
from .verify import verify_release

logger = logging.getLogger(__name__)

COMPRESSIBLE = {".html", ".css", ".js", ".json", ".xml", ".txt", ".svg", ".webmanifest", ".map", ".bin"}


class BuildFailed(Exception):
    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


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


def site_dir() -> Path:
    return Path(settings.SITE_DIR)


def current_release_dir() -> Path | None:
    current = site_dir() / "current"
    return current.resolve() if current.is_symlink() else None


_manifest_cache: dict[str, dict] = {}  # the last manifest this process wrote: a warm worker skips reading it
# Manifests of live releases that a full disk kept from being written. The next build in this process writes
# them first and, failing that, still builds incrementally from them: without a manifest a build renders the
# whole site into fresh files, which needs a release's worth of free space, more than a nearly full disk has.
_unsaved_manifests: dict[str, dict] = {}


def load_manifest(name: str) -> dict:
    if name in _manifest_cache:
        return _manifest_cache[name]
    if name in _unsaved_manifests:
        return _unsaved_manifests[name]
    path = site_dir() / "manifests" / f"{name}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def save_manifest(name: str, manifest: dict):
    path = site_dir() / "manifests" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    try:
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    _manifest_cache.clear()
    _manifest_cache[name] = manifest
    _unsaved_manifests.pop(name, None)


def keep_unsaved_manifest(name: str, manifest: dict):
    """A live release's manifest that could not be written (full disk): kept for the next build."""
    _unsaved_manifests.clear()  # only the live release's matters
    _unsaved_manifests[name] = manifest


@contextmanager
def build_lock(blocking: bool = True):
    """One build at a time, across processes."""
    site_dir().mkdir(parents=True, exist_ok=True)
    with open(site_dir() / ".build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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


def write_new(path: Path, data: bytes):
    """Write a file as a new inode (write beside it, then rename over it): never through a hard link."""
    tmp = path.with_name(path.name + ".tmp-write")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def compress_data(data: bytes, suffix: str, best: bool = False) -> list[tuple[str, bytes]]:
    """The .gz and .br twins worth writing for a file. Pages use Brotli 7 (a third of a millisecond, within
    2 % of the size of level 9); files over 64 KB (the API index, the sitemap: rebuilt on every publish)
    Brotli 5, a third of the time of 7 for within 3 % of its size; static assets, few and cached for a
    year, use the best level."""
    if suffix not in COMPRESSIBLE or len(data) < 256:
        return []
    out = []
    gz = gzip.compress(data, compresslevel=9 if len(data) < 65536 else 6, mtime=0)
    if len(gz) < len(data):
        out.append((".gz", gz))
    br = brotli.compress(data, quality=11 if best else 7 if len(data) < 65536 else 5)
    if len(br) < len(data):
        out.append((".br", br))
    return out


def put_file(path: Path, data: bytes):
    """Write a file and its compressed twins as new inodes (never through a hard link)."""
    write_new(path, data)
    for suffix, packed in compress_data(data, path.suffix):
        write_new(path.with_name(path.name + suffix), packed)


def search_docs(files: dict) -> dict[str, str]:
    """{release file: search record digest} of the pages a manifest lists."""
    return {rel: meta["doc"] for rel, meta in files.items() if meta.get("doc")}


def compress_twins(path: Path) -> list[str]:
    """Write .gz and .br beside a static asset; return the suffixes written."""
    written = []
    for suffix, packed in compress_data(path.read_bytes(), path.suffix, best=True):
        write_new(path.with_name(path.name + suffix), packed)
        written.append(suffix)
    return written


class Builder:
    def __init__(
        self, *, full: bool = False, reason: str = "", progress: Callable | None = None, keep: int | None = None
    ):
        self.full = full
        self.reason = reason
        self.progress = progress or (lambda stage, done, total: None)
        self.keep = keep or settings.SITE_RELEASES_KEEP
        self.root = site_dir()
        self.copy_mode = ""  # how an incremental build got its copy of the live release

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
        started = self._lap = time.monotonic()
        self.timings: dict[str, float] = {}
        static_digest = self.ensure_static()
        site = site_root()
        self.state: dict = {}
        routes, revisions, glob = collect_routes(site, static_digest, self.state)
        self.lap("signatures")
        live_dir = current_release_dir()
        if live_dir and live_dir.name in _unsaved_manifests:
            with contextlib.suppress(OSError):  # still full: build from the kept one, and try again next time
                save_manifest(live_dir.name, _unsaved_manifests[live_dir.name])
        previous = load_manifest(live_dir.name) if live_dir and not self.full else {}
        prev_files = previous.get("files", {})
        todo = [r for r in routes.values() if self.full or prev_files.get(r.file, {}).get("sig") != r.signature]
        removed = set(prev_files) - {r.file for r in routes.values()}
        if removed and not self.full:
            # A kept file that links to a page leaving the release is rendered again: its rich-text link to
            # a page that is no longer public becomes plain words (PublicPageLinkHandler).
            todo_files = {r.file for r in todo}
            linking = {
                rel for rel, meta in prev_files.items()
                if rel not in todo_files and rel not in removed and removed.intersection(meta.get("links", ()))
            }  # fmt: skip
            todo += [r for r in routes.values() if r.file in linking]
        if len(todo) >= PARALLEL_THRESHOLD and self.gc_enabled:
            gc.enable()
        self.cleanup_stale()
        if not todo and not removed and previous:
            live_release = Release.objects.filter(name=live_dir.name).first()
            if live_release and self.search_is_stale(live_release):
                # A build killed while it made the search index: the pages are live, their index is not.
                self.refresh_search(live_dir, prev_files, live_release)
                return BuildResult(live_release, rendered=0, seconds=time.monotonic() - started)
            return BuildResult(None, skipped=True, seconds=time.monotonic() - started)

        name = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        release = Release.objects.create(name=name, full=self.full or not previous, reason=self.reason[:200])
        out = self.root / "releases" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        self.lap("prepare")
        try:
            manifest_files = self.assemble(site, routes, todo, prev_files, live_dir, out, previous)
            self.lap("move+assets")
            self.progress("verify", 0, 1)
            problems = verify_release(out, routes, manifest_files, {r.file for r in todo}, removed)
            self.lap("verify")
            if problems:
                raise BuildFailed("发布前检查未通过，线上网站保持不变", problems)
            self.progress("search", 0, 1)
            search = update_index(
                out, search_docs(manifest_files), previous.get("search"), put_file, compact=self.full or not previous
            )
            self.search_state = search.state
            self.compacted = search.compacted
            self.lap("search")
            self.finish(release, out, manifest_files, routes, revisions, glob, len(todo), started)
        except BaseException as exc:
            if current_release_dir() != out:
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(out.with_name(out.name + ".render"), ignore_errors=True)
            release.status = Release.STATUS_FAILED
            release.finished_at = timezone.now()
            problems = getattr(exc, "problems", [])
            release.report = f"{exc}\n" + "\n".join(problems)
            release.seconds = time.monotonic() - started
            release.save()
            raise
        self.after_swap(release, out, started)
        if search.needs_compaction:
            self.refresh_search(out, manifest_files, release)
        self.prune()
        return BuildResult(
            release,
            rendered=len(todo),
            files=release.files,
            pages=release.pages,
            bytes=release.bytes,
            seconds=release.seconds,
        )

    def assemble(self, site, routes, todo: list[Route], prev_files, live_dir, out: Path, previous: dict) -> dict:
        """Render what changed; share everything else with the live release by hard links; add assets.

        Incremental builds start from a hard-link copy of the live release: the spare one the worker made
        while idle (see prepare_spare), or else `cp -al` on the other core while pages render into a
        staging folder. They then move the rendered files in, replacing links rather than writing through
        them (a linked file is the live release's file too), and remove what the new release no longer has.
        """
        files: dict[str, dict] = {}
        todo_files = {r.file for r in todo}
        for route in routes.values():
            if route.file not in todo_files:
                files[route.file] = prev_files[route.file]
        incremental = live_dir is not None and bool(prev_files)
        target = out.with_name(out.name + ".render") if incremental else out
        target.mkdir(parents=True, exist_ok=True)
        copier = None
        if incremental:
            spare = spare_dir(live_dir)
            if spare.is_dir():  # the idle worker's copy of the live release: no copying on the publish path
                os.rename(spare, out)
                self.copy_mode = "备用副本"
            else:
                self.copy_mode = "cp -al"
                copier = subprocess.Popen(["cp", "-al", str(live_dir), str(out)])  # noqa: S603,S607
        self.progress("render", 0, len(todo))
        try:
            rendered: list[Rendered] = render_routes(
                site, todo, target, routes, self.state, progress=lambda d, t: self.progress("render", d, t)
            )
        finally:
            self.lap("render")
            if copier is not None and copier.wait() != 0:
                raise BuildFailed("无法用硬链接复制上一个发布版本（cp -al 失败）")
            if copier is not None:
                self.lap("cp-wait")
        by_file = {r.file: r for r in todo}
        for item in rendered:
            files[item.file] = {
                "sig": by_file[item.file].signature,
                "sha": item.sha,
                "size": item.size,
                "assets": item.assets,
                "twins": item.twins,
                "links": item.links,
                "problems": item.problems,
                **({"doc": item.doc} if item.doc else {}),
            }
        if incremental:
            self.move_rendered(target, out, rendered, prev_files, set(prev_files) - set(files))
        assets = sorted({a for meta in files.values() for a in meta.get("assets", [])})
        if incremental:
            for rel in set(previous.get("assets", [])) - set(assets):  # e.g. the images of an unpublished story
                for name in (rel, rel + ".gz", rel + ".br"):
                    (out / name).unlink(missing_ok=True)
        self.copy_assets(assets, live_dir, out)
        self.assets = assets
        for extra in settings.SITE_EXTRA_FILES:
            self.copy_static_file(extra, live_dir, out)
        return files

    def move_rendered(self, staging: Path, out: Path, rendered: list[Rendered], prev_files: dict, removed: set[str]):
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

    def copy_static_file(self, rel: str, live_dir, out: Path):
        """An asset at a fixed URL (e.g. the service worker), copied from the collected static files."""
        src = Path(settings.STATIC_ROOT) / rel
        if src.exists():
            link_or_copy(src, out / rel)
            compress_twins(out / rel)

    def copy_assets(self, assets: list[str], live_dir: Path | None, out: Path):
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
                    src = Path(settings.MEDIA_ROOT) / sub
                    if src.exists():
                        link_or_copy(src, out / rel)

    def finish(self, release, out: Path, files: dict, routes, revisions, glob, rendered: int, started: float):
        """Write the manifest and swap the release in: from here on it is live."""
        manifest = {
            "files": files,
            "assets": getattr(self, "assets", []),
            "global": glob,
            "pages": {str(k): v for k, v in revisions.items()},
            "search": self.search_state,
        }
        _manifest_cache[release.name] = manifest
        swap(out)
        self.lap("swap")
        release.report = "用时（秒）：" + "，".join(f"{k} {v}" for k, v in self.timings.items())
        if self.copy_mode:
            release.report += f"（上一版本的硬链接副本：{self.copy_mode}）"
        Release.objects.filter(status=Release.STATUS_LIVE).update(status=Release.STATUS_SUPERSEDED)
        release.status = Release.STATUS_LIVE
        release.finished_at = timezone.now()
        release.pages = sum(1 for r in routes.values() if r.kind == "page")
        release.rendered = rendered
        release.seconds = time.monotonic() - started
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
        record_page_states(release, revisions)

    def after_swap(self, release, out: Path, started: float):
        """Figures for the admin and the summary, counted once the release is live."""
        total_files, total_bytes = 0, 0
        for dirpath, _dirs, names in os.walk(out):
            for name in names:
                total_files += 1
                total_bytes += os.stat(os.path.join(dirpath, name)).st_size
        release.files, release.bytes = total_files, total_bytes
        release.save(update_fields=["files", "bytes"])

    def refresh_search(self, live: Path, files: dict, live_release: Release):
        """Fold the search index's delta into a new base: a copy of the live release (hard links) with the
        new index, swapped in when ready. The publish that asked for it is already live with the delta."""
        started = time.monotonic()
        name = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        release = Release.objects.create(
            name=name, reason=f"更新搜索索引（{live_release.name}）", content_of=live_release
        )
        out = self.root / "releases" / name
        manifest = dict(load_manifest(live_release.name) or _manifest_cache.get(live_release.name, {}))
        try:
            subprocess.run(["cp", "-al", str(live), str(out)], check=True)  # noqa: S603,S607
            self.progress("search", 0, 1)
            manifest["search"] = update_index(out, search_docs(files), None, put_file, compact=True).state
            self.compacted = True
            if current_release_dir() != live:
                raise BuildFailed("搜索索引完成前线上版本已被替换，本次索引作废")
            swap(out)
        except BaseException as exc:
            shutil.rmtree(out, ignore_errors=True)
            release.status, release.report = Release.STATUS_FAILED, str(exc)
            release.save()
            if isinstance(exc, BuildFailed):
                return
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

    def search_is_stale(self, live_release: Release) -> bool:
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

    def cleanup_stale(self):
        """Folders of builds that were killed: never live, safe to remove."""
        live = current_release_dir()
        releases = self.root / "releases"
        if not releases.exists():
            return
        known = set(
            Release.objects.filter(status__in=[Release.STATUS_LIVE, Release.STATUS_SUPERSEDED]).values_list(
                "name", flat=True
            )
        )
        spare = spare_dir(live) if live else None
        for folder in releases.iterdir():
            if folder != live and folder != spare and folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)
        for part in (self.root / "manifests").glob("*.part"):  # a manifest half-written when a build was killed
            part.unlink(missing_ok=True)
        Release.objects.filter(status=Release.STATUS_BUILDING).update(status=Release.STATUS_FAILED, report="构建被中断")

    def prune(self):
        live = current_release_dir()
        old = list(Release.objects.filter(status=Release.STATUS_SUPERSEDED).order_by("-pk")[self.keep - 1 :])
        for release in old:
            folder = self.root / "releases" / release.name
            if folder != live:
                shutil.rmtree(folder, ignore_errors=True)
                (self.root / "manifests" / f"{release.name}.json").unlink(missing_ok=True)
                release.status = Release.STATUS_PRUNED
                release.save(update_fields=["status"])
        if getattr(self, "compacted", False):
            # Search records no kept release uses (pages edited or removed since): a compaction reads them all
            # anyway, and it is rare.
            kept = set()
            for path in (self.root / "manifests").glob("*.json"):
                kept.update(search_docs(load_manifest(path.stem).get("files", {})).values())
            prune_records(kept)


SPARE_PREFIX = ".spare-"


def spare_dir(live: Path) -> Path:
    """Where the spare copy of a release lives: named after it, so a spare of any other release (after a
    rollback, say) is never used."""
    return live.parent / f"{SPARE_PREFIX}{live.name}"


def prepare_spare() -> Path | None:
    """While the worker is idle (with the build lock held): a hard-link copy of the live release, which
    the next incremental build renames into its new release folder instead of running `cp -al` on the
    publish path. Made under a .part name and renamed when complete; never written to (builds replace
    files in it by rename). Spares of other releases are removed."""
    live = current_release_dir()
    if live is None:
        return None
    spare = spare_dir(live)
    for folder in live.parent.iterdir():
        if folder.name.startswith(SPARE_PREFIX) and folder != spare:
            shutil.rmtree(folder, ignore_errors=True)
    if not spare.is_dir():
        part = spare.with_name(spare.name + ".part")
        subprocess.run(["cp", "-al", str(live), str(part)], check=True)  # noqa: S603,S607
        os.rename(part, spare)
    return spare


def swap(target: Path):
    """Point site/current at target with one atomic rename."""
    current = site_dir() / "current"
    tmp = site_dir() / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, site_dir()), tmp)
    os.replace(tmp, current)


def record_page_states(release: Release, revisions: dict[int, int | None]):
    """Remember which revision of each page the live site shows (only rows that changed are written)."""
    existing = dict(PageState.objects.values_list("page_id", "revision_id"))
    to_create, to_update = [], []
    for page_id, revision_id in revisions.items():
        if page_id not in existing:
            to_create.append(PageState(page_id=page_id, revision_id=revision_id, release=release))
        elif existing.pop(page_id) != revision_id:
            to_update.append(PageState(page_id=page_id, revision_id=revision_id, release=release))
    PageState.objects.bulk_create(to_create)
    for state in to_update:
        PageState.objects.filter(page_id=state.page_id).update(revision_id=state.revision_id, release=release)
    PageState.objects.filter(page_id__in=list(existing)).delete()


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
                try:
                    prepare_spare()  # idle: get the next build's copy of the live release ready
                except Exception:  # the next build copies the release itself
                    logger.exception("无法准备上线版本的硬链接副本")
                if BuildRequest.objects.filter(done=False).exists():
                    continue  # a request arrived meanwhile
                return results
            last = pending[-1].pk
            full = any(r.full for r in pending)
            reason = "；".join(sorted({r.reason for r in pending}))[:200]
            try:
                results.append(Builder(full=full, reason=reason).run())
            finally:
                BuildRequest.objects.filter(done=False, pk__lte=last).update(done=True)


def pages_no_longer_public(folder: Path, manifest: dict) -> list[str]:
    """The pages an old release shows that are not live and public now (unpublished, deleted, or behind a
    view restriction), as "《title》（/path/）：why", with the title and path the release shows them under."""
    ids = {int(k) for k in manifest.get("pages", {})}
    api = folder / "api" / "v2" / "pages"
    if api.is_dir():  # every page of a release has its API document; a release without a manifest still does
        ids |= {int(p.name) for p in api.iterdir() if p.name.isdigit() and p.is_dir()}
    public = set(Page.objects.filter(pk__in=ids).live().public().values_list("pk", flat=True))
    gone = sorted(ids - public)
    now = {p.pk: p for p in Page.objects.filter(pk__in=gone)}
    lines = []
    for pk in gone:
        page = now.get(pk)
        title, path = (page.title, page.url or page.url_path) if page else (f"页面 {pk}", "")
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            shown = json.loads((api / str(pk) / "index.json").read_text())
            title, path = shown["title"], urlsplit(shown["meta"]["html_url"]).path
        if page is None:
            why = "已删除"
        elif not page.live:
            why = "已取消发布"
        else:
            why = "已设为私密（访问限制）"
        lines.append(f"《{title}》（{path}）：{why}" if path else f"《{title}》：{why}")
    return lines


def rollback() -> Release:
    """Make the release before the live one live again (a search-index refresh counts as its page release).

    Refused when that release shows a page that is no longer live and public (unpublished, deleted, or
    restricted since): a rollback must not bring it back. The live site then stays as it is."""
    with build_lock():
        live = Release.objects.filter(status=Release.STATUS_LIVE).first()
        base = (live.content_of or live) if live else None
        candidates = Release.objects.filter(status=Release.STATUS_SUPERSEDED, content_of__isnull=True)
        if base is not None:
            candidates = candidates.filter(pk__lt=base.pk)
        for candidate in candidates.order_by("-pk"):
            refreshed = candidate.search_refreshes.filter(status=Release.STATUS_SUPERSEDED).order_by("-pk").first()
            for choice in (refreshed, candidate):
                folder = site_dir() / "releases" / choice.name if choice else None
                if folder is None or not folder.is_dir():
                    continue
                manifest = load_manifest(choice.name)
                refused = pages_no_longer_public(folder, manifest)
                if refused:
                    raise BuildFailed(
                        f"拒绝回滚：要回滚到的版本 {choice.name} 含有 {len(refused)} 个现在已不公开的页面，"
                        "回滚会让它们重新出现在公开网站上。线上版本保持不变；"
                        "如需撤回最近的改动，请在后台修改后重新发布，或运行 manage.py build_site。",
                        refused,
                    )
                swap(folder)
                if live:
                    live.status = Release.STATUS_SUPERSEDED
                    live.report = (live.report + "\n已回滚").strip()
                    live.save()
                choice.status = Release.STATUS_LIVE
                choice.save()
                record_page_states(choice, {int(k): v for k, v in manifest.get("pages", {}).items()})
                return choice
        raise BuildFailed("没有可以回滚到的旧版本")
