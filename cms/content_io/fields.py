"""Typed fields of content files: each checks its value and gives the message a writer needs when it is wrong.

A field also says where a page keeps its value (`store`), so that the importer writes and the exporter
reads every page's fields from its schema (`schema.py`), not from what a model happens to have.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from .errors import FileRejected, Rejections
from .reader import check_visible

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 80
SNIPPET_SLUG_MAX = 60  # Street.slug and Person.slug
TRUE_WORDS = {"true": True, "false": False}
# Where a page keeps a field's value. Data files (site.yaml's settings, streets, people, sources) and the records
# inside a field are written field by field as they are, and their fields keep the default.
STORES = {
    "column": "a model field of the same name; a field missing from the file goes back to the field's default",
    "slug": "the page's slug (the file's name when the front matter has none)",
    "order": "the page's position among its siblings",
    "stream": "a StreamField, one block of type `block` per item",
    "rows": "inline rows (a ParentalKey's related name): featured_people, related_links, source_links, adoptions",
    "tags": "the page's tags",
    "street": "a Street, by slug",
    "page": "another page, by the path of its file",
    "hero": "the hero image with its caption and credit",
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # line, text, slug, date, bool, int, list, figures, image, refs, ref, choice, records, document
    required: bool = False
    max_length: int | None = None
    label: str = ""
    choices: tuple[str, ...] = ()
    item: Schema | None = None  # the fields of each record (kind "records")
    min_items: int = 0
    max_items: int | None = None
    store: str = "column"  # where a page keeps the value: one of STORES
    attr: str | None = None  # the page's attribute, when it is not `name`
    block: str | None = None  # store "stream": the type of each block

    def __post_init__(self):
        if self.store not in STORES or (self.store == "stream") != (self.block is not None):
            raise ValueError(f"{self.name}: store {self.store!r}, block {self.block!r}")

    @property
    def target(self) -> str:
        """The page's attribute that holds the value."""
        return self.attr or self.name

    def clean(self, raw: Any, line: int | None) -> Any:
        def fail(message: str):
            raise FileRejected(message, line=line, field=self.name)

        kind = self.kind
        if kind in ("line", "text", "slug"):
            if isinstance(raw, (dict, list)):
                fail(f"应是一段文字，而不是{'列表' if isinstance(raw, list) else '映射'}")
            value = raw.strip() if kind != "text" else raw.strip("\n").rstrip()
            if kind == "line" and "\n" in value:
                fail("只能写一行")
            if self.name in ("title", "slug", "name"):
                value = check_visible(value, self.name, line)
            if self.required and not value:
                fail("不能为空")
            if self.max_length and len(value) > self.max_length:
                fail(f"太长了：{len(value)} 个字，最多 {self.max_length} 个")
            if kind == "slug":
                if "/" in value or "\\" in value:
                    fail(f"网址名 “{value}” 不能含有路径分隔符")
                if not value:
                    fail("网址名是空的：删掉这一行，就会按标题拼音自动生成")
                if len(value) > SLUG_MAX:
                    fail(f"网址名太长：{len(value)} 个字符，最多 {SLUG_MAX} 个（静态网站每个网址名是一个文件夹）")
                if not SLUG.match(value):
                    fail(f"网址名 “{value}” 只能用小写字母、数字和连字符（如 liu-kuo-si-nian）")
            return value
        if kind == "date":
            if not isinstance(raw, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
                fail(f"日期要写成 YYYY-MM-DD，如 2023-03-21（现在是 “{_show(raw)}”）")
            try:
                return datetime.date.fromisoformat(raw.strip())
            except ValueError:
                fail(f"没有这一天：{raw}")
        if kind == "bool":
            if not isinstance(raw, str) or raw.strip().lower() not in TRUE_WORDS:
                fail(f"只能是 true 或 false（现在是 “{_show(raw)}”）")
            return TRUE_WORDS[raw.strip().lower()]
        if kind == "int":
            if not isinstance(raw, str) or not re.fullmatch(r"[1-9]\d{0,3}|0", raw.strip()):
                fail(f"应是不带前导零的整数（现在是 “{_show(raw)}”）")
            return int(raw)
        if kind == "choice":
            if not isinstance(raw, str) or raw.strip() not in self.choices:
                fail(f"只能是 {' / '.join(self.choices)} 之一（现在是 “{_show(raw)}”）")
            return raw.strip()
        if kind == "ref":
            if not isinstance(raw, str) or not raw.strip():
                fail("应是另一个 .md 文件的相对路径，如 ../playbook/yizhan.md")
            return raw.strip()
        if kind == "records":
            return self.clean_records(raw, line)
        if kind in ("list", "refs"):
            if isinstance(raw, str):
                raw = [raw]
            if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
                fail("应是文字列表，如 [隐患上报, 联动微信群]")
            items = [x.strip() for x in raw if x.strip()]
            if len({x.lower() for x in items}) != len(items):
                fail("列表里有重复项")
            self.check_count(items, fail)
            for x in items:
                if self.max_length and len(x) > self.max_length:
                    fail(f"“{x}” 太长了，最多 {self.max_length} 个字")
            return items
        if kind == "figures":
            if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
                fail('应是列表，每项写 {value: "498", unit: 名, label: 说明}')
            out = []
            for item in raw:
                unknown = set(item) - {"value", "unit", "label", "source"}
                if unknown:
                    fail(f"不认识的字段：{', '.join(sorted(unknown))}")
                if not all(isinstance(v, str) for v in item.values()):
                    fail("数字框的每一项都应是文字")
                if not item.get("value") or not item.get("label"):
                    fail("每个数字都需要 value 和 label")
                out.append({k: item.get(k, "") for k in ("value", "unit", "label", "source")})
            return out
        if kind == "image":
            if not isinstance(raw, dict):
                fail("题图要写成映射：file、alt（必填），caption、credit（可选）")
            unknown = set(raw) - {"file", "alt", "caption", "credit"}
            if unknown:
                fail(f"题图不认识的字段：{', '.join(sorted(unknown))}")
            for key in ("file", "alt"):
                if not isinstance(raw.get(key), str) or not raw[key].strip():
                    fail(f"题图缺少 {key}" + ("（替代文字，告诉看不见图片的读者图上是什么）" if key == "alt" else ""))
            if not all(isinstance(v, str) for v in raw.values()):
                fail("题图的每一项都应是文字")
            value = {k: (raw.get(k) or "").strip() for k in ("file", "alt", "caption", "credit")}
            for key, limit in (("caption", 255), ("credit", 120)):  # the page's hero_caption, hero_credit
                if len(value[key]) > limit:
                    fail(f"题图的 {key} 太长了：{len(value[key])} 个字，最多 {limit} 个")
            return value
        raise AssertionError(kind)

    def check_count(self, items: list, fail):
        if len(items) < self.min_items:
            fail(f"至少要有 {self.min_items} 项（现在有 {len(items)} 项）")
        if self.max_items is not None and len(items) > self.max_items:
            fail(f"最多 {self.max_items} 项（现在有 {len(items)} 项）")

    def clean_records(self, raw: Any, line: int | None) -> list[dict]:
        """A list of mappings, each checked against the item schema; a problem names the item: steps[2].who."""
        from .errors import Problem

        names = ", ".join(f.name for f in self.item.fields)
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            raise FileRejected(f"应是列表，每项是一个映射（可用字段：{names}）", line=line, field=self.name)

        def fail(message: str):
            raise FileRejected(message, line=line, field=self.name)

        self.check_count(raw, fail)
        out = []
        problems: list[FileRejected] = []
        for n, record in enumerate(raw, 1):
            errors: list[Problem] = []
            cleaned = self.item.clean(record, {}, "", errors)
            problems += [
                FileRejected(e.message, line=line, field=f"{self.name}[{n}].{e.field or ''}".rstrip("."))
                for e in errors
            ]
            out.append(cleaned)
        if problems:
            raise Rejections(problems)
        return out


def _show(raw: Any) -> str:
    return raw if isinstance(raw, str) else type(raw).__name__


@dataclass(frozen=True)
class Schema:
    fields: tuple[Field, ...]
    body: str | None = None  # None, "markdown" (StreamField body) or the name of a plain text field
    body_required: bool = True

    def clean(self, data: dict, lines: dict[str, int], path: str, errors: list) -> dict:
        from .errors import Problem

        known = {f.name for f in self.fields}
        out: dict[str, Any] = {}
        for key in data:
            if key not in known:
                errors.append(Problem(path, f"不认识的字段（可用：{', '.join(sorted(known))}）", lines.get(key), key))
        for f in self.fields:
            # An empty value counts as a missing field, except `slug: ""`, which is refused with its own message.
            if f.name not in data or data[f.name] is None or (data[f.name] == "" and f.name != "slug"):
                if f.required:
                    errors.append(Problem(path, "缺少必填字段", lines.get(f.name), f.name))
                continue
            try:
                out[f.name] = f.clean(data[f.name], lines.get(f.name))
            except FileRejected as exc:
                errors.append(Problem(path, exc.message, exc.line or lines.get(f.name), exc.field))
            except Rejections as many:
                errors += [Problem(path, e.message, e.line or lines.get(f.name), e.field) for e in many.problems]
        return out
