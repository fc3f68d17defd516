"""Render routes to files, through the same page.serve() code path as the live CMS and its preview."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import multiprocessing
import os
import re
import signal
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.base import SessionBase
from django.db import connections
from django.template.loader import render_to_string
from django.test import RequestFactory
from rest_framework.fields import DateTimeField
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.models import Page, Site

from cms.core.models import SiteSettings

from .routes import API_PREFIX, Route
from .search import extract_record, store_record

DATETIME = DateTimeField()  # the live API's format for dates and times
JSON_URL = re.compile(r'"(https?://[^"]+|/(?:static|media)/[^"]+)"')
ATTR_URL = re.compile(r'(?:src|href|content|srcset|imagesrcset)="([^"]+)"')
PARALLEL_THRESHOLD = 120  # from this many routes: a pool of forked workers, in chunks
SPLIT_THRESHOLD = 4  # from this many (small builds): one forked helper shares the routes with this process


class RenderError(Exception):
    pass


@dataclass
class Rendered:
    file: str
    sha: str
    size: int
    assets: list[str] = field(default_factory=list)  # release-relative paths of static files and media used
    twins: list[str] = field(default_factory=list)  # ".gz", ".br" written beside it
    links: list[str] = field(default_factory=list)  # release-relative targets of its internal links
    problems: list[str] = field(default_factory=list)  # what the release check must refuse
    doc: str = ""  # the digest of the page's search record (search.store_record), if it has one


def make_request(site: Site, path: str = "/"):
    """A GET request for the static build: anonymous, on the public site, with per-build caches filled."""
    host = site.hostname or "localhost"
    request = RequestFactory().get(path, HTTP_HOST=host)
    request.get_host = lambda: host  # the build never answers a real client; skip ALLOWED_HOSTS
    request.user = AnonymousUser()
    # A reader without a session: no password entered, no login. Wagtail's view restrictions (and the API's
    # public-pages query) read request.session; an empty one that is never saved passes none of them.
    request.session = SessionBase()
    request.is_static_build = True
    request._wagtail_site = site
    return request


class Renderer:
    def __init__(self, site: Site, state: dict | None = None, extra=((), ())):
        self.site = site
        self.state = state or {}
        self.sitemap_entries, self.api_ids = extra
        self.settings_obj = SiteSettings.load()
        self.menu = list(
            site.root_page.get_children().live().public().in_menu().only("title", "url_path", "path", "depth")
        )
        self.pages: dict[int, Page] = {}
        self.cache: dict = {}  # shared by every page this process renders (breadcrumbs, …)
        self.root_paths = Site.get_site_root_paths()
        self.parts: list[str] | None = None  # the parts of the file render() last returned, if composite

    def request(self, path: str):
        request = make_request(self.site, path)
        setattr(request, SiteSettings.get_cache_attr_name(), self.settings_obj)
        request.static_menu = self.menu
        request.build_cache = self.cache
        request._wagtail_cached_site_root_paths = self.root_paths
        return request

    def load_pages(self, ids: set[int]):
        """Fetch the pages to render in bulk, each type with what its template needs."""
        missing = ids - self.pages.keys()
        if not missing:
            return
        by_type: dict[type, list[int]] = defaultdict(list)
        for pk, content_type_id in Page.objects.filter(pk__in=missing).values_list("pk", "content_type_id"):
            by_type[ContentType.objects.get_for_id(content_type_id).model_class()].append(pk)
        for cls, pks in by_type.items():
            qs = cls.build_queryset() if hasattr(cls, "build_queryset") else cls.objects.all()
            loaded = list(qs.filter(pk__in=pks))
            if hasattr(cls, "prepare_build"):
                cls.prepare_build(loaded, self.state)
            for page in loaded:
                self.pages[page.pk] = page

    def light_pages(self, ids: set[int]) -> dict[int, dict]:
        """The few fields the sitemap and the API index list, for many pages, without model instances."""
        if "light" not in self.cache:
            root = self.site.root_page.url_path
            rows = Page.objects.filter(url_path__startswith=root).values(
                "pk", "title", "slug", "url_path", "content_type_id", "first_published_at", "last_published_at"
            )
            self.cache["light"] = {r["pk"]: {**r, "path": "/" + r["url_path"][len(root) :]} for r in rows}
        return {pk: row for pk, row in self.cache["light"].items() if pk in ids}

    def composite(self, head: str, parts: list[str], sep: str, tail: str) -> bytes:
        """A file joined from independent parts (sitemap rows, API index items). The separators and each
        part's first and last characters are punctuation, so the personal-data check may scan the parts
        one by one and skip those it has seen (verify.personal_data_in_parts)."""
        self.parts = [head, *parts, tail]
        return (head + sep.join(parts) + tail).encode()

    def api_detail(self, page) -> bytes:
        """The page's document exactly as the live API answers /api/v2/pages/<id>/ (same view, same bytes)."""
        from cms.headless.api import XiaogePagesAPIViewSet, api_router

        view = self.cache.get("api-detail-view")
        if view is None:
            view = self.cache["api-detail-view"] = XiaogePagesAPIViewSet.as_view({"get": "detail_view"})
        request = self.request(f"/{API_PREFIX}{page.pk}/")
        request.wagtailapi_router = api_router  # what the router's URL patterns give the live view
        response = view(request, pk=page.pk)
        response.render()
        if response.status_code != 200:
            raise RenderError(f"/{API_PREFIX}{page.pk}/：接口返回 {response.status_code}")
        return response.content

    def render(self, route: Route) -> bytes:
        self.parts = None  # set by composite()
        if route.kind == "special":
            return self.render_special(route)
        page = self.pages[route.page_id]
        if route.kind == "api":
            return self.api_detail(page)
        response = serve_page(page, self.request(route.url), route.subpath)
        if response.status_code != 200:
            raise RenderError(f"{route.url}：页面返回 {response.status_code}")
        return response.content

    def render_special(self, route: Route) -> bytes:
        base = settings.PUBLIC_BASE_URL
        if route.subpath == "robots":
            return f"User-agent: *\nAllow: /\n\nSitemap: {base}/sitemap.xml\n".encode()
        if route.subpath == "search":
            return render_to_string("search.html", {"page": None}, self.request("/search/")).encode()
        if route.subpath == "404":
            return render_to_string("404.html", {"page": None}, self.request("/404.html")).encode()
        if route.subpath == "sitemap":
            rows = []
            light = self.light_pages({pk for _, pk in self.sitemap_entries})
            for url, page_id in self.sitemap_entries:
                page = light.get(page_id)
                lastmod = page["last_published_at"].date().isoformat() if page and page["last_published_at"] else None
                rows.append(
                    f"<url><loc>{escape(base + url)}</loc>"
                    + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
                    + "</url>"
                )
            head = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            )
            return self.composite(head, rows, "\n", "\n</urlset>\n")
        if route.subpath == "api-index":
            light = self.light_pages(set(self.api_ids))
            items = [api_item_json(light[pk], base) for pk in sorted(self.api_ids) if pk in light]
            # Compact: the index of a large site is hundreds of kilobytes and rebuilt on every publish.
            # Byte for byte json.dumps({"meta": …, "items": […]}, ensure_ascii=False, separators=(",", ":")).
            return self.composite(f'{{"meta":{{"total_count":{len(items)}}},"items":[', items, ",", "]}")
        raise RenderError(f"未知的特殊文件 {route.url}")


def serve_page(page, request, subpath: str = ""):
    """The page's response to the request, through page.serve() (and its route, for routable pages), rendered.
    The static build and the preview both serve pages through here."""
    if isinstance(page, RoutablePageMixin):
        sub = "/" + subpath if subpath.endswith("/") or not subpath else f"/{subpath}/"
        view, args, kwargs = page.resolve_subpage(sub)
        request.routable_resolver_match = None
        response = page.serve(request, view=view, args=args, kwargs=kwargs)
    else:
        response = page.serve(request)
    if hasattr(response, "render"):
        response.render()
    return response


def api_summary(page, base: str | None = None) -> dict:
    """A page's entry in the API index, from a model instance or a light row (see Renderer.light_pages)."""
    base = base or settings.PUBLIC_BASE_URL
    if isinstance(page, dict):
        model = ContentType.objects.get_for_id(page["content_type_id"]).model_class()
        pk, title, slug, path, first = page["pk"], page["title"], page["slug"], page["path"], page["first_published_at"]
    else:
        model = page.specific_class or type(page)
        pk, title, slug, first = page.pk, page.title, page.slug, page.first_published_at
        path = page.get_url_parts()[2] or "/"
    # The same keys, order and formats as an item of the live API's listing (/api/v2/pages/).
    return {
        "id": pk,
        "meta": {
            "type": f"{model._meta.app_label}.{model.__name__}",
            "detail_url": f"/{API_PREFIX}{pk}/",
            "html_url": base + path,
            "slug": slug,
            "first_published_at": DATETIME.to_representation(first) if first else None,
        },
        "title": title,
    }


_api_items: dict[tuple, str] = {}  # a light row (and the base URL) → its entry in the index, as JSON


def api_item_json(row: dict, base: str) -> str:
    """api_summary(row) as compact JSON, remembered per row: the index is rebuilt on every publish."""
    key = (base, *row.values())
    item = _api_items.get(key)
    if item is None:
        if len(_api_items) > 100_000:
            _api_items.clear()
        item = _api_items[key] = json.dumps(api_summary(row, base), ensure_ascii=False, separators=(",", ":"))
    return item


def extract_assets(text: str) -> list[str]:
    """Release-relative paths of the static files and media a rendered file refers to."""
    base = settings.PUBLIC_BASE_URL
    found = set()
    for value in [*ATTR_URL.findall(text), *(JSON_URL.findall(text) if text.startswith(("{", "[")) else [])]:
        for part in value.split(","):
            url = part.strip().split(" ")[0]
            if url.startswith(base + "/"):
                url = url[len(base) :]
            if url.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
                found.add(url.lstrip("/").split("?")[0].split("#")[0])
    return sorted(found)


def write_file(root: Path, rel: str, data: bytes, parts: list[str] | None = None) -> Rendered:
    """Write one file with its compressed twins, and examine it for the release check (in the worker)."""
    from .builder import compress_data
    from .verify import examine

    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    twins = []
    for suffix, packed in compress_data(data, path.suffix):
        path.with_name(path.name + suffix).write_bytes(packed)
        twins.append(suffix)
    text = data.decode("utf-8", "replace")
    # JSON documents name image renditions; the API index names pages only (and is large): not scanned.
    scanned = rel.endswith((".html", ".xml")) or (rel.endswith(".json") and rel != f"{API_PREFIX}index.json")
    assets = extract_assets(text) if scanned else []
    links, problems = examine(rel, text, parts)
    doc = ""
    if rel.endswith(".html"):
        record = extract_record("/" + rel.removesuffix("index.html"), text)
        doc = store_record(record) if record else ""
    return Rendered(rel, hashlib.sha256(data).hexdigest(), len(data), assets, twins, links, problems, doc)


_worker: Renderer | None = None  # one per process and build; forked workers inherit the parent's state


def _renderer() -> Renderer:
    global _worker
    if _worker is None:
        site_id, _root, state, extra = _build_args
        _worker = Renderer(Site.objects.select_related("root_page").get(pk=site_id), state, extra)
    return _worker


def _render_chunk(routes: list[Route]) -> list[Rendered]:
    renderer = _renderer()
    renderer.load_pages({r.page_id for r in routes if r.page_id})
    out = []
    for route in routes:
        data = renderer.render(route)
        out.append(write_file(Path(_build_args[1]), route.file, data, renderer.parts))
    return out


# How long each file took to render in this process's last builds: a small build hands out the slowest first.
_last_cost: dict[str, float] = {}


def _claim_and_render(routes: list[Route], counter) -> list[Rendered]:
    """Render routes in order, each claimed from the counter shared with the other process."""
    out = []
    while True:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        if index >= len(routes):
            return out
        route = routes[index]
        started = time.perf_counter()
        out.extend(_render_chunk([route]))
        _last_cost[route.file] = time.perf_counter() - started


def _die_with_parent(parent: int):
    """A forked helper must not outlive a killed build: it would keep the build lock's file open (and so
    the lock held) and write into a folder the next build removes. Linux: PR_SET_PDEATHSIG."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _split_helper(parent: int, routes: list[Route], counter, conn, parent_end):
    """The forked helper of a small build: render what it claims, send back the results (or the error)."""
    _die_with_parent(parent)
    parent_end.close()  # so a send fails (instead of blocking) if the parent is gone
    try:
        conn.send(("ok", _claim_and_render(routes, counter), dict(_last_cost)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the build
        conn.send(("error", f"{exc}", traceback.format_exc(limit=5)))
    finally:
        conn.close()


def _render_split(routes: list[Route], progress) -> list[Rendered]:
    """Render a small build on two cores: this process and one forked helper (which inherits the warm
    caches and what the signatures computed) claim routes one by one, the slowest last time first. The
    special files (API index, sitemap) stay in this process, where their caches live on between builds."""
    own = [r for r in routes if r.kind == "special"]
    shared = [r for r in routes if r.kind != "special"]
    shared.sort(key=lambda r: _last_cost.get(r.file, 0.02), reverse=True)
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)
    reader, writer = ctx.Pipe(duplex=False)
    connections.close_all()  # neither process may use the other's database connection
    helper = ctx.Process(target=_split_helper, args=(os.getpid(), shared, counter, writer, reader), daemon=True)
    helper.start()
    writer.close()
    try:
        mine = _render_chunk(own) + _claim_and_render(shared, counter)
        progress(len(mine), len(routes))
        try:
            status, payload, extra = reader.recv()
        except EOFError:
            raise RenderError("渲染子进程意外退出") from None
        if status != "ok":
            raise RenderError(payload)
        done_here = {r.file for r in mine}
        _last_cost.update((k, v) for k, v in extra.items() if k not in done_here)
    finally:
        reader.close()
        helper.join(5)
        if helper.is_alive():
            helper.kill()
            helper.join()
    progress(len(routes), len(routes))
    return mine + payload


def _reset_worker(parent: int):
    global _worker
    _die_with_parent(parent)
    _worker = None
    connections.close_all()


_build_args: tuple = ()


def render_routes(
    site: Site, routes: list[Route], root: Path, all_routes: dict[str, Route], state: dict | None = None, progress=None
) -> list[Rendered]:
    """Render the routes into root. Large builds use one process per core (fork), small ones stay in process."""
    global _build_args, _worker
    progress = progress or (lambda done, total: None)
    sitemap_entries = sorted(
        (r.url, r.page_id) for r in all_routes.values() if r.kind == "page" and r.file.endswith(".html")
    )
    api_ids = sorted({r.page_id for r in all_routes.values() if r.kind == "api"})
    _build_args = (site.pk, str(root), state or {}, (sitemap_entries, api_ids))
    _worker = None
    total = len(routes)
    workers = min(os.cpu_count() or 1, 4)
    out: list[Rendered] = []
    try:
        if SPLIT_THRESHOLD <= total < PARALLEL_THRESHOLD and workers >= 2 and not _in_memory_db():
            return _render_split(routes, progress)
        if total < PARALLEL_THRESHOLD or workers < 2 or _in_memory_db():
            step = max(1, total // 50)
            for start in range(0, total, step):
                out += _render_chunk(routes[start : start + step])
                progress(min(start + step, total), total)
            return out
        connections.close_all()
        chunks = [routes[i : i + 50] for i in range(0, total, 50)]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_reset_worker, initargs=(os.getpid(),)) as pool:
            for result in pool.imap_unordered(_render_chunk, chunks):
                out += result
                progress(len(out), total)
        return out
    finally:
        _worker = None


def _in_memory_db() -> bool:
    """True when rendering must stay in this process: an in-memory SQLite database cannot be shared, and a
    build inside an open transaction (a test's, or a caller's atomic block) would lose it if the
    connection were closed for a fork, and forked processes could not see its uncommitted rows."""
    conn = connections["default"]
    return (conn.vendor == "sqlite" and conn.is_in_memory_db()) or conn.in_atomic_block
