"""Build a release of the public site, verify it, and make it live with one atomic rename.

    site/releases/<name>/     one folder per release (files shared with the previous one by hard link)
    site/manifests/<name>.json what each file was made from (signatures, digests, links): not public
    site/current -> releases/<name>   the live release; only swap() changes it, with os.replace

A build that fails or is killed at any moment leaves site/current untouched.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from .models import BuildRequest, PageState, Release
from .render import Rendered, render_routes
from .routes import Route, collect_routes, site_root, tree_digest
from .search import build_search_index
from .verify import verify_release

COMPRESSIBLE = {".html", ".css", ".js", ".json", ".xml", ".txt", ".svg", ".webmanifest", ".map"}


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


def load_manifest(name: str) -> dict:
    path = site_dir() / "manifests" / f"{name}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text())


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
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def compress_twins(path: Path):
    data = path.read_bytes()
    if len(data) < 256:
        return
    gz = gzip.compress(data, compresslevel=9, mtime=0)
    if len(gz) < len(data):
        path.with_name(path.name + ".gz").write_bytes(gz)
    br = brotli.compress(data, quality=11 if len(data) < 200_000 else 9)
    if len(br) < len(data):
        path.with_name(path.name + ".br").write_bytes(br)


class Builder:
    def __init__(
        self, *, full: bool = False, reason: str = "", progress: Callable | None = None, keep: int | None = None
    ):
        self.full = full
        self.reason = reason
        self.progress = progress or (lambda stage, done, total: None)
        self.keep = keep or settings.SITE_RELEASES_KEEP
        self.root = site_dir()

    def ensure_static(self) -> str:
        """Collect static files with hashed names once per change of the sources."""
        source_digest = tree_digest(*[Path(d) for d in settings.STATICFILES_DIRS])
        stamp = Path(settings.STATIC_ROOT) / ".source-digest"
        if not stamp.exists() or stamp.read_text() != source_digest:
            call_command("collectstatic", interactive=False, verbosity=0)
            stamp.write_text(source_digest)
        return source_digest

    def run(self) -> BuildResult:
        started = time.monotonic()
        static_digest = self.ensure_static()
        site = site_root()
        routes, revisions, glob = collect_routes(site, static_digest)
        live_dir = current_release_dir()
        previous = load_manifest(live_dir.name) if live_dir and not self.full else {}
        prev_files = previous.get("files", {})
        todo = [r for r in routes.values() if self.full or prev_files.get(r.file, {}).get("sig") != r.signature]
        removed = set(prev_files) - {r.file for r in routes.values()}
        if not todo and not removed and previous:
            return BuildResult(None, skipped=True, seconds=time.monotonic() - started)

        self.cleanup_stale()
        name = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        release = Release.objects.create(name=name, full=self.full or not previous, reason=self.reason[:200])
        out = self.root / "releases" / name
        out.mkdir(parents=True)
        try:
            manifest_files = self.assemble(site, routes, todo, prev_files, live_dir, out)
            self.progress("verify", 0, 1)
            problems = verify_release(out, routes, manifest_files, {r.file for r in todo}, removed, prev_files)
            if problems:
                raise BuildFailed("发布前检查未通过，线上网站保持不变", problems)
            self.progress("search", 0, 1)
            build_search_index(out, live_dir if not self.full else None, {r.file for r in todo}, removed)
            self.finish(release, out, manifest_files, routes, revisions, glob, len(todo), started)
        except BaseException as exc:
            shutil.rmtree(out, ignore_errors=True)
            release.status = Release.STATUS_FAILED
            release.finished_at = timezone.now()
            problems = getattr(exc, "problems", [])
            release.report = f"{exc}\n" + "\n".join(problems)
            release.seconds = time.monotonic() - started
            release.save()
            raise
        return BuildResult(
            release,
            rendered=len(todo),
            files=release.files,
            pages=release.pages,
            bytes=release.bytes,
            seconds=release.seconds,
        )

    def assemble(self, site, routes, todo: list[Route], prev_files, live_dir, out: Path) -> dict:
        """Render what changed, hard-link the rest from the live release, then add assets."""
        files: dict[str, dict] = {}
        todo_files = {r.file for r in todo}
        for route in routes.values():
            if route.file in todo_files:
                continue
            old = prev_files[route.file]
            link_or_copy(live_dir / route.file, out / route.file)
            for twin in (".gz", ".br"):
                if (live_dir / (route.file + twin)).exists():
                    link_or_copy(live_dir / (route.file + twin), out / (route.file + twin))
            files[route.file] = old
        self.progress("render", 0, len(todo))
        rendered: list[Rendered] = render_routes(
            site, todo, out, routes, progress=lambda d, t: self.progress("render", d, t)
        )
        for item in rendered:
            path = out / item.file
            if path.suffix in COMPRESSIBLE:
                compress_twins(path)
            files[item.file] = {
                "sig": routes_by_file(routes)[item.file].signature,
                "sha": item.sha,
                "size": item.size,
                "assets": item.assets,
            }
        assets = sorted({a for meta in files.values() for a in meta.get("assets", [])})
        self.copy_assets(assets, live_dir, out)
        for extra in settings.SITE_EXTRA_FILES:
            self.copy_static_file(extra, live_dir, out)
        return files

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
        manifest = {"files": files, "global": glob, "pages": {str(k): v for k, v in revisions.items()}}
        manifests = self.root / "manifests"
        manifests.mkdir(parents=True, exist_ok=True)
        (manifests / f"{release.name}.json").write_text(json.dumps(manifest, ensure_ascii=False, sort_keys=True))
        total_files, total_bytes = 0, 0
        for path in out.rglob("*"):
            if path.is_file():
                total_files += 1
                total_bytes += path.stat().st_size
        swap(out)
        Release.objects.filter(status=Release.STATUS_LIVE).update(status=Release.STATUS_SUPERSEDED)
        release.status = Release.STATUS_LIVE
        release.finished_at = timezone.now()
        release.pages = sum(1 for r in routes.values() if r.kind == "page")
        release.files = total_files
        release.bytes = total_bytes
        release.rendered = rendered
        release.seconds = time.monotonic() - started
        release.save()
        record_page_states(release, revisions)
        self.prune()

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
        for folder in releases.iterdir():
            if folder != live and folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)
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


_routes_by_file_cache: dict[int, dict[str, Route]] = {}


def routes_by_file(routes: dict[str, Route]) -> dict[str, Route]:
    key = id(routes)
    if key not in _routes_by_file_cache:
        _routes_by_file_cache.clear()
        _routes_by_file_cache[key] = {r.file: r for r in routes.values()}
    return _routes_by_file_cache[key]


def swap(target: Path):
    """Point site/current at target with one atomic rename."""
    current = site_dir() / "current"
    tmp = site_dir() / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, site_dir()), tmp)
    os.replace(tmp, current)


def record_page_states(release: Release, revisions: dict[int, int | None]):
    existing = {s.page_id: s for s in PageState.objects.all()}
    to_create, to_update = [], []
    for page_id, revision_id in revisions.items():
        state = existing.pop(page_id, None)
        if state is None:
            to_create.append(PageState(page_id=page_id, revision_id=revision_id, release=release))
        elif state.revision_id != revision_id or state.release_id != release.pk:
            state.revision_id, state.release = revision_id, release
            to_update.append(state)
    PageState.objects.bulk_create(to_create)
    PageState.objects.bulk_update(to_update, ["revision_id", "release"])
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
                return results
            last = pending[-1].pk
            full = any(r.full for r in pending)
            reason = "；".join(sorted({r.reason for r in pending}))[:200]
            try:
                results.append(Builder(full=full, reason=reason).run())
            finally:
                BuildRequest.objects.filter(done=False, pk__lte=last).update(done=True)


def rollback() -> Release:
    """Make the previous release live again."""
    with build_lock():
        live = Release.objects.filter(status=Release.STATUS_LIVE).first()
        candidates = Release.objects.filter(status=Release.STATUS_SUPERSEDED).order_by("-pk")
        for candidate in candidates:
            folder = site_dir() / "releases" / candidate.name
            if folder.is_dir():
                swap(folder)
                if live:
                    live.status = Release.STATUS_SUPERSEDED
                    live.report = (live.report + "\n已回滚").strip()
                    live.save()
                candidate.status = Release.STATUS_LIVE
                candidate.save()
                manifest = load_manifest(candidate.name)
                record_page_states(candidate, {int(k): v for k, v in manifest.get("pages", {}).items()})
                return candidate
        raise BuildFailed("没有可以回滚到的旧版本")
