"""Which files the public site holds, and what each one's content depends on.

A route is one output file. Its signature is a digest of everything its content depends on (the page's
live revision, the cards it lists, the snippets it shows, the site-wide chrome). A build renders a
route again only when its signature differs from the one in the live release's manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from wagtail.models import Page, Site

from cms.core.models import SiteSettings
from cms.core.publishing_protocol import (
    BuildState,
    HasBulkSignatures,
    HasIncrementalSignatures,
    HasStaticSignatures,
    Versions,
)

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
    """The few fields of a live page that routing, signatures, the sitemap and the API index need (model
    instances cost 60 µs each)."""

    pk: int
    depth: int
    path: str
    url_path: str
    title: str
    slug: str
    show_in_menus: bool
    content_type_id: int
    live_revision_id: int | None
    first_published_at: object
    last_published_at: object

    @property
    def specific_class(self):
        return ContentType.objects.get_for_id(self.content_type_id).model_class()


def live_pages(site: Site, pks: set[int] | None = None) -> list[LivePage]:
    """Every live, public page of the site (or those of `pks`), in tree order."""
    rows = Page.objects.live().public().descendant_of(site.root_page, inclusive=True)
    if pks is not None:
        rows = rows.filter(pk__in=pks)
    return [LivePage(*row) for row in rows.order_by("path").values_list(*LivePage.__dataclass_fields__)]


def global_signature(site: Site, pages, extra: str = "") -> str:
    """What every page shows around its content: settings, the main menu, templates, code of the chrome."""
    s = SiteSettings.load()
    # The main menu and the footer's links (information pages) are the live children of home.
    menu = [
        (p.pk, p.title, p.url_path, p.show_in_menus, p.content_type_id)
        for p in sorted(pages, key=lambda p: p.path)
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


def entry_hash(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=16).digest(), "big")


SUM = 1 << 128  # the API index's and the sitemaps' signatures are sums of their entries' digests, modulo this

# The sitemap: /sitemap.xml is a sitemap index naming /sitemap-<k>-of-<n>.xml, each listing the page URLs whose
# bucket (a digest of the URL, so a URL stays in its file) falls to it. One publish changes one or two of them,
# not a file of every URL (3 MB at 20,000 stories), and no file nears the protocol's 50,000 URLs: the number of
# files doubles as the site grows past SITEMAP_CHUNK URLs per file on average. They sit at the site's root: a
# sitemap may list only URLs under its own folder.
SITEMAP_BUCKETS = 256
SITEMAP_CHUNK = 5_000


def sitemap_files(urls: int) -> int:
    """How many sitemap files list `urls` page URLs: a power of two, so that each takes whole buckets."""
    count = 1
    while count < SITEMAP_BUCKETS and urls > count * SITEMAP_CHUNK:
        count *= 2
    return count


def sitemap_url(k: int, count: int) -> str:
    return f"/sitemap-{k + 1}-of-{count}.xml"


def sitemap_bucket(url: str) -> int:
    return entry_hash(url) % SITEMAP_BUCKETS


def in_sitemap(route: Route) -> bool:
    return route.kind == "page" and route.file.endswith(".html")


@dataclass
class SignaturePass:
    """Every route of the public site with its signature, and what computed them; a warm worker keeps its
    last one (Builder), and the next publish brings it up to date for the pages it changed (`update`)
    instead of reading the whole site again: its cost follows the change, not the site."""

    site_id: int
    extra: str
    glob: str = ""
    pages: dict[int, LivePage] = field(default_factory=dict)
    versions: Versions = field(default_factory=dict)
    paths: dict[int, str] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    urls_of: dict[int, list[str]] = field(default_factory=dict)  # the routes of each page
    # The object static_signatures gave for each route of a page with sub-routes: the same object next time
    # (listing_signatures keeps unchanged listings) is not encoded and hashed again.
    objects: dict[str, object] = field(default_factory=dict)
    of_class: dict[type, set[int]] = field(default_factory=dict)  # the live pages of each page type
    classes: dict[int, type] = field(default_factory=dict)  # content type id -> page class
    # The API index's entries (page, version, type, path) as a sum of digests, and the sitemap's URLs (with
    # their page's last publication) by bucket, so that a publish adds and takes away what it changed
    # without listing every page.
    api_entries: dict[int, int] = field(default_factory=dict)
    api_sum: int = 0
    sitemap_entries: dict[str, tuple[int, int]] = field(default_factory=dict)  # URL → (bucket, digest)
    bucket_sums: list[int] = field(default_factory=lambda: [0] * SITEMAP_BUCKETS)
    bucket_urls: list[set[str]] = field(default_factory=lambda: [set() for _ in range(SITEMAP_BUCKETS)])
    special_urls: list[str] = field(default_factory=list)
    state: BuildState = field(default_factory=BuildState)
    incremental: bool = False  # whether this pass was brought up to date from the previous one
    # Whether its routes are those of the live release's manifest: set when its build goes live (or finds
    # nothing to change), cleared when an update starts.
    in_sync: bool = False
    # The URLs an update from a pass in sync added, changed or took away: every other route is as the live
    # release's manifest has it, so the build compares only these (Builder.decide_what_changed). None: a
    # full reading, or an update from a pass not in sync: compare every route.
    touched: set[str] | None = None

    @property
    def revisions(self) -> dict[int, int | None]:
        return {pk: p.live_revision_id for pk, p in self.pages.items()}

    def class_of(self, page: LivePage) -> type:
        cls = self.classes.get(page.content_type_id)
        if cls is None:
            cls = self.classes[page.content_type_id] = page.specific_class or Page
        return cls

    # -- routes ---------------------------------------------------------------------------------------

    def add(self, url: str, kind: str, page_id: int | None, subpath: str, encoded: str, published: object = None):
        """A route; a page's file that the sitemap lists names its page's last publication (its lastmod)."""
        self.unlist(url)
        if self.touched is not None:
            self.touched.add(url)
        route = Route(url, url_to_file(url), kind, page_id, subpath, route_signature(self.glob, kind, encoded))
        self.routes[url] = route
        if in_sitemap(route):
            bucket, entry = sitemap_bucket(url), entry_hash(f"{url}\0{published}")
            self.sitemap_entries[url] = (bucket, entry)
            self.bucket_sums[bucket] += entry
            self.bucket_urls[bucket].add(url)
        if page_id is not None:
            self.urls_of.setdefault(page_id, []).append(url)

    def unlist(self, url: str):
        """Take a URL out of the sitemap's entries."""
        listed = self.sitemap_entries.pop(url, None)
        if listed is not None:
            bucket, entry = listed
            self.bucket_sums[bucket] -= entry
            self.bucket_urls[bucket].discard(url)

    def drop_page(self, pk: int, keep: set[str] = frozenset()):
        """Take a page's routes away (those in `keep` stay, with their objects)."""
        kept = []
        for url in self.urls_of.pop(pk, []):
            if url in keep:
                kept.append(url)
                continue
            self.routes.pop(url, None)
            self.objects.pop(url, None)
            self.unlist(url)
            if self.touched is not None:
                self.touched.add(url)
        if kept:
            self.urls_of[pk] = kept
        if pk in self.api_entries:
            self.api_sum -= self.api_entries.pop(pk)

    def page_routes(self, page: LivePage, own: object, container: object | None):
        """A page's routes: its file (or, for a page with sub-routes, one per sub-route) and its JSON document.
        `container`: the page instance whose static_signatures give its sub-routes."""
        pk, path = page.pk, self.paths[page.pk]
        version = self.versions[pk]
        keep: set[str] = set()
        if container is not None:
            subroutes = container.static_signatures(self.versions, self.state)
            # The page itself unchanged (its version and path are in each sub-route's encoding).
            same_page = self.incremental and pk not in self.state.changed
            fresh = []
            for subpath, signature in subroutes.items():
                url = path + subpath
                if same_page and url in self.routes and self.objects.get(url) is signature:
                    keep.add(url)
                else:
                    fresh.append((url, subpath, signature))
            self.drop_page(pk, keep)
            for url, subpath, signature in fresh:
                self.add(url, "page", pk, subpath, _encode([version, signature]), page.last_published_at)
                self.objects[url] = signature
        own_encoded = _encode(own)
        if container is None:
            self.drop_page(pk)
            self.add(path, "page", pk, "", own_encoded, page.last_published_at)
        # The JSON document shows the page's URL, which a move of an ancestor changes without a revision.
        self.add(f"/{API_PREFIX}{pk}/", "api", pk, "", f"{own_encoded}\0{path}")
        self.api_entries[pk] = entry_hash(_encode([pk, version, page.content_type_id, path]))
        self.api_sum += self.api_entries[pk]

    def specials(self):
        for url in self.special_urls:
            self.routes.pop(url, None)
            if self.touched is not None:
                self.touched.add(url)
        count = sitemap_files(len(self.sitemap_entries))
        self.special_urls = [f"/{API_PREFIX}", "/sitemap.xml", "/robots.txt", "/404.html", "/search/"]
        self.add(f"/{API_PREFIX}", "special", None, "api-index", _encode(self.api_sum % SUM))
        # A file whose buckets hold no URL is left out (the protocol wants at least one URL per file): only
        # on a small site, where SITEMAP_CHUNK is lowered to test several files.
        files = [k for k in range(count) if any(self.bucket_urls[k::count])]
        index = ",".join(map(str, files))
        self.add("/sitemap.xml", "special", None, f"sitemap-index:{count}:{index}", _encode([count, files]))
        for k in files:
            self.special_urls.append(sitemap_url(k, count))
            listed = sum(self.bucket_sums[k::count]) % SUM
            self.add(sitemap_url(k, count), "special", None, f"sitemap:{k}:{count}", _encode(listed))
        for url, name in (("/robots.txt", "robots"), ("/404.html", "404"), ("/search/", "search")):
            self.add(url, "special", None, name, "null")

    # -- the passes -----------------------------------------------------------------------------------

    def compute(self, site: Site, pks: set[int] | None = None):
        """Signatures of the pages `pks` and of the pages whose signatures depend on them (all pages: None)."""
        root_path = site.root_page.url_path
        for page in self.pages.values() if pks is None else [self.pages[pk] for pk in pks if pk in self.pages]:
            if page.url_path.startswith(root_path):
                self.paths[page.pk] = "/" + page.url_path[len(root_path) :]
        todo: dict[type, list[LivePage]] = defaultdict(list)
        for cls, members in self.of_class.items():
            if pks is None or (isinstance(cls, HasStaticSignatures) and not isinstance(cls, HasBulkSignatures)):
                chosen = members  # pages with sub-routes (few, besides the stories' index): all of them
            elif isinstance(cls, HasIncrementalSignatures):
                chosen = cls.signatures_affected(set(pks), self.state) & members
            elif isinstance(cls, HasBulkSignatures):
                chosen = members
            else:
                chosen = pks & members
            todo[cls] = [self.pages[pk] for pk in chosen if pk in self.paths]
        for cls, group in todo.items():
            bulk = (
                cls.static_signatures_bulk(group, self.versions, self.state)
                if isinstance(cls, HasBulkSignatures)
                else {}
            )
            per_page = isinstance(cls, HasStaticSignatures)
            specific = {p.pk: p for p in cls.objects.filter(pk__in=[p.pk for p in group])} if per_page else {}
            for page in group:
                self.page_routes(page, bulk.get(page.pk, self.versions[page.pk]), specific.get(page.pk))
        self.specials()


def collect(
    site: Site, extra: str = "", previous: SignaturePass | None = None, changed: set[int] | None = None
) -> SignaturePass:
    """Every route of the public site with its signature.

    With `previous` (this process's last pass, over the database as it was then) and `changed` (every page
    published, unpublished or edited since), the previous pass is brought up to date: the changed pages'
    rows are read again and only the signatures that can depend on them are computed again (page types
    say which: signatures_affected). A change of the chrome (settings, menu, templates, code) reads everything.
    """
    if previous is not None and changed is not None and previous.site_id == site.pk and previous.extra == extra:
        done = _update(site, previous, changed)
        if done is not None:
            return done
    sig = SignaturePass(site.pk, extra)
    for page in live_pages(site):
        sig.pages[page.pk] = page
        sig.versions[page.pk] = page.live_revision_id or str(page.last_published_at)
        sig.of_class.setdefault(sig.class_of(page), set()).add(page.pk)
    sig.glob = global_signature(site, sig.pages.values(), extra)
    sig.compute(site)
    return sig


def _update(site: Site, sig: SignaturePass, changed: set[int]) -> SignaturePass | None:
    """`collect` from the previous pass (changed in place), or None when everything must be read again."""
    fresh = {p.pk: p for p in live_pages(site, changed)}
    sig.touched = set() if sig.in_sync else None
    sig.in_sync = False
    for pk in changed:
        old = sig.pages.pop(pk, None)
        if old is not None:
            sig.of_class[sig.class_of(old)].discard(pk)
            sig.versions.pop(pk, None)
            sig.paths.pop(pk, None)
        page = fresh.get(pk)
        if page is not None:
            if old is not None and old.url_path != page.url_path:
                return None  # a page and its descendants moved: read everything
            sig.pages[pk] = page
            sig.versions[pk] = page.live_revision_id or str(page.last_published_at)
            sig.of_class.setdefault(sig.class_of(page), set()).add(pk)
    glob = global_signature(site, [p for p in sig.pages.values() if p.depth == site.root_page.depth + 1], sig.extra)
    if glob != sig.glob:
        return None  # the chrome changed: every route changes
    for pk in changed - fresh.keys():
        sig.drop_page(pk)
    sig.incremental = True
    sig.state.changed = set(changed)
    sig.state.stories_changes = None
    sig.compute(site, set(changed))
    return sig


def collect_routes(
    site: Site | None = None, extra: str = "", state: BuildState | None = None
) -> tuple[dict[str, Route], dict[int, int | None], str]:
    """All routes of the public site with their signatures; the live revision of each page; the global digest
    (a full reading: `collect`). Page types leave what they computed for the signatures in `state` (e.g.
    related stories), so the renderer does not compute it again."""
    done = collect(site or site_root(), extra)
    if state is not None:
        state.__dict__.update(done.state.__dict__)
    return done.routes, done.revisions, done.glob
