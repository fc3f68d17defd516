"""Render routes to files, through the same page.serve() code path as the live CMS and its preview."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.base import SessionBase
from django.template.loader import render_to_string
from django.test import RequestFactory
from rest_framework.fields import DateTimeField
from wagtail.blocks import StreamValue
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.fields import StreamField
from wagtail.models import Page, Site

from cms.core.models import SiteSettings
from cms.core.publishing_protocol import BuildState, HasBuildQueryset, PreparesBuild, PreparesRoutes

from .api_docs import StaticPagesAPI
from .files import compress_data
from .routes import API_PREFIX, Route, in_sitemap, sitemap_bucket, sitemap_url
from .search.records import extract_record, store_record
from .verify import examine
from .worker import worker

DATETIME = DateTimeField()  # the live API's format for dates and times
JSON_URL = re.compile(r'"(https?://[^"]+|/(?:static|media)/[^"]+)"')
ATTR_URL = re.compile(r'(?:src|href|content|srcset|imagesrcset)="([^"]+)"')


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
    def __init__(self, site: Site, state: BuildState | None = None, extra=({}, None, None)):
        self.site = site
        self.state = state if state is not None else BuildState()
        # Every route of the release; its live pages (routes.LivePage), or None; the sitemap's URLs by bucket
        # (routes.SignaturePass.bucket_urls), or None.
        self.all_routes, self.live, self.sitemap_buckets = extra
        self.settings_obj = SiteSettings.load()
        self.menu = list(
            site.root_page.get_children().live().public().in_menu().only("title", "url_path", "path", "depth")
        )
        self.pages: dict[int, Page] = {}
        # Shared by every page this process renders (breadcrumbs, …); listings read the build's index of live
        # stories from it (the stories' groups) instead of asking the database for thousands of ids.
        self.cache: dict = {"stories_index": self.state.stories_index}
        self.root_paths = Site.get_site_root_paths()
        self.parts: list[str] | None = None  # the parts of the file render() last returned, if composite
        self.api: StaticPagesAPI | None = None  # made on the first page document

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
            qs = cls.build_queryset() if isinstance(cls, HasBuildQueryset) else cls.objects.all()
            loaded = list(qs.filter(pk__in=pks))
            bind_streams(loaded)
            if isinstance(cls, PreparesBuild):
                cls.prepare_build(loaded, self.state)
            for page in loaded:
                self.pages[page.pk] = page

    def prepare_routes(self, routes: list[Route]):
        """Page types with sub-routes (listings) fetch what all of this process's routes of theirs show at once.
        The pages must be loaded (load_pages)."""
        subpaths: dict[int, list[str]] = defaultdict(list)
        for route in routes:
            if route.kind == "page" and route.page_id:
                subpaths[route.page_id].append(route.subpath)
        for page_id, subs in subpaths.items():
            page = self.pages.get(page_id)
            if isinstance(page, PreparesRoutes):
                page.prepare_routes(subs, self.cache)

    @property
    def api_ids(self) -> list[int]:
        """The pages that have a JSON document (every live, public page), in id order."""
        if "api-ids" not in self.cache:
            self.cache["api-ids"] = sorted({r.page_id for r in self.all_routes.values() if r.kind == "api"})
        return self.cache["api-ids"]

    def sitemap_urls(self, k: int, count: int) -> list[str]:
        """The page URLs that sitemap file k of `count` lists, in order."""
        if self.sitemap_buckets is None:
            return sorted(
                url for url, r in self.all_routes.items() if in_sitemap(r) and sitemap_bucket(url) % count == k
            )
        return sorted(url for bucket in self.sitemap_buckets[k::count] for url in bucket)

    def light_pages(self, ids: set[int]) -> dict[int, dict]:
        """The few fields the sitemap and the API index list, for many pages, without model instances: from the
        signature pass's rows when the build gives them, else from the database."""
        if self.live is not None:
            root = self.site.root_page.url_path
            return {pk: _light_row(self.live[pk], root) for pk in ids if pk in self.live}
        if "light" not in self.cache:
            root = self.site.root_page.url_path
            rows = Page.objects.filter(url_path__startswith=root).values(
                "pk", "title", "slug", "url_path", "content_type_id", "first_published_at", "last_published_at"
            )
            self.cache["light"] = {r["pk"]: {**r, "path": "/" + r["url_path"][len(root) :]} for r in rows}
        return {pk: row for pk, row in self.cache["light"].items() if pk in ids}

    def api_items(self, base: str) -> list[str]:
        """The API index's entries as JSON, in id order. From the signature pass's rows, an entry is made again
        only for a page whose row changed (a pass keeps the row object of every page it did not read again)."""
        if self.live is None:
            light = self.light_pages(set(self.api_ids))
            return [api_item_json(light[pk], base) for pk in self.api_ids if pk in light]
        root, items, known = self.site.root_page.url_path, [], worker.api_rows
        for pk in self.api_ids:
            row = self.live.get(pk)
            if row is None:
                continue
            kept = known.get(pk)
            if kept is None or kept[0] is not row or kept[1] != base:
                kept = known[pk] = (row, base, api_item_json(_light_row(row, root), base))
            items.append(kept[2])
        return items

    def composite(self, head: str, parts: list[str], sep: str, tail: str) -> bytes:
        """A file joined from independent parts (sitemap rows, API index items). The separators and each
        part's first and last characters are punctuation, so the personal-data check may scan the parts
        one by one and skip those it has seen (verify.scan_parts)."""
        self.parts = [head, *parts, tail]
        return (head + sep.join(parts) + tail).encode()

    def api_detail(self, page) -> bytes:
        """The page's document exactly as the live API answers /api/v2/pages/<id>/, from the fetched page."""
        if self.api is None:
            self.api = StaticPagesAPI(self)
        return self.api.document(page)

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
        if route.subpath.startswith("sitemap-index:"):
            _, count, files = route.subpath.split(":")
            head = '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            rows = [
                f"<sitemap><loc>{escape(base + sitemap_url(int(k), int(count)))}</loc></sitemap>"
                for k in files.split(",")
                if k
            ]
            return (head + "\n".join(rows) + "\n</sitemapindex>\n").encode()
        if route.subpath.startswith("sitemap:"):
            return self.render_sitemap(*map(int, route.subpath.split(":")[1:]), base)
        if route.subpath == "api-index":
            items = self.api_items(base)
            # Compact: the index of a large site is hundreds of kilobytes and rebuilt on every publish.
            # Byte for byte json.dumps({"meta": …, "items": […]}, ensure_ascii=False, separators=(",", ":")).
            return self.composite(f'{{"meta":{{"total_count":{len(items)}}},"items":[', items, ",", "]}")
        raise RenderError(f"未知的特殊文件 {route.url}")

    def render_sitemap(self, k: int, count: int, base: str) -> bytes:
        """Sitemap file k of `count`: its page URLs, each with its page's last publication (lastmod)."""
        urls = self.sitemap_urls(k, count)
        ids = {self.all_routes[url].page_id for url in urls}
        if self.live is not None:
            published = {pk: self.live[pk].last_published_at for pk in ids if pk in self.live}
        else:
            published = {pk: row["last_published_at"] for pk, row in self.light_pages(ids).items()}
        rows, known = [], worker.sitemap_rows
        for url in urls:
            when = published.get(self.all_routes[url].page_id)
            kept = known.get(url)
            if kept is None or kept[0] != (base, when):
                lastmod = when.date().isoformat() if when else None
                row = (
                    f"<url><loc>{escape(base + url)}</loc>"
                    + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
                    + "</url>"
                )
                kept = known[url] = ((base, when), row)
            rows.append(kept[1])
        head = '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        return self.composite(head, rows, "\n", "\n</urlset>\n")


def _light_row(page, root: str) -> dict:
    """A light row (Renderer.light_pages) from a signature pass's LivePage."""
    return {
        "pk": page.pk,
        "title": page.title,
        "slug": page.slug,
        "url_path": page.url_path,
        "content_type_id": page.content_type_id,
        "first_published_at": page.first_published_at,
        "last_published_at": page.last_published_at,
        "path": "/" + page.url_path[len(root) :],
    }


def bind_streams(pages: list[Page]):
    """Turn the StreamFields of many pages of one type into blocks with one bulk_to_python per block type for
    all of them (Wagtail does it per page: a query per page for each snippet or page chosen in a stream)."""
    if not pages:
        return
    deferred = pages[0].get_deferred_fields()
    for model_field in type(pages[0])._meta.concrete_fields:
        if not isinstance(model_field, StreamField) or model_field.attname in deferred:
            continue
        unbound: dict[str, list[tuple[StreamValue, int]]] = defaultdict(list)
        for page in pages:
            stream = getattr(page, model_field.attname)
            if not isinstance(stream, StreamValue) or not hasattr(stream, "_bound_blocks"):
                continue
            for i, raw in enumerate(stream._raw_data):
                if stream._bound_blocks[i] is None and raw["type"] in stream.stream_block.child_blocks:
                    unbound[raw["type"]].append((stream, i))
        for type_name, items in unbound.items():
            block = items[0][0].stream_block.child_blocks[type_name]
            values = block.bulk_to_python([stream._raw_data[i]["value"] for stream, i in items])
            for (stream, i), value in zip(items, values, strict=True):
                stream._bound_blocks[i] = StreamValue.StreamChild(block, value, id=stream._raw_data[i].get("id"))


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


def api_item_json(row: dict, base: str) -> str:
    """api_summary(row) as compact JSON, remembered per row: the index is rebuilt on every publish."""
    key = (base, *row.values())
    item = worker.api_items.get(key)
    if item is None:
        if len(worker.api_items) > 100_000:
            worker.api_items.clear()
        item = worker.api_items[key] = json.dumps(api_summary(row, base), ensure_ascii=False, separators=(",", ":"))
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
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    twins = []
    for suffix, packed in compress_data(data, path.suffix):
        path.with_name(path.name + suffix).write_bytes(packed)
        twins.append(suffix)
    text = data.decode("utf-8", "replace")
    # JSON documents name image renditions; the API index names pages only (and is large): not scanned.
    # The web app manifest names its icons: they are copied into the release like a page's images.
    scanned = rel.endswith((".html", ".xml", ".webmanifest")) or (
        rel.endswith(".json") and rel != f"{API_PREFIX}index.json"
    )
    assets = extract_assets(text) if scanned else []
    links, problems = examine(rel, text, parts)
    doc = ""
    if rel.endswith(".html"):
        record = extract_record("/" + rel.removesuffix("index.html"), text)
        doc = store_record(record) if record else ""
    return Rendered(rel, hashlib.sha256(data).hexdigest(), len(data), assets, twins, links, problems, doc)
