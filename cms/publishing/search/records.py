"""The search records of the public site's pages: what each page gives the index.

Every page marks its own text for search (``data-search-body``, minus ``data-search-ignore``: the teasers
it repeats from other pages; ``data-search-title`` marks the title). The render worker extracts a record
per page (URL, title, kind, section, text) and keeps it in ``site/search-records/`` by its digest
(content-addressed: written once, never changed; a record lost there is extracted again from the release).
The index (index.py) is made from these records.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings


class SearchIndexError(Exception):
    pass


BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul",
}  # fmt: skip
SKIP_TAGS = {"script", "style", "template", "noscript", "svg", "button", "select", "textarea"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\s*\n\s*")


class _Extractor(HTMLParser):
    """The text of a page's search regions, its title and labels (see the module's docstring)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool, bool]] = []  # (tag, in body, ignored, title)
        self.body: list[str] = []
        self.title: list[str] = []
        self.kind = self.section = ""
        self.found = False

    def handle_starttag(self, tag, attrs):
        in_body, ignored, in_title = self.stack[-1][1:] if self.stack else (False, False, False)
        names = dict(attrs)
        if "data-search-body" in names:
            in_body = self.found = True
            self.kind = self.kind or names.get("data-search-kind") or ""
            self.section = self.section or names.get("data-search-section") or ""
        if "data-search-ignore" in names or tag in SKIP_TAGS:
            ignored = True
        if "data-search-title" in names and in_body:
            in_title = True
        if tag in BLOCK_TAGS and in_body and not ignored:
            self.body.append("\n")
        if tag not in VOID_TAGS:
            self.stack.append((tag, in_body, ignored, in_title))
        elif tag == "img" and in_body and not ignored and names.get("alt"):
            self.body.append(f" {names['alt']} ")

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if tag in BLOCK_TAGS and self.stack and self.stack[-1][1]:
            self.body.append("\n")

    def handle_data(self, data):
        if not self.stack:
            return
        _tag, in_body, ignored, in_title = self.stack[-1]
        if in_body and not ignored:
            self.body.append(data)
            if in_title:
                self.title.append(data)


def clean(text: str) -> str:
    return _LINES.sub("\n", _SPACES.sub(" ", text)).strip()


def extract_record(url: str, html: str) -> dict | None:
    """The page's search record, or None for a page without a search region."""
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    if not parser.found:
        return None
    text = clean("".join(parser.body))
    title = clean("".join(parser.title)).replace("\n", " ")
    if not text:
        return None
    return {"url": url, "title": title, "kind": parser.kind, "section": parser.section, "text": text}


def records_dir() -> Path:
    return Path(settings.SITE_DIR) / "search-records"


def record_digest(record: dict) -> str:
    data = json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()[:24]


def store_record(record: dict) -> str:
    """Keep a record by its digest (content-addressed: written once, never changed); return the digest."""
    key = record_digest(record)
    path = records_dir() / key[:2] / f"{key}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{key}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False, sort_keys=True))
        os.replace(tmp, path)
    return key


def prune_records(keep: set[str]):
    """Remove the records whose digest is not in keep."""
    folder = records_dir()
    if not folder.is_dir():
        return
    for sub in folder.iterdir():
        for path in sub.glob("*.json"):
            if path.stem not in keep:
                path.unlink(missing_ok=True)


def load_record(key: str, release: Path | None = None, file: str | None = None) -> dict:
    path = records_dir() / key[:2] / f"{key}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        # The store was cleaned or lost: the release still has the page, and the record is made again.
        if release is not None and file is not None and (release / file).exists():
            record = extract_record("/" + file.removesuffix("index.html"), (release / file).read_text())
            if record and record_digest(record) == key:
                store_record(record)
                return record
        raise SearchIndexError(f"搜索记录丢失：{key}（{file}）") from None
