"""Write the CMS's pages, snippets and images back to files in the format of content/.

The output is deterministic: exporting, importing that export into an empty database and exporting
again gives byte-identical files. A page's fields are read from where its schema (`schema.py`) says the
page keeps them, the way the importer writes them.
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
from .fields import Field, Schema
from .models import ContentSource
from .schema import HOME, INFO, PAGES_FOLDER, PERSON, SECTIONS, SETTINGS, SOURCE, STREET


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
    """A street's key figures (the same blocks as the home page's `key_figures`)."""
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
            values = self.page_values(page, "site.yaml", HOME, None)
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
        values = self.page_values(page, rel, schema, folder)
        body = ""
        if schema.body == "markdown":
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

    def page_values(self, page, rel: str, schema: Schema, folder: str | None) -> dict:
        """Each field of the page's schema, read from where the schema says the page keeps it."""
        return {spec.name: getattr(self, f"read_{spec.store}")(page, rel, spec, folder) for spec in schema.fields}

    # -- one reader per store (fields.STORES), the importer's writers read backwards ----------------
    def link(self, rel: str, target) -> str | None:
        """The path, relative to `rel`, of the file of a page (or page id), if it is exported."""
        pk = getattr(target, "pk", target)
        return self.relative(rel, self.page_paths[pk]) if pk in self.page_paths else None

    def read_column(self, page, rel: str, spec: Field, folder: str | None):
        return getattr(page, spec.target, None)

    def read_slug(self, page, rel: str, spec: Field, folder: str | None):
        default_slug = folder or posixpath.splitext(posixpath.basename(rel))[0]
        return page.slug if page.slug != default_slug else None

    def read_order(self, page, rel: str, spec: Field, folder: str | None):
        return self.order.get(page.pk)

    def read_stream(self, page, rel: str, spec: Field, folder: str | None):
        values = [block.value for block in getattr(page, spec.target)]
        convert = getattr(self, f"block_{spec.block}", None)
        return convert(rel, values) if convert is not None else values

    def read_rows(self, page, rel: str, spec: Field, folder: str | None):
        rows = getattr(page, spec.target).all()
        if spec.target == "source_links":
            return [row.source.key for row in rows]
        if spec.target == "featured_people":
            return [row.person.slug for row in rows]
        if spec.target == "related_links":
            return [self.link(rel, row.related_page_id) for row in rows if row.related_page_id in self.page_paths]
        if spec.target == "adoptions":
            return [
                {"street": a.street.slug, "stage": a.stage, "since": a.since, "runner": a.runner, "note": a.note}
                for a in rows
            ]
        raise AssertionError(spec.target)

    def read_tags(self, page, rel: str, spec: Field, folder: str | None):
        return sorted(t.name for t in getattr(page, spec.target).all())

    def read_street(self, page, rel: str, spec: Field, folder: str | None):
        street = getattr(page, spec.target)
        return street.slug if street else None

    def read_page(self, page, rel: str, spec: Field, folder: str | None):
        target_id = getattr(page, f"{spec.target}_id")
        return self.link(rel, target_id) if target_id else None

    def read_hero(self, page, rel: str, spec: Field, folder: str | None):
        if not page.hero_image_id:
            return None
        image = page.hero_image
        return {
            "file": self.relative(rel, self.image_rel(image, rel)),
            "alt": image.description,
            "caption": page.hero_caption,
            "credit": page.hero_credit,
        }

    # -- stream blocks that hold more than the file wrote -----------------------------------------------
    def block_figure(self, rel: str, values: list) -> list[dict]:
        return [{k: v[k] for k in ("value", "unit", "label", "source") if k in v} for v in values]

    def block_step(self, rel: str, values: list) -> list[dict]:
        return [dict(v) for v in values]

    block_pitfall = block_step

    def block_case(self, rel: str, values: list) -> list[dict]:
        return [
            {
                "street": v["street"].slug if v["street"] else "",
                "text": v["text"],
                "figures": [{k: fig[k] for k in ("value", "unit", "label")} for fig in v["figures"]],
                "stories": [x for x in (self.link(rel, p) for p in v["stories"] if p) if x],
                "sources": [source.key for source in v.get("sources", []) if source],
            }
            for v in values
        ]

    def block_template(self, rel: str, values: list) -> list[dict]:
        return [
            {
                "file": self.relative(rel, self.document_rel(v["document"], rel)),
                "title": v["title"],
                "description": v["description"],
            }
            for v in values
            if v["document"]
        ]

    def block_question(self, rel: str, values: list) -> list[dict]:
        return [
            {
                "question": v["question"],
                "options": list(v["options"]),
                "answer": v["answer"],
                "explanation": v["explanation"],
            }
            for v in values
        ]

    def block_page(self, rel: str, values: list) -> list[str]:
        return [x for x in (self.link(rel, p) for p in values if p) if x]


def run_export(out: Path) -> list[str]:
    return Exporter(out).run()
