"""What an import reads, before anything is written: the items, their digests, and the report."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from ..body import ParsedBody
from ..errors import Problem
from ..fields import Schema

FORMAT_VERSION = "1"
HOME_KEY = "site.yaml#home"
SETTINGS_KEY = "site.yaml#settings"
MAX_PROBLEMS_PER_FILE = 100  # listed for one file; the rest are counted


def digest(*parts: object) -> str:
    h = hashlib.sha256(FORMAT_VERSION.encode())
    for part in parts:
        h.update(b"\0")
        h.update(
            part
            if isinstance(part, bytes)
            else json.dumps(part, ensure_ascii=False, sort_keys=True, default=str).encode()
        )
    return h.hexdigest()


@dataclass
class FileItem:
    """An image or a document that pages use."""

    key: str  # path inside content/
    data: bytes
    digest: str
    text: str = ""  # an image's alt text; a document's title, from the first page that lists it


@dataclass
class PageItem:
    key: str
    model: type
    parent_key: str | None
    fields: dict
    slug: str
    digest: str
    body: ParsedBody | None = None
    links: list[str] = field(default_factory=list)  # keys of linked pages, by sentinel index
    hero_key: str | None = None
    related_keys: list[str] = field(default_factory=list)
    body_image_keys: list[str] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)  # path written in a structured field → page key
    document_keys: dict[str, str] = field(default_factory=dict)  # path written in templates → document key
    field_lines: dict[str, int] = field(default_factory=dict)  # front matter key → line, for problems
    quote_sources: list[tuple[str, str | None]] = field(default_factory=list)  # (speaker, source key) per quote
    schema: Schema | None = None  # what the file may hold, and where the page keeps each field


@dataclass
class SnippetItem:
    key: str
    kind: str
    slug: str
    fields: dict
    digest: str


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def reject(self, path: str, message: str, line: int | None = None, field_name: str | None = None):
        self.rejected.append(Problem(path, message, line, field_name))

    def summary(self) -> str:
        rejected_files = len({p.path for p in self.rejected})
        return (
            f"新建 {len(self.created)}，更新 {len(self.updated)}，未变 {len(self.unchanged)}，"
            f"拒绝 {rejected_files} 个文件（{len(self.rejected)} 个问题）"
        )
