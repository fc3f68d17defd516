"""Import content/: validate every file first, then write everything in one transaction, or nothing.

The stable key of a page is its path inside content/. A file whose digest has not changed since the
last import makes no new revision.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from PIL import Image as PILImage
from wagtail.models import Page, Site

from cms.core.models import Person, SiteSettings, Source, SourceQuote, Street
from cms.core.privacy import PrivacyBlocked
from cms.core.text import pinyin_slug
from cms.documents.models import DocumentRefused
from cms.images.models import CustomImage

from .body import SCHEME, ParsedBody, parse_body, resolve_links
from .errors import FileRejected, Problem
from .models import ContentSource
from .reader import SourceFile, read_data, read_markdown
from .schema import HOME, INFO, PAGES_FOLDER, PERSON, SECTIONS, SETTINGS, SNIPPET_SLUG_MAX, SOURCE, STREET, Schema

FORMAT_VERSION = "1"
HOME_KEY = "site.yaml#home"
SETTINGS_KEY = "site.yaml#settings"
DATA_FILES = {"site.yaml", "streets.yaml", "people.yaml", "sources.yaml"}
IGNORED_ROOT_FILES = {"README.md", "LICENSE", "LICENSE.md"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
DOCUMENT_SUFFIXES = {".csv", ".docx", ".odt", ".ods", ".pdf", ".txt", ".xlsx"}  # also WAGTAILDOCS_EXTENSIONS
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
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
class ImageItem:
    key: str  # path inside content/
    data: bytes
    digest: str
    alt: str = ""


@dataclass
class DocumentItem:
    key: str  # path inside content/
    data: bytes
    digest: str
    title: str = ""


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

    def summary(self) -> str:
        rejected_files = len({p.path for p in self.rejected})
        return (
            f"新建 {len(self.created)}，更新 {len(self.updated)}，未变 {len(self.unchanged)}，"
            f"拒绝 {rejected_files} 个文件（{len(self.rejected)} 个问题）"
        )


class Importer:
    def __init__(self, root: Path, *, publish: bool = False, budget: float = 5.0, progress=None):
        self.root = Path(root).resolve()
        self.publish = publish
        self.budget = budget
        self.progress = progress or (lambda done, total: None)
        self.report = Report()
        self.pages: dict[str, PageItem] = {}
        self.images: dict[str, ImageItem] = {}
        self.documents: dict[str, DocumentItem] = {}
        self.snippets: list[SnippetItem] = []
        self.settings_item: SnippetItem | None = None
        self.adopted: set[str] = set()
        self.written_sources: list[tuple[Source, SnippetItem]] = []
        self._source_ids: dict[str, int] | None = None
        self._person_ids: dict[str, int] | None = None
        self.refused_pages: list[PageItem] = []  # files with problems: their references are checked all the same
        self.document_ids: dict[str, int] = {}

    # == validation ===============================================================================
    def problem(self, path: str, message: str, line: int | None = None, field_name: str | None = None):
        self.report.rejected.append(Problem(path, message, line, field_name))

    def scan(self) -> tuple[list[str], list[str]]:
        """Markdown files and data files under the root; symlinks, odd names and strays are reported."""
        markdown, data = [], []
        if not self.root.is_dir():
            self.problem(str(self.root), "不是一个文件夹")
            return markdown, data
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir
            for name in sorted(dirnames):
                rel = posixpath.join(rel_dir, name)
                full = Path(dirpath) / name
                if not _utf8_name(name):
                    self.problem(_shown(rel), "文件夹名不是 UTF-8 编码（常见于 Windows 上制作的压缩包）：请改名")
                    dirnames.remove(name)
                elif name.startswith("."):
                    self.report.ignored.append(f"{rel}/（隐藏文件夹）")
                    dirnames.remove(name)
                elif name.startswith("_"):
                    self.report.ignored.append(f"{rel}/（以 _ 开头）")
                    dirnames.remove(name)
                elif full.is_symlink():
                    self.problem(rel, "是符号链接：出于安全考虑不跟随，请放入真实的文件夹")
                    dirnames.remove(name)
                elif name.endswith(".md"):
                    self.problem(rel, "是一个文件夹，却以 .md 结尾：请改名")
                    dirnames.remove(name)
            dirnames.sort()
            for name in sorted(filenames):
                rel = posixpath.join(rel_dir, name)
                full = Path(dirpath) / name
                if not _utf8_name(name):
                    self.problem(_shown(rel), "文件名不是 UTF-8 编码（常见于 Windows 上制作的压缩包）：请改名")
                elif name.startswith("."):
                    self.report.ignored.append(f"{rel}（隐藏文件）")
                elif full.is_symlink():
                    if name.endswith((".md", ".yaml", ".yml")) or Path(name).suffix.lower() in IMAGE_SUFFIXES:
                        self.problem(rel, "是符号链接：出于安全考虑不读取，请放入真实的文件")
                elif not full.is_file():
                    self.problem(rel, "不是普通文件")
                elif not rel_dir and name in DATA_FILES:
                    data.append(rel)
                elif not rel_dir and name in IGNORED_ROOT_FILES:
                    continue
                elif name.endswith(".md"):
                    if name.startswith("_") and name != "_index.md":
                        self.report.ignored.append(f"{rel}（以 _ 开头）")
                    else:
                        markdown.append(rel)
                elif name.endswith((".yaml", ".yml")):
                    self.problem(rel, "不认识的数据文件（可用：site.yaml、streets.yaml、people.yaml、sources.yaml）")
        return markdown, data

    def validate(self) -> Report:
        markdown, data = self.scan()
        self.load_data_files(data)
        total = len(markdown)
        sections_seen: set[str] = set()
        for n, rel in enumerate(markdown, 1):
            self.progress(n, total)
            parts = rel.split("/")
            if len(parts) == 1:
                self.problem(rel, "页面文件要放在栏目文件夹里（如 stories/），根目录只放 site.yaml 等数据文件")
                continue
            if parts[0] == PAGES_FOLDER:
                if len(parts) != 2 or parts[1] == "_index.md":
                    self.problem(
                        rel,
                        f"{PAGES_FOLDER}/ 里只放说明页文件（如 {PAGES_FOLDER}/privacy.md），不要子文件夹和 _index.md",
                    )
                    continue
                try:
                    source = read_markdown(self.root, rel)
                except FileRejected as exc:
                    self.problem(rel, exc.message, exc.line, exc.field)
                    continue
                self.add_page(source, apps.get_model("home.InformationPage"), INFO, HOME_KEY, None)
                continue
            section = SECTIONS.get(parts[0])
            if section is None:
                known = ", ".join([*SECTIONS, PAGES_FOLDER])
                self.problem(rel, f"不认识的栏目文件夹 “{parts[0]}”（可用：{known}）")
                continue
            if len(parts) > 3:
                self.problem(rel, f"栏目 {parts[0]}/ 里的文件夹太深了")
                continue
            nested = section.grandchild_model is not None
            if len(parts) == 3 and not nested:
                self.problem(rel, f"栏目 {parts[0]}/ 里的页面文件不能再放进子文件夹")
                continue
            if len(parts) == 2 and nested and parts[1] != "_index.md":
                self.problem(rel, f"栏目 {parts[0]}/ 里每门课放在自己的文件夹里：{parts[0]}/<课程>/_index.md 和各课时")
                continue
            sections_seen.add(parts[0])
            try:
                source = read_markdown(self.root, rel)
            except FileRejected as exc:
                self.problem(rel, exc.message, exc.line, exc.field)
                continue
            section_key = f"{parts[0]}/_index.md"
            if parts[1] == "_index.md":
                self.add_page(source, apps.get_model(section.index_model), section.index_schema, HOME_KEY, parts[0])
            elif len(parts) == 2:
                self.add_page(source, apps.get_model(section.child_model), section.child_schema, section_key, None)
            elif parts[2] == "_index.md":
                self.add_page(source, apps.get_model(section.child_model), section.child_schema, section_key, parts[1])
            else:
                self.add_page(
                    source,
                    apps.get_model(section.grandchild_model),
                    section.grandchild_schema,
                    f"{parts[0]}/{parts[1]}/_index.md",
                    None,
                )
        for item in list(self.pages.values()):
            parent = item.parent_key
            if (
                parent
                and parent.count("/") == 2
                and parent not in self.pages
                and not ContentSource.objects.filter(key=parent, kind="page").exists()
            ):
                self.problem(item.key, f"所在的课程文件夹缺少 {parent}")
        for folder in sorted(
            {k.split("/")[0] for k in self.pages if "/" in k and not k.startswith(f"{PAGES_FOLDER}/")}
            - {k.split("/")[0] for k in self.pages if k.endswith("/_index.md") and k.count("/") == 1}
        ):
            model = apps.get_model(SECTIONS[folder].index_model)
            if not model.objects.exists():
                self.problem(f"{folder}/_index.md", "缺少栏目首页文件 _index.md，数据库里也还没有这个栏目")
        if HOME_KEY not in self.pages and existing_home() is None:
            for key in [k for k, item in self.pages.items() if item.parent_key == HOME_KEY]:
                self.problem(key, "没有首页可放这个栏目：site.yaml 里没有 home:，数据库里也还没有首页")
        self.check_cross_references()
        self.order_problems()
        return self.report

    def order_problems(self):
        """Each file's problems together, by line, files in the order they were found; at most
        MAX_PROBLEMS_PER_FILE of one file (a hostile file can have thousands), then how many more."""
        first_seen: dict[str, int] = {}
        for n, found in enumerate(self.report.rejected):
            first_seen.setdefault(found.path, n)
        ordered = sorted(self.report.rejected, key=lambda p: (first_seen[p.path], p.line or 0))
        shown: dict[str, int] = {}
        kept = []
        for found in ordered:
            shown[found.path] = shown.get(found.path, 0) + 1
            if shown[found.path] <= MAX_PROBLEMS_PER_FILE:
                kept.append(found)
            elif shown[found.path] == MAX_PROBLEMS_PER_FILE + 1:
                more = sum(1 for p in ordered if p.path == found.path) - MAX_PROBLEMS_PER_FILE
                kept.append(Problem(found.path, f"还有 {more} 个问题没有列出：请先修正上面的问题"))
        self.report.rejected[:] = kept

    def load_data_files(self, data: list[str]):
        for rel in data:
            try:
                doc = read_data(self.root, rel)
            except FileRejected as exc:
                self.problem(rel, exc.message, exc.line, exc.field)
                continue
            if rel == "site.yaml":
                self.load_site(rel, doc)
            elif rel == "sources.yaml":
                self.load_sources(rel, doc)
            else:
                self.load_snippets(rel, doc, STREET if rel == "streets.yaml" else PERSON)

    def load_site(self, rel, doc):
        if not isinstance(doc.data, dict):
            self.problem(rel, "应是映射，包含 home: 和 settings:", 1)
            return
        unknown = set(doc.data) - {"home", "settings"}
        for key in unknown:
            self.problem(rel, "不认识的部分（可用：home、settings）", doc.lines.get(key), key)
        for key, schema in (("home", HOME), ("settings", SETTINGS)):
            if key not in doc.data:
                continue
            section = doc.data[key]
            if not isinstance(section, dict):
                self.problem(rel, "应是“键: 值”的映射", doc.lines.get(key), key)
                continue
            lines = {k: doc.lines.get(f"{key}.{k}", doc.lines.get(key)) for k in section}
            cleaned = schema.clean(section, lines, rel, self.report.rejected)
            if key == "home":
                self.pages[HOME_KEY] = PageItem(
                    HOME_KEY, apps.get_model("home.HomePage"), None, cleaned, "home", digest(cleaned)
                )
            else:
                self.settings_item = SnippetItem(SETTINGS_KEY, "settings", "", cleaned, digest(cleaned))

    def load_sources(self, rel, doc):
        """sources.yaml: each source (出处) with the quotes it records, verbatim."""
        if not isinstance(doc.data, list) or not all(isinstance(x, dict) for x in doc.data):
            self.problem(rel, "应是列表，每一项是一个出处（每项以 - 开头）", 1)
            return
        seen: dict[str, int] = {}
        for n, item in enumerate(doc.data, 1):
            where = f"{rel}#{n}"
            errors: list[Problem] = []
            cleaned = SOURCE.clean(item, {}, where, errors)
            self.report.rejected += errors
            if errors:
                continue
            key = cleaned["key"]
            if key in seen:
                self.problem(where, f"代号 “{key}” 与第 {seen[key]} 项重复", field_name="key")
                continue
            seen[key] = n
            self.snippets.append(SnippetItem(f"{rel}#{key}", "source", key, cleaned, digest(cleaned)))

    def load_snippets(self, rel, doc, schema: Schema):
        kind = "street" if schema is STREET else "person"
        if not isinstance(doc.data, list) or not all(isinstance(x, dict) for x in doc.data):
            self.problem(rel, "应是列表，每一项是一个“键: 值”映射（每项以 - 开头）", 1)
            return
        seen: dict[str, int] = {}
        names: dict[str, int] = {}
        for n, item in enumerate(doc.data, 1):
            where = f"{rel}#{n}"
            errors: list[Problem] = []
            cleaned = schema.clean(item, {}, where, errors)
            self.report.rejected += errors
            if errors:
                continue
            slug = cleaned.get("slug") or pinyin_slug(cleaned["name"], max_length=SNIPPET_SLUG_MAX)
            if not slug:
                self.problem(where, "无法从名称生成网址名，请写 slug", field_name="slug")
                continue
            if slug.lower() in seen:
                self.problem(where, f"网址名 “{slug}” 与第 {seen[slug.lower()]} 项重复", field_name="slug")
                continue
            if kind == "street" and cleaned["name"] in names:  # street names are unique, and found by name
                self.problem(
                    where, f"街道名称 “{cleaned['name']}” 与第 {names[cleaned['name']]} 项重复", field_name="name"
                )
                continue
            seen[slug.lower()] = names[cleaned["name"]] = n
            cleaned["slug"] = slug
            self.snippets.append(SnippetItem(f"{rel}#{slug}", kind, slug, cleaned, digest(cleaned)))

    def add_page(self, source: SourceFile, model, schema: Schema, parent_key: str, folder: str | None):
        """Check one page file; every problem found is reported, and the page is kept only if there is none."""
        before = len(self.report.rejected)
        errors: list[Problem] = []
        cleaned = schema.clean(source.front, source.lines, source.path, errors)
        self.report.rejected += errors
        slug = self.page_slug(source, cleaned, folder) if "title" in cleaned else ""
        if self.publish:
            self.has_personal_data(source)
        item = PageItem(source.path, model, parent_key, cleaned, slug, "", field_lines=dict(source.lines))
        base_dir = posixpath.dirname(source.path)
        if schema.body == "markdown":
            try:
                item.body = parse_body(source.body, source.body_line, self.budget)
            except FileRejected as exc:
                self.problem(source.path, exc.message, exc.line, exc.field)
            else:
                for exc in item.body.problems:
                    self.problem(source.path, exc.message, exc.line, exc.field)
                if not item.body.blocks and not item.body.problems and schema.body_required:
                    self.problem(source.path, "正文是空的", source.body_line)
                for line, message in item.body.warnings:
                    self.report.warnings.append(Problem(source.path, message, line))
                for target, line in item.body.links:
                    item.links.append(self.page_key(base_dir, target, source.path, line))
                for ref in item.body.images:
                    key = self.image_key(base_dir, ref.path, source.path, ref.line, "正文图片")
                    item.body_image_keys.append(key)
                    if key in self.images and not self.images[key].alt:
                        self.images[key].alt = ref.alt
        elif schema.body:
            text = source.body.strip()
            if any(mark in text for mark in ("<", "](", "\n#")):
                self.report.warnings.append(
                    Problem(source.path, "导语按纯文本保存，Markdown 标记不会生效", source.body_line)
                )
            cleaned[schema.body] = text
        hero = cleaned.get("hero_image")
        if hero:
            item.hero_key = self.image_key(
                base_dir, hero["file"], source.path, source.lines.get("hero_image"), "hero_image"
            )
            if item.hero_key in self.images:
                self.images[item.hero_key].alt = hero["alt"]
        for target in cleaned.get("related", []):
            item.related_keys.append(
                self.page_key(base_dir, target, source.path, source.lines.get("related"), "related")
            )
        for n, question in enumerate(cleaned.get("quiz", []), 1):
            if not 1 <= question["answer"] <= len(question["options"]):
                self.problem(
                    source.path,
                    f"answer 是第几个选项（1 到 {len(question['options'])}），现在是 {question['answer']}",
                    source.lines.get("quiz"),
                    f"quiz[{n}].answer",
                )
        for name, target in structured_refs(cleaned):
            item.refs[target] = self.page_key(base_dir, target, source.path, source.lines.get(name), name)
        for n, template in enumerate(cleaned.get("templates", []), 1):
            item.document_keys[template["file"]] = self.document_key(
                base_dir, template["file"], source.path, source.lines.get("templates"), f"templates[{n}].file"
            )
        if len(self.report.rejected) > before:
            self.refused_pages.append(item)  # its references are still checked, so they are reported too
            return
        image_digests = [self.images[k].digest for k in [item.hero_key, *item.body_image_keys] if k in self.images]
        image_digests += [self.documents[k].digest for k in item.document_keys.values() if k in self.documents]
        item.digest = digest(source.front, source.body, image_digests, item.links)
        self.pages[source.path] = item

    def page_slug(self, source: SourceFile, cleaned: dict, folder: str | None) -> str:
        """The front matter's slug, else the file's name (pinyin if it is Chinese), else the title's pinyin."""
        stem = posixpath.splitext(posixpath.basename(source.path))[0]
        slug = cleaned.pop("slug", None) or folder or pinyin_slug(stem) or pinyin_slug(cleaned["title"])
        if len(slug) > 80:
            self.problem(
                source.path,
                f"文件名生成的网址名太长（{len(slug)} 个字符，最多 80 个）：请改短文件名或写 slug",
                field_name="slug",
            )
            return ""
        if not slug:
            self.problem(source.path, "无法从标题生成网址名，请写 slug", source.lines.get("title"), "slug")
        return slug

    def has_personal_data(self, source: SourceFile) -> bool:
        """With --publish, the publishing guard's check: personal numbers refuse the file, named by line."""
        from cms.core.privacy import KIND_LABELS, find_personal_data, organisation_contacts

        if not hasattr(self, "_allowed"):
            # The organisation's own address and phone: in site.yaml's settings (this import) or the database.
            written = self.settings_item.fields if self.settings_item else {}
            mine = tuple(v for k in ("office_address", "office_phone") if (v := (written.get(k) or "").strip()))
            self._allowed = mine + organisation_contacts()
        allowed = self._allowed
        found = False
        for name, value in source.front.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            for kind, masked in find_personal_data(text, allowed=allowed):
                self.problem(source.path, f"含有{KIND_LABELS[kind]} {masked}，不能发布", source.lines.get(name), name)
                found = True
        for offset, line in enumerate(source.body.splitlines()):
            for kind, masked in find_personal_data(line, allowed=allowed):
                self.problem(source.path, f"含有{KIND_LABELS[kind]} {masked}，不能发布", source.body_line + offset)
                found = True
        return found

    def page_key(self, base_dir, target, path, line, field_name=None) -> str:
        if SCHEME.match(target) or target.startswith("/"):
            self.problem(path, f"页面链接 {target} 要写成相对路径的 .md 文件", line, field_name)
            return ""
        key = posixpath.normpath(posixpath.join(base_dir, target))
        if key.startswith("../") or key == "..":
            self.problem(path, f"链接 {target} 指向 content/ 以外", line, field_name)
            return ""
        if not key.endswith(".md"):
            self.problem(path, f"链接 {target} 不是 .md 页面", line, field_name)
            return ""
        return key

    def image_key(self, base_dir, ref, path, line, field_name) -> str:
        def fail(message):
            self.problem(path, message, line, field_name)
            return ""

        windows_path = re.match(r"[A-Za-z]:[\\/]", ref)  # C:\photos\x.jpg is not a URL with scheme "c"
        if (SCHEME.match(ref) and not windows_path) or ref.startswith("//"):
            return fail(f"图片 {ref[:60]} 是远程地址：请把图片文件放在 content/ 里，写相对路径")
        if ref.startswith("/") or os.path.isabs(ref) or "\\" in ref or windows_path:
            return fail(f"图片 {ref[:60]} 是绝对路径：请写相对于本文件的路径，如 images/photo.jpg")
        key = posixpath.normpath(posixpath.join(base_dir, ref))
        if key.startswith("../") or key == "..":
            return fail(f"图片 {ref} 在 content/ 以外")
        if key in self.images:
            return key
        full = self.root / key
        walk = self.root
        for part in key.split("/"):
            walk = walk / part
            if walk.is_symlink():
                return fail(f"图片 {ref} 是符号链接（或在符号链接的文件夹里）：请放入真实的文件")
        if not full.is_file():
            return fail(f"找不到图片文件 {ref}")
        if full.suffix.lower() not in IMAGE_SUFFIXES:
            return fail(f"图片 {ref} 的格式不受支持（可用：jpg、png、webp、gif）")
        data = full.read_bytes()
        if len(data) > MAX_IMAGE_BYTES:
            return fail(f"图片 {ref} 太大（{len(data) // 1024} KB，上限 {MAX_IMAGE_BYTES // 1024 // 1024} MB）")
        try:
            with PILImage.open(io.BytesIO(data)) as im:
                if im.width * im.height > MAX_IMAGE_PIXELS:
                    return fail(f"图片 {ref} 像素太多（{im.width}×{im.height}）")
                im.verify()
        except Exception:  # noqa: BLE001 - Pillow raises many kinds for a broken file
            return fail(f"图片 {ref} 不是有效的图片文件")
        self.images[key] = ImageItem(key, data, hashlib.sha256(data).hexdigest())
        return key

    def document_key(self, base_dir, ref, path, line, field_name) -> str:
        def fail(message):
            self.problem(path, message, line, field_name)
            return ""

        if SCHEME.match(ref) or ref.startswith(("/", "//")) or "\\" in ref or os.path.isabs(ref):
            return fail(f"文档 {ref[:60]} 要写成相对于本文件的路径，如 templates/form.csv")
        key = posixpath.normpath(posixpath.join(base_dir, ref))
        if key.startswith("../") or key == "..":
            return fail(f"文档 {ref} 在 content/ 以外")
        if key in self.documents:
            return key
        walk = self.root
        for part in key.split("/"):
            walk = walk / part
            if walk.is_symlink():
                return fail(f"文档 {ref} 是符号链接（或在符号链接的文件夹里）：请放入真实的文件")
        full = self.root / key
        if not full.is_file():
            return fail(f"找不到文档文件 {ref}")
        if full.suffix.lower() not in DOCUMENT_SUFFIXES:
            return fail(f"文档 {ref} 的格式不受支持（可用：{'、'.join(sorted(s[1:] for s in DOCUMENT_SUFFIXES))}）")
        data = full.read_bytes()
        if len(data) > MAX_DOCUMENT_BYTES:
            return fail(f"文档 {ref} 太大（{len(data) // 1024} KB，上限 {MAX_DOCUMENT_BYTES // 1024 // 1024} MB）")
        if full.suffix.lower() in (".csv", ".txt"):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                return fail(f"文档 {ref} 不是 UTF-8 编码的文本：请另存为 UTF-8")
        # The checks a document gets on upload: its bytes are what its extension says, and no personal data
        # in its text, metadata (after the metadata that saving removes) or name.
        from cms.documents.checks import extension, file_problems, strip_metadata

        problems = file_problems(strip_metadata(data, extension(key)) or data, key, f"文档 {ref}")
        for problem in problems:
            self.problem(path, problem, line, field_name)
        if problems:
            return ""
        self.documents[key] = DocumentItem(key, data, hashlib.sha256(data).hexdigest())
        return key

    def check_cross_references(self):
        street_slugs = {s.slug for s in self.snippets if s.kind == "street"} | set(
            Street.objects.values_list("slug", flat=True)
        )
        people = {s.slug: s for s in self.snippets if s.kind == "person"}
        db_people = {
            p.slug: p.consent_on_record or p.named_in_id is not None for p in Person.objects.all()
        }
        source_keys = {s.slug for s in self.snippets if s.kind == "source"} | set(
            Source.objects.values_list("key", flat=True)
        )
        person_slugs = set(people) | set(db_people)
        for item in self.snippets:
            street = item.fields.get("street")
            if item.kind == "person" and street and street not in street_slugs:
                self.problem(item.key, f"没有网址名为 “{street}” 的街道", field_name="street")
            cited = item.fields.get("source")
            if item.kind == "street" and cited and cited not in source_keys:
                message = f"没有代号为 “{cited}” 的出处（在 sources.yaml 里添加）"
                self.problem(item.key, message, field_name="source")
            named_in = item.fields.get("named_in")
            if item.kind == "person" and named_in and named_in not in source_keys:
                message = f"没有代号为 “{named_in}” 的出处（在 sources.yaml 里添加）"
                self.problem(item.key, message, field_name="named_in")
            for n, quote in enumerate(item.fields.get("quotes", []) if item.kind == "source" else [], 1):
                if quote["person"] not in person_slugs:
                    self.problem(
                        item.key,
                        f"没有网址名为 “{quote['person']}” 的人物（在 people.yaml 里添加）",
                        field_name=f"quotes[{n}].person",
                    )
        self.source_keys = source_keys
        by_parent: dict[str, dict[str, str]] = {}
        for item in self.pages.values():
            if item.parent_key:
                siblings = by_parent.setdefault(item.parent_key, {})
                other = siblings.get(item.slug.lower())
                if other:
                    self.problem(
                        item.key,
                        f"网址名 “{item.slug}” 与 {other} 重复（不区分大小写）",
                        item.field_lines.get("slug"),
                        "slug",
                    )
                siblings[item.slug.lower()] = item.key
        # The references of refused files too: one run names every problem of a file.
        for item in [*self.pages.values(), *self.refused_pages]:
            self.check_references(item, street_slugs, people, db_people)
        orders: dict[tuple, str] = {}
        hubs: dict[str, str] = {}
        for item in self.pages.values():
            if "order" in item.fields:
                other = orders.get((item.parent_key, item.fields["order"]))
                if other:
                    self.problem(
                        item.key,
                        f"order {item.fields['order']} 与 {other} 重复：同一栏目里每个序号只用一次",
                        item.field_lines.get("order"),
                        "order",
                    )
                orders[(item.parent_key, item.fields["order"])] = item.key
            if item.fields.get("role") == "hub":
                if item.parent_key in hubs:
                    self.problem(
                        item.key,
                        f"只能有一个 role: hub（{hubs[item.parent_key]} 已是）",
                        item.field_lines.get("role"),
                        "role",
                    )
                hubs.setdefault(item.parent_key, item.key)
        self.check_slugs_against_database()

    def check_references(self, item: PageItem, street_slugs: set, people: dict, db_people: dict):
        """Streets, people and pages that one page names must exist; each problem with its line and field."""

        def line(name: str) -> int | None:
            return item.field_lines.get(name.split("[", 1)[0])

        def exists(key: str) -> bool:  # a file refused for its own problems still exists
            return (
                key in self.pages
                or any(other.key == key for other in self.refused_pages)
                or ContentSource.objects.filter(key=key, kind="page").exists()
            )

        street = item.fields.get("street")
        if street and street not in street_slugs:
            self.problem(
                item.key, f"没有网址名为 “{street}” 的街道（在 streets.yaml 里添加）", line("street"), "street"
            )
        for name in ("cases", "adoptions"):
            for n, record in enumerate(item.fields.get(name, []), 1):
                if record["street"] not in street_slugs:
                    self.problem(
                        item.key,
                        f"没有网址名为 “{record['street']}” 的街道（在 streets.yaml 里添加）",
                        line(name),
                        f"{name}[{n}].street",
                    )
        for target, key in item.refs.items():
            if key and not exists(key):
                name = ref_field(item.fields, target)
                self.problem(item.key, f"链接到不存在的页面 {target}", line(name or ""), name)
        for slug in item.fields.get("people", []):
            if slug in people:
                fields = people[slug].fields
                may_be_named = bool(fields.get("consent_on_record") or fields.get("named_in"))
            else:
                may_be_named = db_people.get(slug)
            if may_be_named is None:
                self.problem(
                    item.key, f"没有网址名为 “{slug}” 的人物（在 people.yaml 里添加）", line("people"), "people"
                )
            elif not may_be_named:
                self.problem(
                    item.key,
                    f"人物 “{slug}” 既没有同意署名的记录，也没有公开报道的出处（named_in），不能出现在故事里",
                    line("people"),
                    "people",
                )
            elif item.fields.get("illustrative"):
                self.problem(item.key, f"情景示例不能出现真实人物 “{slug}”", line("people"), "people")
        for name, keys in self.cited_keys(item):
            for key in keys:
                if key not in self.source_keys:
                    self.problem(item.key, f"没有代号为 “{key}” 的出处（在 sources.yaml 里添加）", line(name), name)
        self.check_quotes(item)
        body_lines = [written_line for _target, written_line in item.body.links] if item.body else []
        for key, written_line in zip(item.links, body_lines, strict=True):
            if key and not exists(key):
                self.problem(item.key, f"链接到不存在的页面 {key}", written_line)
        for key in item.related_keys:
            if key and not exists(key):
                self.problem(item.key, f"链接到不存在的页面 {key}", line("related"), "related")

    @staticmethod
    def cited_keys(item: PageItem) -> list[tuple[str, list[str]]]:
        """(field, source keys) of every source list a page has: its own, and each case's."""
        out = [("sources", item.fields.get("sources", []))] if hasattr(item.model, "source_links") else []
        for n, case in enumerate(item.fields.get("cases", []), 1):
            out.append((f"cases[{n}].sources", case.get("sources", [])))
        return out

    def quote_index(self) -> dict[str, dict[str, list[str]]]:
        """person name -> source key -> the quotes that source records of them (content/ and the database)."""
        names = {p.slug: p.name for p in Person.objects.all()}
        names.update({s.slug: s.fields["name"] for s in self.snippets if s.kind == "person"})
        index: dict[str, dict[str, list[str]]] = {}
        in_files = {s.slug for s in self.snippets if s.kind == "source"}
        for quote in SourceQuote.objects.select_related("source", "person").exclude(source__key__in=in_files):
            index.setdefault(quote.person.name, {}).setdefault(quote.source.key, []).append(quote.text)
        for item in self.snippets:
            if item.kind == "source":
                for quote in item.fields.get("quotes", []):
                    name = names.get(quote["person"])
                    if name:
                        index.setdefault(name, {}).setdefault(item.slug, []).append(quote["text"])
        return index

    def check_quotes(self, item: PageItem):
        """Every attributed quote is a person's words as a source records them, and the page cites that source.
        The source found is kept for writing the block (`item.quote_sources`)."""
        from cms.core.provenance import normalise_quote, speaker_name

        if item.body is None:
            return
        if not hasattr(self, "_quote_index"):
            self._quote_index = self.quote_index()
        cited = {key for _name, keys in self.cited_keys(item) for key in keys}
        quotes = [value for kind, value in item.body.blocks if kind == "quote"]
        item.quote_sources = []
        for value, line in zip(quotes, item.body.quote_lines, strict=False):
            name = speaker_name(value["attribution"])
            said = self._quote_index.get(name)
            found = None
            if item.fields.get("illustrative") and said is not None:
                self.problem(item.key, f"情景示例不能引用真实人物{name}的话", line)
            elif said is None:
                self.problem(
                    item.key,
                    f"引语的说话人 “{name}” 不在 people.yaml 里，或 sources.yaml 没有记录此人的原话："
                    "真实人物的话只能逐字引用出处里的原话，其他请改为间接转述",
                    line,
                )
            else:
                text = normalise_quote(value["quote"])
                holders = [key for key, texts in said.items() if text in {normalise_quote(t) for t in texts}]
                if not holders:
                    self.problem(
                        item.key,
                        f"这段引语不是 sources.yaml 记录的{name}的原话：只能逐字引用出处里的原话，"
                        "其他请改为间接转述（如“据中国青年报报道，……”）",
                        line,
                    )
                else:
                    found = next((key for key in holders if key in cited), None)
                    if found is None:
                        self.problem(
                            item.key,
                            f"这段引语出自 “{holders[0]}”：请把它写进这个页面的 sources",
                            line,
                            "sources",
                        )
            item.quote_sources.append((name, found))

    def check_slugs_against_database(self):
        """A new page must not take the slug of a page that editors created in the admin under the same parent."""
        known = dict(ContentSource.objects.filter(kind="page").values_list("key", "object_id"))
        for item in self.pages.values():
            if item.parent_key is None or item.key in known:
                continue
            parent_id = known.get(item.parent_key)
            if parent_id is None:
                continue
            clash = Page.objects.filter(pk=parent_id).first()
            if clash is None:
                continue
            sibling = clash.get_children().filter(slug__iexact=item.slug).first()
            if sibling and sibling.specific_class is not item.model:
                self.problem(
                    item.key, f"网址名 “{item.slug}” 已被后台创建的页面《{sibling.title}》占用", field_name="slug"
                )

    # == writing ==================================================================================
    def plan(self) -> dict[str, str]:
        """What writing would do to each key: created, updated or unchanged."""
        existing = dict(ContentSource.objects.values_list("key", "digest"))
        plan = {}
        items = [*self.snippets, *([self.settings_item] if self.settings_item else []), *self.pages.values()]
        for item in items:
            if item.key not in existing:
                plan[item.key] = "created"
            elif existing[item.key] != item.digest:
                plan[item.key] = "updated"
            else:
                plan[item.key] = "unchanged"
        for key, item in [*self.images.items(), *self.documents.items()]:
            plan[key] = (
                "created" if key not in existing else ("updated" if existing[key] != item.digest else "unchanged")
            )
        return plan

    def record(self, key: str, state: str):
        getattr(self.report, state).append(key)

    @transaction.atomic
    def write(self) -> Report:
        sources = {s.key: s for s in ContentSource.objects.select_for_update()}
        plan = self.plan()
        self.write_snippets(sources, plan)
        image_ids = self.write_images(sources, plan)
        self.document_ids = self.write_documents(sources, plan)
        page_ids = self.ensure_pages(sources)
        total = len(self.pages)
        for n, item in enumerate(self.pages.values(), 1):
            self.progress(n, total)
            self.write_page(item, sources, plan, page_ids, image_ids)
        self.order_pages(page_ids)
        return self.report

    def write_documents(self, sources, plan) -> dict[str, int]:
        from cms.documents.models import CustomDocument

        ids = {}
        titles = {}
        for item in self.pages.values():
            for template in item.fields.get("templates", []):
                titles.setdefault(item.document_keys.get(template["file"]), template["title"])
        for key, item in self.documents.items():
            source = sources.get(key)
            document = CustomDocument.objects.filter(pk=source.object_id).first() if source else None
            title = (titles.get(key) or Path(key).stem)[:255]
            if document is not None and plan[key] == "unchanged" and document.title == title:
                ids[key] = document.pk
                self.record(key, "unchanged")
                continue
            if document is None:
                document = CustomDocument(title=title)
            if plan[key] != "unchanged" or document.pk is None:
                document.file.save(Path(key).name, ContentFile(item.data), save=False)
                document.file_size = len(item.data)
                document.file_hash = hashlib.sha1(item.data, usedforsecurity=False).hexdigest()
            document.title = title
            document.save()
            ids[key] = document.pk
            self.record(key, "created" if source is None else "updated")
            self.save_source(sources, key, "document", document.pk, item.digest)
        return ids

    def order_pages(self, page_ids: dict[str, int]):
        """Put the children of each section in the order their files give (`order`), moving only if needed."""
        by_parent: dict[str, dict[int, int]] = {}
        for item in self.pages.values():
            if "order" in item.fields and item.parent_key in page_ids:
                by_parent.setdefault(item.parent_key, {})[page_ids[item.key]] = item.fields["order"]
        # The sections in the main menu: stories, playbook, model, training (the order of SECTIONS).
        for n, folder in enumerate(SECTIONS, 1):
            key = f"{folder}/_index.md"
            if key in self.pages and HOME_KEY in page_ids:
                by_parent.setdefault(HOME_KEY, {})[page_ids[key]] = n
        for parent_key, order in by_parent.items():
            parent = Page.objects.get(pk=page_ids[parent_key])
            children = list(parent.get_children().order_by("path").values_list("pk", flat=True))
            known_last = 1 + max(order.values())
            wanted = sorted(children, key=lambda pk: (order.get(pk, known_last), children.index(pk)))
            if wanted == children:
                continue
            for pk in wanted:
                Page.objects.get(pk=pk).move(Page.objects.get(pk=parent.pk), pos="last-child")

    def save_source(self, sources, key, kind, object_id, item_digest):
        source = sources.get(key)
        if source is None:
            sources[key] = ContentSource.objects.create(key=key, kind=kind, object_id=object_id, digest=item_digest)
        elif source.object_id != object_id or source.digest != item_digest:
            source.object_id, source.digest = object_id, item_digest
            source.save()

    def write_snippets(self, sources, plan):
        street_ids = {}
        if self.settings_item:
            state = plan[SETTINGS_KEY]
            if state != "unchanged":
                settings = SiteSettings.load()
                for name, value in self.settings_item.fields.items():
                    setattr(settings, name, value)
                settings.save()
                self.save_source(sources, SETTINGS_KEY, "settings", settings.pk, self.settings_item.digest)
            self.record(SETTINGS_KEY, state)
        # Sources (streets and people name them), then streets, then people, then the quotes.
        rank = {"source": 0, "street": 1, "person": 2}
        for item in sorted(self.snippets, key=lambda s: rank[s.kind]):
            model = {"street": Street, "source": Source, "person": Person}[item.kind]
            state = plan[item.key]
            source = sources.get(item.key)
            obj = model.objects.filter(pk=source.object_id).first() if source else None
            if obj is None:
                obj = model.objects.filter(**{"key" if model is Source else "slug": item.slug}).first()
            if obj is None and model is Street:
                obj = Street.objects.filter(name=item.fields["name"]).first()
            if obj is None:
                obj = model()
                state = "created"
            elif state == "unchanged":
                self.record(item.key, state)
                street_ids[item.slug] = obj.pk
                continue
            for name, value in item.fields.items():
                if name == "quotes":
                    continue  # once the people exist: below
                if name == "street":
                    value = Street.objects.get(slug=value) if value else None
                elif name in ("named_in", "source"):
                    value = Source.objects.get(key=value) if value else None
                elif name == "key_figures":
                    value = [{"type": "figure", "value": v} for v in value]
                setattr(obj, name, value)
            if model is Person and "named_in" not in item.fields:
                obj.named_in = None  # a line deleted in the file clears the field
            if model is Street and "source" not in item.fields:
                obj.source = None
            obj.save()
            self.save_source(sources, item.key, item.kind, obj.pk, item.digest)
            self.record(item.key, state)
            if model is Source:
                self.written_sources.append((obj, item))
        for obj, item in self.written_sources:
            slugs = [q["person"] for q in item.fields.get("quotes", [])]
            people = {p.slug: p for p in Person.objects.filter(slug__in=slugs)}
            obj.quotes = [
                SourceQuote(person=people[q["person"]], text=q["text"], sort_order=n)
                for n, q in enumerate(item.fields.get("quotes", []))
            ]
            obj.save()
        return street_ids

    def write_images(self, sources, plan) -> dict[str, int]:
        ids = {}
        for key, item in self.images.items():
            source = sources.get(key)
            image = CustomImage.objects.filter(pk=source.object_id).first() if source else None
            alt = item.alt[:255]
            title = (alt or Path(key).stem)[:255]
            if image is not None and plan[key] == "unchanged" and image.description == alt:
                ids[key] = image.pk
                self.record(key, "unchanged")
                continue
            if image is None:
                image = CustomImage(title=title, description=alt)
            if plan[key] != "unchanged" or image.pk is None:
                image.file.save(Path(key).name, ContentFile(item.data), save=False)
                image._set_image_file_metadata()
                with PILImage.open(io.BytesIO(item.data)) as im:
                    image.width, image.height = im.size
                if image.pk:
                    image.renditions.all().delete()
            image.title, image.description = title, alt
            image.save()
            ids[key] = image.pk
            self.record(key, "created" if source is None else "updated")
            self.save_source(sources, key, "image", image.pk, item.digest)
        return ids

    def ensure_pages(self, sources) -> dict[str, int]:
        """Find or create the page of every key, so that links between new pages can be resolved."""
        ids: dict[str, int] = {}
        for key, source in sources.items():
            if source.kind == "page":
                ids[key] = source.object_id
        existing_ids = set(Page.objects.filter(pk__in=ids.values()).values_list("pk", flat=True))
        ids = {k: v for k, v in ids.items() if v in existing_ids}
        # Parents without a file of their own (no site.yaml, no _index.md) that the database already has.
        if HOME_KEY not in ids and HOME_KEY not in self.pages and (home := existing_home()) is not None:
            ids[HOME_KEY] = home.pk
        for folder, section in SECTIONS.items():
            key = f"{folder}/_index.md"
            if key not in ids and key not in self.pages:
                index = apps.get_model(section.index_model).objects.first()
                if index is not None:
                    ids[key] = index.pk

        # Parents before children: home, section indexes, then pages (a file name like 2023.md sorts before _index.md).
        def depth(item: PageItem) -> int:
            n, parent = 0, item.parent_key
            while parent is not None:
                n += 1
                parent = self.pages[parent].parent_key if parent in self.pages else None
            return n

        for item in sorted(self.pages.values(), key=depth):
            if item.key in ids:
                continue
            found = self.adopt(item, ids)
            if found is not None:
                self.adopted.add(item.key)
            else:
                parent = Page.objects.get(pk=ids[item.parent_key]) if item.parent_key else None
                found = self.create(item, parent)
            ids[item.key] = found.pk
        return ids

    def adopt(self, item: PageItem, ids):
        if item.key == HOME_KEY:
            return existing_home()
        if getattr(item.model, "max_count", None) == 1:
            return item.model.objects.first()
        parent_id = ids.get(item.parent_key)
        if parent_id:
            return item.model.objects.child_of(Page.objects.get(pk=parent_id)).filter(slug=item.slug).first()
        return None

    def create(self, item: PageItem, parent):
        page = item.model(title=item.fields["title"], slug=item.slug, live=False)
        self.apply_fields(page, item, {}, {}, placeholder=True)
        if parent is None:  # the home page
            root = Page.get_first_root_node()
            page = root.add_child(instance=page)
            Site.objects.update_or_create(
                is_default_site=True, defaults={"root_page": page, "hostname": "localhost", "site_name": "小哥"}
            )
        else:
            page = parent.specific.add_child(instance=page)
        return page

    def write_page(self, item: PageItem, sources, plan, page_ids, image_ids):
        page = Page.objects.get(pk=page_ids[item.key]).specific
        state = plan[item.key]
        if item.key in self.adopted:
            state = "updated"  # a page that existed before its file: make it match the file once
        if state == "unchanged":
            if self.publish and (not page.live or page.has_unpublished_changes) and page.latest_revision:
                page.latest_revision.publish()
                self.record(item.key, "updated")
            else:
                self.record(item.key, "unchanged")
            return
        page = page.get_latest_revision_as_object() if page.latest_revision_id else page
        self.apply_fields(page, item, page_ids, image_ids)
        if not page.live:
            page.save()
        revision = page.save_revision(log_action=True)
        if self.publish:
            revision.publish()
        self.save_source(sources, item.key, "page", page.pk, item.digest)
        self.record(item.key, state)

    SIMPLE_FIELDS = (
        "seo_title", "search_description", "summary", "date", "lead", "intro", "latest_count", "purpose",
        "change_note", "change_kind", "short_name", "role", "problem", "who_runs", "needs_people", "needs_space",
        "needs_money", "audience", "duration",
    )  # fmt: skip

    def apply_fields(self, page, item: PageItem, page_ids, image_ids, placeholder=False):
        f = item.fields
        page.title = f["title"]
        page.slug = item.slug
        # A field missing from the file goes back to its default, so deleting a line in the file clears it.
        for name in self.SIMPLE_FIELDS:
            if hasattr(page, name):
                setattr(page, name, f[name] if name in f else page._meta.get_field(name).get_default())
        if hasattr(page, "show_in_menus") and item.parent_key == HOME_KEY and item.key.endswith("/_index.md"):
            page.show_in_menus = True  # the sections are the main menu; information pages sit in the footer
        if "key_figures" in f or item.key == HOME_KEY:
            page.key_figures = [{"type": "figure", "value": v} for v in f.get("key_figures", [])]
        if item.body is None:
            return
        if placeholder:  # pages link to each other: the links are set once every page exists
            page_ids = {}
        self.apply_structured(page, item, page_ids)
        if not hasattr(page, "tags"):  # not a story: body, and nothing else
            linked = [page_ids.get(k, 0) for k in item.links]
            page.body = self.with_quote_sources(
                [
                    self.raw_block(kind, value, linked, image_ids, item)
                    for kind, value in item.body.blocks
                    if not placeholder or kind not in ("image", "gallery")
                ],
                item,
            )
            return
        page.street = Street.objects.get(slug=f["street"]) if f.get("street") else None
        page.featured = f.get("featured", False)
        page.illustrative = f.get("illustrative", False)
        page.tags.set(f.get("tags", []))
        stories = apps.get_app_config("stories")
        people = {p.slug: p for p in Person.objects.filter(slug__in=f.get("people", []))}
        # Inline rows carry their position: without it their order is the database's to choose (PostgreSQL
        # returns rows with equal sort keys in any order, and the export would not round-trip).
        page.featured_people = [
            stories.get_model("StoryPerson")(person=people[s], sort_order=n)
            for n, s in enumerate(x for x in f.get("people", []) if x in people)
        ]
        hero = f.get("hero_image")
        page.hero_image_id = image_ids.get(item.hero_key) if hero and not placeholder else None
        page.hero_caption = hero["caption"] if hero else ""
        page.hero_credit = hero["credit"] if hero else ""
        if placeholder:
            page.body = [{"type": "paragraph", "value": "<p>（导入中）</p>"}]
            page.related_links = []
            return
        page.related_links = [
            stories.get_model("StoryRelatedPage")(related_page_id=page_ids[k], sort_order=n)
            for n, k in enumerate(k for k in item.related_keys if k in page_ids)
        ]
        linked = [page_ids.get(k, 0) for k in item.links]
        blocks = [self.raw_block(kind, value, linked, image_ids, item) for kind, value in item.body.blocks]
        page.body = self.with_quote_sources(blocks, item)

    def source_ids(self) -> dict[str, int]:
        """Source key -> id, read once the snippets are written (pages are written after them)."""
        if self._source_ids is None:
            self._source_ids = dict(Source.objects.values_list("key", "pk"))
        return self._source_ids

    def with_quote_sources(self, blocks: list[dict], item: PageItem) -> list[dict]:
        """Each quote block names its speaker and source, as check_quotes found them."""
        if not item.quote_sources:
            return blocks
        if self._person_ids is None:
            self._person_ids = dict(Person.objects.values_list("name", "pk"))
        people, sources = self._person_ids, self.source_ids()
        found = iter(item.quote_sources)
        for block in blocks:
            if block["type"] == "quote":
                name, key = next(found, (None, None))
                block["value"] = {**block["value"], "speaker": people.get(name), "source": sources.get(key)}
        return blocks

    def apply_structured(self, page, item: PageItem, page_ids):
        """Playbook chapters and model components: their steps, checklists, cases, adoptions and links."""
        f = item.fields
        streets = {s.slug: s.pk for s in Street.objects.all()}

        def page_id(target):
            return page_ids.get(item.refs.get(target))

        def stream(name, block_type, values):
            if hasattr(page, name):
                setattr(page, name, [{"type": block_type, "value": v} for v in values])

        sources = self.source_ids()
        if hasattr(page, "source_links"):
            link = page.source_links.model
            keys = [key for key in f.get("sources", []) if key in sources]
            page.source_links = [link(source_id=sources[key], sort_order=n) for n, key in enumerate(keys)]
        stream("steps", "step", [{**{"detail": ""}, **step} for step in f.get("steps", [])])
        stream("checklist", "item", f.get("checklist", []))
        stream("pitfalls", "pitfall", f.get("pitfalls", []))
        stream("measures", "item", f.get("measures", []))
        stream("key_points", "item", f.get("key_points", []))
        stream("sources", "item", f.get("sources", []))
        stream("quiz", "question", f.get("quiz", []))
        stream("risks", "item", f.get("risks", []))
        stream(
            "cases",
            "case",
            [
                {
                    "street": streets.get(case["street"]),
                    "text": case["text"],
                    "figures": [{k: fig[k] for k in ("value", "unit", "label")} for fig in case.get("figures", [])],
                    "stories": [i for i in (page_id(t) for t in case.get("stories", [])) if i],
                    "sources": [sources[key] for key in case.get("sources", []) if key in sources],
                }
                for case in f.get("cases", [])
            ],
        )
        stream(
            "templates",
            "template",
            [
                {
                    "document": self.document_ids.get(item.document_keys.get(t["file"])),
                    "title": t["title"],
                    "description": t.get("description", ""),
                }
                for t in f.get("templates", [])
            ],
        )
        if hasattr(page, "stories") and hasattr(page, "adoptions"):
            stream("stories", "page", [i for i in (page_id(t) for t in f.get("stories", [])) if i])
            page.playbook_chapter_id = page_id(f["playbook"]) if f.get("playbook") else None
            adoption = apps.get_model("governance", "ComponentAdoption")
            page.adoptions = [
                adoption(
                    sort_order=n,
                    street_id=streets[a["street"]],
                    stage=a["stage"],
                    since=a.get("since", ""),
                    runner=a["runner"],
                    note=a["note"],
                )
                for n, a in enumerate(f.get("adoptions", []))
            ]

    def raw_block(self, kind, value, linked, image_ids, item):
        def image_value(v):
            ref = v["image"]
            key = item.body_image_keys[item.body.images.index(ref)]
            return {
                "image": {"image": image_ids[key], "alt_text": ref.alt, "decorative": not ref.alt},
                "caption": v["caption"],
                "credit": v["credit"],
            }

        if kind == "paragraph":
            return {"type": kind, "value": resolve_links(value, linked)}
        if kind == "callout":
            return {"type": kind, "value": {**value, "body": resolve_links(value["body"], linked)}}
        if kind == "image":
            return {"type": kind, "value": image_value(value)}
        if kind == "gallery":
            return {
                "type": kind,
                "value": {"title": value["title"], "images": [image_value(v) for v in value["images"]]},
            }
        return {"type": kind, "value": value}


def structured_refs(fields: dict) -> list[tuple[str, str]]:
    """(field, path) of every page a structured field links to: stories, playbook, cases[n].stories."""
    found = [("stories", t) for t in fields.get("stories", [])]
    if fields.get("playbook"):
        found.append(("playbook", fields["playbook"]))
    for n, case in enumerate(fields.get("cases", []), 1):
        found += [(f"cases[{n}].stories", t) for t in case.get("stories", [])]
    return found


def ref_field(fields: dict, target: str) -> str | None:
    return next((name for name, t in structured_refs(fields) if t == target), None)


def _utf8_name(name: str) -> bool:
    """False for a file name whose bytes are not UTF-8 (os.walk hands those back with surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(rel: str) -> str:
    """A path that can be printed and stored: undecodable bytes as \\xNN."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def existing_home():
    """The home page already in the database: the default site's root if it is a HomePage, else the first one."""
    model = apps.get_model("home.HomePage")
    site = Site.objects.filter(is_default_site=True).first()
    if site and isinstance(site.root_page.specific, model):
        return site.root_page
    return model.objects.first()


def run_import(root: Path, *, publish=False, dry_run=False, budget=5.0, progress=None) -> tuple[Report, dict]:
    importer = Importer(root, publish=publish, budget=budget, progress=progress)
    report = importer.validate()
    if not report.ok:
        return report, {}
    plan = importer.plan()
    if dry_run:
        for key, state in plan.items():
            importer.record(key, state)
        return report, plan
    try:
        importer.write()
    except (ValidationError, IntegrityError, DatabaseError, PrivacyBlocked, DocumentRefused) as exc:
        # Validation should have caught it; if not, the transaction has rolled back and we say why.
        report.rejected.append(Problem(str(root), f"写入数据库时出错，已全部回滚：{_explain(exc)}"))
        report.created.clear(), report.updated.clear(), report.unchanged.clear()
    return importer.report, plan


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "；".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return str(exc)
