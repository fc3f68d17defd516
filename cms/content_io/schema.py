"""What each kind of file may contain: typed fields with the messages a writer needs when one is wrong."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import FileRejected, Rejections
from .reader import check_visible

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 80
SNIPPET_SLUG_MAX = 60  # Street.slug and Person.slug
TRUE_WORDS = {"true": True, "false": False}


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


# A meta description: search engines show about 80 to 120 Chinese characters of it. The admin's limit is the
# same (BasePageForm.SEARCH_DESCRIPTION_MAX in cms/core/models/base.py).
SEARCH_DESCRIPTION_MAX = 200
SEO = (
    Field("seo_title", "line", max_length=255),
    Field("search_description", "text", max_length=SEARCH_DESCRIPTION_MAX),
)

STORY = Schema(
    (
        Field("title", "line", required=True, max_length=255),
        Field("slug", "slug"),
        Field("date", "date", required=True),
        Field("summary", "text", required=True, max_length=300),
        Field("street", "slug"),
        Field("tags", "list", max_length=100),
        Field("people", "refs"),
        Field("sources", "list", max_length=60),
        Field("illustrative", "bool"),
        Field("featured", "bool"),
        Field("hero_image", "image"),
        Field("related", "refs"),
        *SEO,
    ),
    body="markdown",
)
STORY_INDEX = Schema((Field("title", "line", required=True, max_length=255), Field("slug", "slug"), *SEO), body="intro")
HOME = Schema(
    (
        Field("title", "line", required=True, max_length=255),
        Field("lead", "text"),
        Field("key_figures", "figures"),
        Field("latest_count", "int"),
        *SEO,
    )
)
SETTINGS = Schema(
    (
        Field("program_name", "line", max_length=60),
        Field("tagline", "line", max_length=120),
        Field("footer_text", "text"),
        Field("publisher", "line", max_length=120),
        Field("office_name", "line", max_length=80),
        Field("office_address", "line", max_length=160),
        Field("office_phone", "line", max_length=40),
        Field("office_email", "line", max_length=254),
        Field("office_hours", "line", max_length=80),
        Field("icp_number", "line", max_length=60),
        Field("police_number", "line", max_length=60),
    )
)
STREET = Schema(
    (
        Field("slug", "slug", max_length=SNIPPET_SLUG_MAX),
        Field("name", "line", required=True, max_length=60),
        Field("district", "line", required=True, max_length=30),
        Field("city", "line", max_length=30),
        Field("setting", "line", max_length=200),
        Field("summary", "text"),
        Field("key_figures", "figures"),
        Field("source", "slug", max_length=60),
    )
)
PERSON = Schema(
    (
        Field("slug", "slug", max_length=SNIPPET_SLUG_MAX),
        Field("name", "line", required=True, max_length=40),
        Field("role", "line", required=True, max_length=80),
        Field("organisation", "line", max_length=80),
        Field("street", "slug"),
        Field("named_in", "slug", max_length=60),
        Field("consent_on_record", "bool"),
        Field("consent_note", "line", max_length=200),
    )
)


SOURCE_QUOTE = Schema((Field("person", "slug", required=True), Field("text", "text", required=True, max_length=600)))
SOURCE = Schema(
    (
        Field("key", "slug", required=True, max_length=60),
        Field("publication", "line", required=True, max_length=80),
        Field("title", "line", required=True, max_length=200),
        Field("date", "date", required=True),
        Field("authors", "line", max_length=120),
        Field("url", "line", max_length=200),
        Field("note", "line", max_length=200),
        Field("quotes", "records", item=SOURCE_QUOTE, max_items=200),
    )
)

TITLE = Field("title", "line", required=True, max_length=255)
SECTION_INDEX = Schema(
    (TITLE, Field("slug", "slug"), Field("intro", "text", required=True), *SEO), body="markdown", body_required=False
)
STEP = Schema(
    (
        Field("title", "line", required=True, max_length=120),
        Field("who", "line", required=True, max_length=120),
        Field("time", "line", required=True, max_length=80),
        Field("cost", "line", required=True, max_length=120),
        Field("needs", "line", required=True, max_length=200),
        Field("detail", "text"),
    )
)
PITFALL = Schema((Field("title", "line", required=True, max_length=120), Field("detail", "text", required=True)))
CASE = Schema(
    (
        Field("street", "slug", required=True),
        Field("text", "text", required=True),
        Field("figures", "figures"),
        Field("stories", "refs"),
        Field("sources", "list", max_length=60),
    )
)
TEMPLATE = Schema(
    (
        Field("file", "line", required=True),
        Field("title", "line", required=True, max_length=120),
        Field("description", "line", max_length=200),
    )
)
CHAPTER = Schema(
    (
        TITLE,
        Field("slug", "slug"),
        Field("order", "int", required=True),
        Field("summary", "text", required=True, max_length=300),
        Field("purpose", "text", required=True),
        Field("steps", "records", required=True, item=STEP, min_items=1, max_items=12),
        Field("checklist", "list", max_length=200, max_items=20),
        Field("pitfalls", "records", item=PITFALL, max_items=10),
        Field("cases", "records", item=CASE, max_items=6),
        Field("templates", "records", item=TEMPLATE, max_items=10),
        Field("change_note", "line", max_length=300),
        Field("change_kind", "choice", choices=("major", "minor")),
        *SEO,
    ),
    body="markdown",
    body_required=False,
)
ADOPTION = Schema(
    (
        Field("street", "slug", required=True),
        Field("stage", "choice", required=True, choices=("planned", "pilot", "running", "expanding")),
        Field("since", "line", max_length=40),
        Field("runner", "line", required=True, max_length=120),
        Field("note", "line", required=True, max_length=300),
    )
)
COMPONENT = Schema(
    (
        TITLE,
        Field("slug", "slug"),
        Field("order", "int", required=True),
        Field("short_name", "line", max_length=12),
        Field("role", "choice", required=True, choices=("hub", "component")),
        Field("summary", "text", required=True, max_length=300),
        Field("problem", "text", required=True),
        Field("who_runs", "line", required=True, max_length=200),
        Field("needs_people", "line", required=True, max_length=200),
        Field("needs_space", "line", required=True, max_length=200),
        Field("needs_money", "line", required=True, max_length=200),
        Field("playbook", "ref"),
        Field("measures", "list", max_length=120, min_items=1, max_items=10),
        Field("risks", "list", max_length=200, min_items=1, max_items=10),
        Field("adoptions", "records", item=ADOPTION, max_items=50),
        Field("stories", "refs"),
        Field("sources", "list", max_length=60),
        *SEO,
    ),
    body="markdown",
    body_required=False,
)


COURSE = Schema(
    (
        TITLE,
        Field("slug", "slug"),
        Field("order", "int", required=True),
        Field("summary", "text", required=True, max_length=300),
        Field("audience", "line", required=True, max_length=120),
        *SEO,
    ),
    body="intro",
)
QUESTION = Schema(
    (
        Field("question", "line", required=True, max_length=300),
        Field("options", "list", required=True, max_length=200, min_items=2, max_items=4),
        Field("answer", "int", required=True),
        Field("explanation", "text", required=True),
    )
)
LESSON = Schema(
    (
        TITLE,
        Field("slug", "slug"),
        Field("order", "int", required=True),
        Field("duration", "int", required=True),
        Field("key_points", "list", required=True, max_length=200, min_items=3, max_items=5),
        Field("sources", "list", max_length=300, max_items=10),
        Field("quiz", "records", item=QUESTION, max_items=10),
        *SEO,
    ),
    body="markdown",
)


INFO = Schema(
    (TITLE, Field("slug", "slug"), Field("summary", "text", required=True, max_length=300), *SEO), body="markdown"
)
PAGES_FOLDER = "pages"  # content/pages/<slug>.md: information pages directly under home (privacy, reuse)


@dataclass
class Section:
    """A top-level folder of content/ and the page types it holds.

    A section with a grandchild model nests one level deeper: `training/<course>/_index.md` is a child
    page (a course) and `training/<course>/<lesson>.md` its children (lessons).
    """

    folder: str
    index_model: str  # "app_label.ModelName"
    index_schema: Schema
    child_model: str
    child_schema: Schema
    grandchild_model: str | None = None
    grandchild_schema: Schema | None = None
    extra: dict = field(default_factory=dict)


SECTIONS = {
    "stories": Section("stories", "stories.StoryIndexPage", STORY_INDEX, "stories.StoryPage", STORY),
    "playbook": Section("playbook", "playbook.PlaybookPage", SECTION_INDEX, "playbook.PlaybookChapterPage", CHAPTER),
    "model": Section("model", "governance.ModelIndexPage", SECTION_INDEX, "governance.ComponentPage", COMPONENT),
    "training": Section(
        "training",
        "training.TrainingIndexPage",
        SECTION_INDEX,
        "training.CoursePage",
        COURSE,
        grandchild_model="training.LessonPage",
        grandchild_schema=LESSON,
    ),
}
