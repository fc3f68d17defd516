"""Render routes to files, through the same page.serve() code path as the live CMS and its preview."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.template.loader import render_to_string
from django.test import RequestFactory
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.models import Page, Site

from cms.core.models import SiteSettings

from .routes import Route

ATTR_URL = re.compile(r'(?:src|href|content|srcset|imagesrcset)="([^"]+)"')
PARALLEL_THRESHOLD = 120


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


def make_request(site: Site, path: str = "/"):
    """A GET request for the static build: anonymous, on the public site, with per-build caches filled."""
    host = site.hostname or "localhost"
    request = RequestFactory().get(path, HTTP_HOST=host)
    request.get_host = lambda: host  # the build never answers a real client; skip ALLOWED_HOSTS
    request.user = AnonymousUser()
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

    def render(self, route: Route) -> bytes:
        if route.kind == "special":
            return self.render_special(route)
        page = self.pages[route.page_id]
        if route.kind == "api":
            return json.dumps(api_document(page), ensure_ascii=False, indent=1, sort_keys=True).encode()
        request = self.request(route.url)
        if isinstance(page, RoutablePageMixin):
            sub = "/" + route.subpath if route.subpath.endswith("/") or not route.subpath else f"/{route.subpath}/"
            view, args, kwargs = page.resolve_subpage(sub)
            request.routable_resolver_match = None
            response = page.serve(request, view=view, args=args, kwargs=kwargs)
        else:
            response = page.serve(request)
        if hasattr(response, "render"):
            response.render()
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
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "\n".join(rows) + "\n</urlset>\n"
            ).encode()
        if route.subpath == "api-index":
            light = self.light_pages(set(self.api_ids))
            base = settings.PUBLIC_BASE_URL
            items = [api_summary(light[pk], base) for pk in sorted(self.api_ids) if pk in light]
            # Compact: the index of a large site is hundreds of kilobytes and rebuilt on every publish.
            return json.dumps(
                {"meta": {"total_count": len(items)}, "items": items}, ensure_ascii=False, separators=(",", ":")
            ).encode()
        raise RenderError(f"未知的特殊文件 {route.url}")


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
    return {
        "id": pk,
        "title": title,
        "meta": {
            "type": f"{model._meta.app_label}.{model.__name__}",
            "slug": slug,
            "html_url": base + path,
            "detail_url": f"{base}/api/v2/pages/{pk}.json",
            "first_published_at": first.isoformat() if first else None,
        },
    }


def api_document(page) -> dict:
    """One page as JSON. Pages say what they expose through api_document_fields()."""
    doc = api_summary(page)
    doc["meta"]["last_published_at"] = page.last_published_at.isoformat() if page.last_published_at else None
    doc["meta"]["search_description"] = page.search_description
    if hasattr(page, "api_document_fields"):
        doc.update(page.api_document_fields())
    return doc


def extract_assets(text: str) -> list[str]:
    """Release-relative paths of the static files and media a rendered file refers to."""
    base = settings.PUBLIC_BASE_URL
    found = set()
    for value in ATTR_URL.findall(text):
        for part in value.split(","):
            url = part.strip().split(" ")[0]
            if url.startswith(base + "/"):
                url = url[len(base) :]
            if url.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
                found.add(url.lstrip("/").split("?")[0].split("#")[0])
    return sorted(found)


def write_file(root: Path, rel: str, data: bytes) -> Rendered:
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
    assets = extract_assets(text) if rel.endswith((".html", ".xml")) else []
    links, problems = examine(rel, text)
    return Rendered(rel, hashlib.sha256(data).hexdigest(), len(data), assets, twins, links, problems)


_worker: Renderer | None = None  # one per process and build; forked workers inherit the parent's state


def _render_chunk(routes: list[Route]) -> list[Rendered]:
    global _worker
    if _worker is None:
        site_id, root, state, extra = _build_args
        _worker = Renderer(Site.objects.select_related("root_page").get(pk=site_id), state, extra)
    renderer = _worker
    renderer.load_pages({r.page_id for r in routes if r.page_id})
    return [write_file(Path(_build_args[1]), r.file, renderer.render(r)) for r in routes]


def _reset_worker():
    global _worker
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
        if total < PARALLEL_THRESHOLD or workers < 2 or _in_memory_db():
            step = max(1, total // 50)
            for start in range(0, total, step):
                out += _render_chunk(routes[start : start + step])
                progress(min(start + step, total), total)
            return out
        connections.close_all()
        chunks = [routes[i : i + 50] for i in range(0, total, 50)]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_reset_worker) as pool:
            for result in pool.imap_unordered(_render_chunk, chunks):
                out += result
                progress(len(out), total)
        return out
    finally:
        _worker = None


def _in_memory_db() -> bool:
    conn = connections["default"]
    return conn.vendor == "sqlite" and conn.is_in_memory_db()
