"""Which files the public site holds, and what each one's content depends on.

A route is one output file. Its signature is a digest of everything its content depends on (the page's
live revision, the cards it lists, the snippets it shows, the site-wide chrome). A build renders a
route again only when its signature differs from the one in the live release's manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from wagtail.models import Page, Site

from cms.core.models import SiteSettings
from cms.core.publishing_protocol import BuildState, HasBulkSignatures, HasStaticSignatures, Versions

from .worker import worker

API_PREFIX = "api/v2/pages/"


@dataclass(frozen=True)
class Route:
    url: str  # "/stories/feed.xml"
    file: str  # "stories/feed.xml" inside the release
    kind: str  # page, api, special
    page_id: int | None
    subpath: str  # route inside the page ("" for the page itself)
    signature: str


def url_to_file(url: str) -> str:
    """The file of a URL in the release. The JSON API keeps the live API's paths (`/api/v2/pages/12/`),
    so its folders hold index.json, which the web server serves for the folder's URL."""
    rel = url.lstrip("/")
    if not rel or rel.endswith("/"):
        return rel + ("index.json" if rel.startswith(API_PREFIX) else "index.html")
    return rel


# json.dumps(value, sort_keys=True, default=str, ensure_ascii=False) without building an encoder per call
_encode = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False).encode


def digest(value: object) -> str:
    return hashlib.sha1(_encode(value).encode(), usedforsecurity=False).hexdigest()


def route_signature(glob: str, kind: str, encoded: str) -> str:
    """A route's signature: the global digest, the kind of file and what its content depends on (as JSON)."""
    return hashlib.sha1(f"{glob}\0{kind}\0{encoded}".encode(), usedforsecurity=False).hexdigest()


def tree_digest(*folders: Path, pattern: str = "*") -> str:
    """A digest of every file under the folders (templates, static sources, code): any edit rebuilds
    everything. Files are read again only when one's size or modification time changed."""
    stats = []
    for folder in folders:
        for path in sorted(folder.rglob(pattern)):
            if path.is_file() and "migrations" not in path.parts and "__pycache__" not in path.parts:
                st = path.stat()
                stats.append((str(path), st.st_size, st.st_mtime_ns))
    key = tuple(stats)
    if key not in worker.tree_digests:
        h = hashlib.sha1(usedforsecurity=False)
        for name, _size, _mtime in stats:
            h.update(name.encode())
            h.update(Path(name).read_bytes())
        worker.tree_digests[key] = h.hexdigest()
    return worker.tree_digests[key]


def code_digest() -> str:
    """The Python code that renders pages: a deploy that changes it renders everything again."""
    return tree_digest(Path(settings.BASE_DIR) / "cms", pattern="*.py")


def site_root() -> Site:
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        raise RuntimeError("没有默认站点：请先运行 manage.py bootstrap_site")
    return site


@dataclass(frozen=True)
class LivePage:
    """The few fields of a live page that routing and signatures need (model instances cost 60 µs each)."""

    pk: int
    depth: int
    url_path: str
    title: str
    show_in_menus: bool
    content_type_id: int
    live_revision_id: int | None
    last_published_at: object

    @property
    def specific_class(self):
        return ContentType.objects.get_for_id(self.content_type_id).model_class()


def live_pages(site: Site) -> list[LivePage]:
    """Every live, public page of the site, in tree order."""
    rows = (
        Page.objects.live()
        .public()
        .descendant_of(site.root_page, inclusive=True)
        .order_by("path")
        .values_list(
            "pk",
            "depth",
            "url_path",
            "title",
            "show_in_menus",
            "content_type_id",
            "live_revision_id",
            "last_published_at",
        )
    )
    return [LivePage(*row) for row in rows]


def global_signature(site: Site, pages: list[Page], extra: str = "") -> str:
    """What every page shows around its content: settings, the main menu, templates, code of the chrome."""
    s = SiteSettings.load()
    # The main menu and the footer's links (information pages) are the live children of home.
    menu = [
        (p.pk, p.title, p.url_path, p.show_in_menus, p.content_type_id)
        for p in pages
        if p.depth == site.root_page.depth + 1
    ]
    base = Path(settings.BASE_DIR)
    return digest(
        [
            {f.name: getattr(s, f.name) for f in SiteSettings._meta.fields},
            menu,
            settings.PUBLIC_BASE_URL,
            tree_digest(base / "site_templates"),
            code_digest(),
            extra,
        ]
    )


def collect_routes(
    site: Site | None = None, extra: str = "", state: BuildState | None = None
) -> tuple[dict[str, Route], dict[int, int | None], str]:
    """All routes of the public site with their signatures; the live revision of each page; the global digest.

    Page types may leave what they computed for the signatures in `state` (e.g. related stories), so the
    renderer does not compute it again.
    """
    site = site or site_root()
    state = BuildState() if state is None else state
    pages = live_pages(site)
    glob = global_signature(site, pages, extra)
    versions: Versions = {p.pk: p.live_revision_id or str(p.last_published_at) for p in pages}
    routes: dict[str, Route] = {}

    def add(url, kind, page_id, subpath, signature, encoded: str | None = None):
        encoded = _encode(signature) if encoded is None else encoded
        routes[url] = Route(url, url_to_file(url), kind, page_id, subpath, route_signature(glob, kind, encoded))

    by_class: dict[type, list[LivePage]] = defaultdict(list)
    classes: dict[int, type] = {}
    for page in pages:
        cls = classes.get(page.content_type_id)
        if cls is None:
            cls = classes[page.content_type_id] = page.specific_class or Page
        by_class[cls].append(page)
    root_path = site.root_page.url_path
    paths = {p.pk: "/" + p.url_path[len(root_path) :] for p in pages if p.url_path.startswith(root_path)}
    for cls, group in by_class.items():
        bulk = cls.static_signatures_bulk(group, versions, state) if isinstance(cls, HasBulkSignatures) else {}
        per_page = isinstance(cls, HasStaticSignatures)
        specific = {p.pk: p for p in cls.objects.filter(pk__in=[p.pk for p in group])} if per_page else {}
        for page in group:
            path = paths.get(page.pk)
            if path is None:
                continue
            own = _encode(bulk.get(page.pk, versions[page.pk]))
            if per_page:
                for subpath, signature in specific[page.pk].static_signatures(versions).items():
                    add(path + subpath, "page", page.pk, subpath, [versions[page.pk], signature])
            else:
                add(path, "page", page.pk, "", None, own)
            # The JSON document shows the page's URL, which a move of an ancestor changes without a revision.
            add(f"/{API_PREFIX}{page.pk}/", "api", page.pk, "", None, f"{own}\0{path}")
    listing = [(p.pk, versions[p.pk], p.content_type_id, paths.get(p.pk)) for p in pages]
    add(f"/{API_PREFIX}", "special", None, "api-index", listing)
    add("/sitemap.xml", "special", None, "sitemap", [sorted(u for u, r in routes.items() if r.kind == "page"), listing])
    add("/robots.txt", "special", None, "robots", None)
    add("/404.html", "special", None, "404", None)
    add("/search/", "special", None, "search", None)
    return routes, {p.pk: p.live_revision_id for p in pages}, glob
