"""The site folder and its releases: manifests, the swap, pruning, rollback (spare copies: spare.py; the lock: lock.py).

    site/releases/<name>/     one folder per release (files shared with the previous one by hard link)
    site/manifests/<name>.json what each file was made from (signatures, digests, links): not public
    site/current -> releases/<name>   the live release; only swap() changes it, with os.replace

A build writes only inside its new folder; a build that fails or is killed at any moment leaves site/current
untouched, and the next build removes what it left (remove_unfinished).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from wagtail.models import Page

from .files import TRASH_PREFIX, discard, remove_trash
from .lock import build_lock as build_lock  # one build at a time (lock.py); importable from here
from .models import PageState, Release
from .worker import worker


class BuildFailed(Exception):
    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


def site_dir() -> Path:
    return Path(settings.SITE_DIR)


def current_release_dir() -> Path | None:
    current = site_dir() / "current"
    return current.resolve() if current.is_symlink() else None


def new_release_name() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M%S-%f")


# -------------------------------------------------------------------------------------------- manifests


def load_manifest(name: str) -> dict:
    if name in worker.manifests:
        return worker.manifests[name]
    if name in worker.unsaved_manifests:
        return worker.unsaved_manifests[name]
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
    worker.manifests.clear()
    worker.manifests[name] = manifest
    worker.unsaved_manifests.pop(name, None)


def keep_unsaved_manifest(name: str, manifest: dict):
    """A live release's manifest that could not be written (full disk): kept for the next build."""
    worker.unsaved_manifests.clear()  # only the live release's matters
    worker.unsaved_manifests[name] = manifest


class SearchDocs(Mapping):
    """{release file: search record digest} of the pages a manifest lists, read from its entries when asked:
    a publish looks up the few files it touched, not the 155,000 of a large site."""

    def __init__(self, files: dict):
        self.files = files

    def __getitem__(self, rel: str) -> str:
        doc = self.files[rel].get("doc")
        if not doc:
            raise KeyError(rel)
        return doc

    def __iter__(self):
        return (rel for rel, meta in self.files.items() if meta.get("doc"))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def search_docs(files: dict) -> dict[str, str]:
    return dict(SearchDocs(files))


def kept_search_docs() -> set[str]:
    """The search records that the kept releases' manifests use."""
    kept = set()
    for path in (site_dir() / "manifests").glob("*.json"):
        kept.update(search_docs(load_manifest(path.stem).get("files", {})).values())
    return kept


# ------------------------------------------------------------------------------------------- spare, swap


SPARE_PREFIX = ".spare-"


def spare_dir(live: Path) -> Path:
    """Where the spare copy of a release lives: named after it, so a spare of any other release (after a
    rollback, say) is never used."""
    return live.parent / f"{SPARE_PREFIX}{live.name}"


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


# ---------------------------------------------------------------------------------------- housekeeping


def remove_unfinished():
    """Folders of builds that were killed: never live, safe to remove."""
    live = current_release_dir()
    releases = site_dir() / "releases"
    if not releases.exists():
        return
    known = set(
        Release.objects.filter(status__in=[Release.STATUS_LIVE, Release.STATUS_SUPERSEDED]).values_list(
            "name", flat=True
        )
    )
    spare = spare_dir(live) if live else None
    for folder in releases.iterdir():
        if folder.name.startswith(TRASH_PREFIX):
            continue
        if folder != live and folder != spare and folder.name not in known:
            discard(folder)
    remove_trash(releases)
    for part in (site_dir() / "manifests").glob("*.part"):  # a manifest half-written when a build was killed
        part.unlink(missing_ok=True)
    Release.objects.filter(status=Release.STATUS_BUILDING).update(status=Release.STATUS_FAILED, report="构建被中断")


def prune_releases(keep: int):
    """Remove the folders and manifests of superseded releases beyond the newest `keep` - 1."""
    live = current_release_dir()
    old = list(Release.objects.filter(status=Release.STATUS_SUPERSEDED).order_by("-pk")[keep - 1 :])
    for release in old:
        folder = site_dir() / "releases" / release.name
        if folder != live:
            discard(folder)
            (site_dir() / "manifests" / f"{release.name}.json").unlink(missing_ok=True)
            release.status = Release.STATUS_PRUNED
            release.save(update_fields=["status"])


# -------------------------------------------------------------------------------------------- rollback


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


def rollback(*, locked: bool = False) -> Release:
    """Make the release before the live one live again (a search-index refresh counts as its page release).

    Refused when that release shows a page that is no longer live and public (unpublished, deleted, or
    restricted since): a rollback must not bring it back. The live site then stays as it is. `locked`: the
    caller holds the build lock (site_rollback, which syncs the publish targets inside it)."""
    with contextlib.nullcontext(True) if locked else build_lock():
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
