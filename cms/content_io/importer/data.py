"""The data files at the root of content/: site.yaml (home and settings), streets, people and sources."""

from __future__ import annotations

from django.apps import apps

from cms.core.text import pinyin_slug

from ..errors import FileRejected, Problem
from ..reader import read_data
from ..schema import HOME, PERSON, SETTINGS, SNIPPET_SLUG_MAX, SOURCE, STREET, Schema
from .items import HOME_KEY, SETTINGS_KEY, PageItem, SnippetItem, digest
from .state import ImportState


class DataFiles(ImportState):
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
                    HOME_KEY, apps.get_model("home.HomePage"), None, cleaned, "home", digest(cleaned), schema=HOME
                )
            else:
                self.settings_item = SnippetItem(SETTINGS_KEY, "settings", "", cleaned, digest(cleaned))

    def clean_list_items(self, rel, doc, schema: Schema, not_a_list: str):
        """(number, where, cleaned fields) of each item of a data file that is a list of mappings; an item's
        problems go to the report and the item is skipped; a file that is not such a list is one problem."""
        if not isinstance(doc.data, list) or not all(isinstance(x, dict) for x in doc.data):
            self.problem(rel, not_a_list, 1)
            return
        for n, item in enumerate(doc.data, 1):
            where = f"{rel}#{n}"
            errors: list[Problem] = []
            cleaned = schema.clean(item, {}, where, errors)
            self.report.rejected += errors
            if not errors:
                yield n, where, cleaned

    def load_sources(self, rel, doc):
        """sources.yaml: each source (出处) with the quotes it records, verbatim."""
        seen: dict[str, int] = {}
        for n, where, cleaned in self.clean_list_items(rel, doc, SOURCE, "应是列表，每一项是一个出处（每项以 - 开头）"):
            key = cleaned["key"]
            if key in seen:
                self.problem(where, f"代号 “{key}” 与第 {seen[key]} 项重复", field_name="key")
                continue
            seen[key] = n
            self.snippets.append(SnippetItem(f"{rel}#{key}", "source", key, cleaned, digest(cleaned)))

    def load_snippets(self, rel, doc, schema: Schema):
        kind = "street" if schema is STREET else "person"
        seen: dict[str, int] = {}
        names: dict[str, int] = {}
        for n, where, cleaned in self.clean_list_items(
            rel, doc, schema, "应是列表，每一项是一个“键: 值”映射（每项以 - 开头）"
        ):
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
