"""Checks a release must pass before it goes live. Each problem names the file and what is wrong."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from wagtail.models import Page

from cms.core.privacy import KIND_LABELS, find_personal_data, organisation_contacts

from .worker import worker

ABSOLUTE_HOST = re.compile(r"https?://([^/\"'\s<>?#]+)")
LINK_ATTR = re.compile(r'\s(?:href|src|srcset|imagesrcset)="([^"]*)"')
TEXT_SUFFIXES = (".html", ".json", ".xml", ".txt")
DEV_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0", "testserver", "[::1]")  # noqa: S104 - a list to look for
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 1024
MAX_PROBLEMS_PER_KIND = 40


def internal_targets(text: str, file: str) -> tuple[list[str], list[str]]:
    """(release-relative targets of internal links, links that point at a CMS or development host)."""
    base = settings.PUBLIC_BASE_URL
    targets, bad_hosts = [], []
    page_dir = posixpath.dirname(file)
    for value in LINK_ATTR.findall(text):
        for part in value.split(",") if "," in value and " " in value else [value]:
            url = part.strip().split(" ")[0]
            if not url or url.startswith(("#", "mailto:", "tel:", "data:")):
                continue
            if url.startswith(base + "/") or url == base:
                url = url[len(base) :] or "/"
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                host = (parts.hostname or "").lower()
                if host in DEV_HOSTS or host == cms_host():
                    bad_hosts.append(url)
                continue
            path = unquote(parts.path)
            if not path:
                continue
            if path.startswith(("/admin", "/django-admin", "/cms-admin")):
                bad_hosts.append(url)
                continue
            target = posixpath.normpath(path.lstrip("/") if path.startswith("/") else posixpath.join(page_dir, path))
            if path.endswith("/") or target in (".", ""):
                target = posixpath.join("" if target == "." else target, "index.html")
            targets.append(target)
    return targets, bad_hosts


def dev_host_urls(text: str) -> list[str]:
    """Absolute URLs in a text whose host is a development host or the CMS (e.g. http://localhost/…)."""
    bad = {h.strip("[]") for h in DEV_HOSTS} | {cms_host()}
    found = []
    for match in ABSOLUTE_HOST.finditer(text):
        try:
            host = urlsplit(match.group(0)).hostname or ""
        except ValueError:  # not a URL after all (e.g. "http://[" in prose)
            continue
        if host in bad:
            found.append(match.group(0))
    return found


def cms_host() -> str:
    host = urlsplit(getattr(settings, "WAGTAILADMIN_BASE_URL", "")).hostname or ""
    public = urlsplit(settings.PUBLIC_BASE_URL).hostname or ""
    return host.lower() if host and host != public else "\0"


def exists(out: Path, target: str) -> bool:
    path = out / target
    if path.is_file():
        return True
    return path.is_dir() and (path / "index.html").is_file()


def scan_parts(rel: str, parts: list[str], allowed: tuple[str, ...] = ()) -> tuple[list[tuple[str, str]], list[str]]:
    """(find_personal_data, dev_host_urls) over a file made by joining `parts` with separators that cannot be
    part of a match (e.g. "," between JSON objects, newlines between XML elements, each part beginning and
    ending with punctuation): the same findings as scanning the whole text, but each distinct part is scanned
    once per process (again when the allowed contacts change): the composite files (the API index, the
    sitemap: 30,000 entries at 20,000 stories) are rebuilt on every publish, and a warm worker scans only
    the parts that are new (worker.scanned_parts)."""
    known_allowed, known = worker.scanned_parts.get(rel, ((), {}))
    if known_allowed != allowed:
        known = {}
    seen: dict[str, tuple[list[tuple[str, str]], list[str]]] = {}
    hits: list[tuple[str, str]] = []
    urls: list[str] = []
    for part in parts:
        found = seen.get(part)
        if found is None:
            found = known.get(part)
            if found is None:
                found = (find_personal_data(part, allowed=allowed), dev_host_urls(part))
            seen[part] = found
        hits += found[0]
        urls += found[1]
    worker.scanned_parts[rel] = (allowed, seen)  # only the current parts: the cache never outgrows the file
    return hits, urls


def examine(rel: str, text: str, parts: list[str] | None = None) -> tuple[list[str], list[str]]:
    """One rendered file: (its internal link targets, what the release check must refuse in it).

    `parts`, for a file joined from independent pieces, lets the personal-data scan skip pieces it has
    already scanned (see scan_parts)."""
    problems = []
    encoded = rel.encode()
    if len(encoded) > MAX_PATH_BYTES or any(len(p.encode()) > MAX_NAME_BYTES for p in rel.split("/")):
        problems.append(f"path|{rel}：路径超过文件系统的长度限制")
    if not rel.endswith(TEXT_SUFFIXES):
        return [], problems
    # The operator's own address and telephone (site settings) are on every page's footer, and are not personal.
    allowed = worker.once("contacts", organisation_contacts)
    if parts is not None:
        personal, dev_urls = scan_parts(rel, parts, allowed)
    else:
        personal = find_personal_data(text, allowed=allowed)
        dev_urls = [] if rel.endswith(".html") else dev_host_urls(text)
    for kind, masked in personal:
        problems.append(f"personal-data|{rel}：含有{KIND_LABELS[kind]} {masked}")
    host = cms_host()
    if host != "\0" and host in text:
        problems.append(f"cms-host|{rel}：含有后台地址 {host}")
    if not rel.endswith(".html"):
        # The API documents, the feed and the sitemap are read by programs, which follow any absolute URL.
        for url in sorted(set(dev_urls)):
            problems.append(f"cms-host|{rel}：含有指向后台或开发地址的网址 {url}")
        return [], problems
    targets, bad_hosts = internal_targets(text, rel)
    problems += [f"cms-host|{rel}：链接指向后台或开发地址 {url}" for url in bad_hosts]
    problems += quote_problems(rel, text)
    return sorted(set(targets)), problems


QUOTE_FIGURE = re.compile(r'<figure class="quote">(.*?)</figure>', re.S)
QUOTE_WORDS = re.compile(r"<blockquote>(.*?)</blockquote>", re.S)
QUOTE_CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.S)
TAG = re.compile(r"<[^>]+>")


def quote_problems(rel: str, text: str) -> list[str]:
    """The release's own check of the rule of quotes: an attributed quote on a page cites its source and
    is, word for word, a quote some source records (pages published before the rule, or by any route
    the gate missed, are caught here)."""
    from html import unescape

    from cms.core.models import SourceQuote
    from cms.core.provenance import normalise_quote

    figures = QUOTE_FIGURE.findall(text)
    if not figures:
        return []
    recorded = worker.once(
        "quotes", lambda: {normalise_quote(t) for t in SourceQuote.objects.values_list("text", flat=True)}
    )
    problems = []
    for inner in figures:
        caption = QUOTE_CAPTION.search(inner)
        who = unescape(TAG.sub("", caption.group(1) if caption else "")).strip().lstrip("—").strip()
        if not who:
            continue  # an unattributed quote is nobody's words
        words = QUOTE_WORDS.search(inner)
        said = normalise_quote(unescape(TAG.sub("", words.group(1) if words else "")))
        name = who.split("，")[0].split("（")[0].strip()
        if 'class="quote__source"' not in inner:
            problems.append(f"unsourced-quote|{rel}：{name}的引语没有注明出处")
        elif said not in recorded:
            problems.append(f"unsourced-quote|{rel}：{name}的引语不是任何出处记录的原话（“{said[:16]}……”）")
    return problems


def verify_release(out: Path, routes, files: dict, rendered: set[str], removed: set[str]) -> list[str]:
    """Problems that block the release, from the files' examinations and the release as a whole."""
    problems: dict[str, list[str]] = {}

    def report(kind: str, message: str):
        problems.setdefault(kind, []).append(message)

    for rel in sorted(rendered):
        meta = files[rel]
        for item in meta.get("problems", []):
            kind, _, message = item.partition("|")
            report(kind, message)
        for target in meta.get("links", []):
            if target not in files and not exists(out, target):
                report("broken-link", f"{rel}：链接或资源 /{target} 在发布版本中不存在")

    # Files kept from the previous release must not link to what this release removes.
    if removed:
        for rel, meta in files.items():
            if rel in rendered:
                continue
            for target in meta.get("links", []):
                if target in removed:
                    report("broken-link", f"{rel}：链接 /{target} 指向已删除的页面")

    # Only live, public pages may be in the release: a page unpublished while we built blocks it.
    # (Every live, public page's id, read without a list of thousands of ids as query parameters.)
    still_live = set(Page.objects.live().public().values_list("pk", flat=True))
    for route in routes.values():
        if route.page_id and route.page_id not in still_live:
            report("not-live", f"{route.file}：页面 {route.page_id} 已不再公开发布")

    lines = []
    for _kind, items in sorted(problems.items()):
        lines += items[:MAX_PROBLEMS_PER_KIND]
        if len(items) > MAX_PROBLEMS_PER_KIND:
            lines.append(f"……另有 {len(items) - MAX_PROBLEMS_PER_KIND} 个同类问题")
    return lines
