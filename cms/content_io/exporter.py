"""Write the CMS's pages, snippets and images back to files in the format of content/.

The output is deterministic: exporting, importing that export into an empty database and exporting
again gives byte-identical files.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from pathlib import Path

import yaml
from django.apps import apps
from wagtail.models import Site

from cms.core.models import Person, SiteSettings, Source, Street

from .body import blocks_to_markdown
from .models import ContentSource
from .schema import HOME, INFO, PAGES_FOLDER, PERSON, SECTIONS, SETTINGS, SOURCE, STREET, Schema


def scalar(value) -> str:
    """One YAML scalar that the importer reads back as exactly this value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    value = str(value)
    if "\n" in value or value != value.strip():
        return json.dumps(value, ensure_ascii=False)
    dumped = yaml.safe_dump(value, allow_unicode=True, width=1_000_000, default_flow_style=True)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def flow_map(item: dict) -> str:
    return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in item.items() if v != "") + "}"


def emit(schema: Schema, values: dict, indent: str = "") -> list[str]:
    """YAML lines for the fields of `schema` present in `values`, in the schema's order."""
    lines = []
    for f in schema.fields:
        value = values.get(f.name)
        if value in (None, "", [], {}) or (f.kind == "bool" and value is False):
            continue
        if f.kind in ("list", "refs"):
            lines.append(f"{indent}{f.name}: [{', '.join(scalar(v) for v in value)}]")
        elif f.kind == "figures":
            lines.append(f"{indent}{f.name}:")
            lines += [f"{indent}  - {flow_map(v)}" for v in value]
        elif f.kind == "image":
            lines.append(f"{indent}{f.name}:")
            lines += [f"{indent}  {k}: {scalar(v)}" for k, v in value.items() if v]
        elif f.kind == "records":
            lines.append(f"{indent}{f.name}:")
            for record in value:
                sub = emit(f.item, record, indent + "    ")
                lines += [f"{indent}  - " + sub[0].lstrip(), *sub[1:]]
        elif f.kind == "int":
            lines.append(f"{indent}{f.name}: {int(value)}")
        elif f.kind == "date":
            lines.append(f"{indent}{f.name}: {value.isoformat()}")
        else:
            lines.append(f"{indent}{f.name}: {scalar(value)}")
    return lines


def figures(stream) -> list[dict]:
    return [{k: block.value[k] for k in ("value", "unit", "label", "source") if k in block.value} for block in stream]


class Exporter:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.keys = dict(ContentSource.objects.filter(kind="page").values_list("object_id", "key"))
        self.image_keys = dict(ContentSource.objects.filter(kind="image").values_list("object_id", "key"))
        self.document_keys = dict(ContentSource.objects.filter(kind="document").values_list("object_id", "key"))
        self.documents_to_copy: dict[str, object] = {}
        self.order: dict[int, int] = {}
        self.page_paths: dict[int, str] = {}
        self.images_to_copy: dict[str, object] = {}
        self.written: list[str] = []

    def write(self, rel: str, text: str):
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        self.written.append(rel)

    def run(self) -> list[str]:
        self.out.mkdir(parents=True, exist_ok=True)
        site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
        home = site.root_page.specific if site else None
        sections = []
        if home is not None:
            for folder, section in SECTIONS.items():
                index = apps.get_model(section.index_model).objects.child_of(home).first()
                if index is None:
                    continue
                self.page_paths[index.pk] = f"{folder}/_index.md"
                children = list(apps.get_model(section.child_model).objects.child_of(index).order_by("path"))
                grandchildren: dict[int, list] = {}
                for n, child in enumerate(children, 1):
                    self.order[child.pk] = n
                    if section.grandchild_model is None:
                        self.page_paths[child.pk] = self.keys.get(child.pk) or f"{folder}/{child.slug}.md"
                        continue
                    course_rel = self.keys.get(child.pk) or f"{folder}/{child.slug}/_index.md"
                    self.page_paths[child.pk] = course_rel
                    model = apps.get_model(section.grandchild_model)
                    grandchildren[child.pk] = list(model.objects.child_of(child).order_by("path"))
                    for m, lesson in enumerate(grandchildren[child.pk], 1):
                        self.order[lesson.pk] = m
                        self.page_paths[lesson.pk] = self.keys.get(lesson.pk) or posixpath.join(
                            posixpath.dirname(course_rel), f"{lesson.slug}.md"
                        )
                sections.append((folder, section, index, children, grandchildren))
        info_pages = []
        if home is not None:
            info_pages = list(apps.get_model("home.InformationPage").objects.child_of(home).order_by("path"))
            for page in info_pages:
                self.page_paths[page.pk] = self.keys.get(page.pk) or f"{PAGES_FOLDER}/{page.slug}.md"
        self.export_site(home)
        self.export_snippets()
        for page in info_pages:
            self.export_page(page, self.page_paths[page.pk], INFO, None)
        for folder, section, index, children, grandchildren in sections:
            self.export_page(index, f"{folder}/_index.md", section.index_schema, folder)
            for child in children:
                rel = self.page_paths[child.pk]
                nested_folder = posixpath.basename(posixpath.dirname(rel)) if grandchildren else None
                self.export_page(child, rel, section.child_schema, nested_folder)
                for lesson in grandchildren.get(child.pk, []):
                    self.export_page(lesson, self.page_paths[lesson.pk], section.grandchild_schema, None)
        for rel, image in sorted([*self.images_to_copy.items(), *self.documents_to_copy.items()]):
            target = self.out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with image.open_file() as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            self.written.append(rel)
        return self.written

    # -- data files ---------------------------------------------------------------------------
    def export_site(self, home):
        lines = []
        if home is not None:
            page = home.get_latest_revision_as_object() if home.latest_revision_id else home
            values = {f.name: getattr(page, f.name, None) for f in HOME.fields}
            values["key_figures"] = figures(page.key_figures)
            if values.get("latest_count") == 6:
                values.pop("latest_count")
            lines += ["home:", *emit(HOME, values, "  ")]
        settings = SiteSettings.load()
        lines += ["settings:", *emit(SETTINGS, {f.name: getattr(settings, f.name) for f in SETTINGS.fields}, "  ")]
        self.write("site.yaml", "\n".join(lines) + "\n")

    def export_snippets(self):
        for rel, model, schema in (("streets.yaml", Street, STREET), ("people.yaml", Person, PERSON)):
            lines = []
            for obj in model.objects.order_by("slug"):
                values = {f.name: getattr(obj, f.name, None) for f in schema.fields}
                if model is Street:
                    values["key_figures"] = figures(obj.key_figures)
                    values["source"] = obj.source.key if obj.source_id else None
                else:
                    values["street"] = obj.street.slug if obj.street_id else None
                    values["named_in"] = obj.named_in.key if obj.named_in_id else None
                item = emit(schema, values, "  ")
                lines += ["- " + item[0].lstrip(), *item[1:]]
            self.write(rel, "\n".join(lines) + "\n" if lines else "[]\n")
        lines = []
        for source in Source.objects.order_by("date", "key").prefetch_related("quotes__person"):
            values = {f.name: getattr(source, f.name, None) for f in SOURCE.fields}
            values["quotes"] = [{"person": q.person.slug, "text": q.text} for q in source.quotes.all()]
            item = emit(SOURCE, values, "  ")
            lines += ["- " + item[0].lstrip(), *item[1:]]
        if lines:
            self.write("sources.yaml", "\n".join(lines) + "\n")

    # -- pages --------------------------------------------------------------------------------
    def relative(self, from_rel: str, to_rel: str) -> str:
        return posixpath.relpath(to_rel, posixpath.dirname(from_rel) or ".")

    def image_rel(self, image, page_rel: str) -> str:
        key = self.image_keys.get(image.pk)
        if key is None:
            name = Path(image.file.name).name
            key = f"{page_rel.split('/')[0]}/images/{image.pk}-{name}"
            self.image_keys[image.pk] = key
        self.images_to_copy[key] = image
        return key

    def export_page(self, page, rel: str, schema: Schema, folder: str | None):
        page = page.get_latest_revision_as_object() if page.latest_revision_id else page.specific
        default_slug = folder or posixpath.splitext(posixpath.basename(rel))[0]
        values = {f.name: getattr(page, f.name, None) for f in schema.fields}
        values["slug"] = page.slug if page.slug != default_slug else None
        if page.pk in self.order:
            values["order"] = self.order[page.pk]
        body = ""
        if schema.body == "markdown" and hasattr(page, "tags"):
            values["street"] = page.street.slug if page.street_id else None
            values["tags"] = sorted(t.name for t in page.tags.all())
            values["people"] = [link.person.slug for link in page.featured_people.all()]
            values["sources"] = [link.source.key for link in page.source_links.all()]
            values["related"] = [
                self.relative(rel, self.page_paths[link.related_page_id])
                for link in page.related_links.all()
                if link.related_page_id in self.page_paths
            ]
            if page.hero_image_id:
                image = page.hero_image
                values["hero_image"] = {
                    "file": self.relative(rel, self.image_rel(image, rel)),
                    "alt": image.description,
                    "caption": page.hero_caption,
                    "credit": page.hero_credit,
                }
        if schema.body == "markdown":
            self.structured_values(page, rel, values)
            body = blocks_to_markdown(
                page.body,
                page_path=lambda pk: self.relative(rel, self.page_paths[pk]) if pk in self.page_paths else None,
                image_path=lambda image: self.relative(rel, self.image_rel(image, rel)),
            )
        elif schema.body:
            text = getattr(page, schema.body, "") or ""
            body = text.strip() + "\n" if text.strip() else ""
        front = "\n".join(emit(schema, values))
        self.write(rel, f"---\n{front}\n---\n" + (f"\n{body}" if body else ""))

    def document_rel(self, document, page_rel: str) -> str:
        key = self.document_keys.get(document.pk)
        if key is None:
            key = f"{page_rel.split('/')[0]}/templates/{document.pk}-{Path(document.file.name).name}"
            self.document_keys[document.pk] = key
        self.documents_to_copy[key] = document
        return key

    def structured_values(self, page, rel: str, values: dict):
        """Playbook chapters and model components: order, steps, checklists, cases, adoptions, links."""

        def link(target_id) -> str | None:
            pk = getattr(target_id, "pk", target_id)
            return self.relative(rel, self.page_paths[pk]) if pk in self.page_paths else None

        def items(stream) -> list:
            return [b.value for b in stream]

        for name in ("checklist", "measures", "risks", "key_points", "sources"):
            if hasattr(page, name):
                values[name] = items(getattr(page, name))
        if hasattr(page, "steps"):
            values["steps"] = [dict(v) for v in items(page.steps)]
            values["pitfalls"] = [dict(v) for v in items(page.pitfalls)]
            values["cases"] = [
                {
                    "street": v["street"].slug if v["street"] else "",
                    "text": v["text"],
                    "figures": [{k: fig[k] for k in ("value", "unit", "label")} for fig in v["figures"]],
                    "stories": [x for x in (link(p) for p in v["stories"] if p) if x],
                    "sources": [source.key for source in v.get("sources", []) if source],
                }
                for v in items(page.cases)
            ]
            values["templates"] = [
                {
                    "file": self.relative(rel, self.document_rel(v["document"], rel)),
                    "title": v["title"],
                    "description": v["description"],
                }
                for v in items(page.templates)
                if v["document"]
            ]
        if hasattr(page, "quiz"):
            values["quiz"] = [
                {
                    "question": v["question"],
                    "options": list(v["options"]),
                    "answer": v["answer"],
                    "explanation": v["explanation"],
                }
                for v in items(page.quiz)
            ]
        if hasattr(page, "adoptions"):
            values["sources"] = [link.source.key for link in page.source_links.all()]
            values["stories"] = [x for x in (link(p) for p in items(page.stories) if p) if x]
            values["playbook"] = link(page.playbook_chapter_id) if page.playbook_chapter_id else None
            values["adoptions"] = [
                {"street": a.street.slug, "stage": a.stage, "since": a.since, "runner": a.runner, "note": a.note}
                for a in page.adoptions.all()
            ]


def run_export(out: Path) -> list[str]:
    return Exporter(out).run()
