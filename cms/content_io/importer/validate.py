"""Validation: every file of content/ is read and checked, and every problem is reported, before anything
is written. Pages become `PageItem`s, data files `SnippetItem`s, the files they use `FileItem`s."""

from __future__ import annotations

import json
import posixpath

from django.apps import apps

from cms.core.text import pinyin_slug

from ..body import SCHEME
from ..body_parser import parse_body
from ..errors import FileRejected, Problem
from ..models import ContentSource
from ..reader import SourceFile, read_markdown
from ..schema import INFO, PAGES_FOLDER, SECTIONS, Schema
from .data import DataFiles
from .files import DOCUMENT, IMAGE, Files
from .items import HOME_KEY, MAX_PROBLEMS_PER_FILE, PageItem, Report, digest
from .references import References, structured_refs
from .scan import scan_tree
from .state import existing_home


class Validation(DataFiles, Files, References):
    def validate(self) -> Report:
        markdown, data = scan_tree(self.root, self.report)
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

    def add_page(self, source: SourceFile, model, schema: Schema, parent_key: str, folder: str | None):
        """Check one page file; every problem found is reported, and the page is kept only if there is none."""
        before = len(self.report.rejected)
        errors: list[Problem] = []
        cleaned = schema.clean(source.front, source.lines, source.path, errors)
        self.report.rejected += errors
        slug = self.page_slug(source, cleaned, folder) if "title" in cleaned else ""
        if self.publish:
            self.has_personal_data(source)
        item = PageItem(
            source.path, model, parent_key, cleaned, slug, "", field_lines=dict(source.lines), schema=schema
        )
        base_dir = posixpath.dirname(source.path)
        images, documents = self.files[IMAGE.name], self.files[DOCUMENT.name]
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
                    key = self.resolve_file(IMAGE, base_dir, ref.path, source.path, ref.line, "正文图片")
                    item.body_image_keys.append(key)
                    if key in images and not images[key].text:
                        images[key].text = ref.alt
        elif schema.body:
            text = source.body.strip()
            if any(mark in text for mark in ("<", "](", "\n#")):
                self.report.warnings.append(
                    Problem(source.path, "导语按纯文本保存，Markdown 标记不会生效", source.body_line)
                )
            cleaned[schema.body] = text
        hero = cleaned.get("hero_image")
        if hero:
            item.hero_key = self.resolve_file(
                IMAGE, base_dir, hero["file"], source.path, source.lines.get("hero_image"), "hero_image"
            )
            if item.hero_key in images:
                images[item.hero_key].text = hero["alt"]
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
            key = self.resolve_file(
                DOCUMENT, base_dir, template["file"], source.path, source.lines.get("templates"), f"templates[{n}].file"
            )
            item.document_keys[template["file"]] = key
            if key in documents and not documents[key].text:
                documents[key].text = template["title"]  # the title of the first page that lists it
        if len(self.report.rejected) > before:
            self.refused_pages.append(item)  # its references are still checked, so they are reported too
            return
        file_digests = [images[k].digest for k in [item.hero_key, *item.body_image_keys] if k in images]
        file_digests += [documents[k].digest for k in item.document_keys.values() if k in documents]
        item.digest = digest(source.front, source.body, file_digests, item.links)
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

        if self._allowed is None:
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
