"""A page's fields, written from its schema: each field goes where the schema says the page keeps it
(`Field.store`), so that a field missing from the file goes back to its default, and nothing else is touched."""

from __future__ import annotations

from dataclasses import dataclass

from cms.core.models import Person, Source, Street

from ..body import resolve_links
from ..fields import Field
from .items import HOME_KEY, PageItem
from .state import ImportState

PLACEHOLDER_BODY = [{"type": "paragraph", "value": "<p>（导入中）</p>"}]


@dataclass
class Ids:
    """Ids of what a page links to: pages by key, images by key (empty while the pages are being created)."""

    pages: dict[str, int]
    images: dict[str, int]

    def page(self, item: PageItem, target: str) -> int | None:
        """The id of the page a structured field names by the path written in it."""
        return self.pages.get(item.refs.get(target))


class PageFields(ImportState):
    def apply_fields(self, page, item: PageItem, page_ids, image_ids, placeholder=False):
        """Every field of the page's schema. A placeholder is what a new page needs to be saved before every
        other page exists: links to pages and images, and the body, are written once they all do."""
        ids = Ids({}, {}) if placeholder else Ids(page_ids, image_ids)
        page.slug = item.slug  # every page has one, the home page too (its part of site.yaml has no slug field)
        for spec in item.schema.fields:
            getattr(self, f"field_{spec.store}")(page, item, spec, ids)
        body = item.schema.body
        if body and body != "markdown":  # a plain-text body is the page's field of that name
            page_field = page._meta.get_field(body)
            setattr(page, body, item.fields[body] if body in item.fields else page_field.get_default())
        if item.parent_key == HOME_KEY and item.key.endswith("/_index.md"):
            page.show_in_menus = True  # the sections are the main menu; information pages sit in the footer
        if body == "markdown":
            page.body = PLACEHOLDER_BODY if placeholder else self.body_blocks(item, ids)

    # -- one writer per store (fields.STORES) --------------------------------------------------------
    def field_column(self, page, item: PageItem, spec: Field, ids: Ids):
        f = item.fields
        setattr(page, spec.target, f[spec.name] if spec.name in f else page._meta.get_field(spec.target).get_default())

    def field_slug(self, page, item: PageItem, spec: Field, ids: Ids):
        pass  # item.slug: the front matter's, else the file's name (Validation.page_slug); written above

    def field_order(self, page, item: PageItem, spec: Field, ids: Ids):
        pass  # the page's place among its siblings: order_pages, once every page exists

    def field_stream(self, page, item: PageItem, spec: Field, ids: Ids):
        values = item.fields.get(spec.name, [])
        convert = getattr(self, f"block_{spec.block}", None)
        if convert is not None:
            values = convert(item, values, ids)
        setattr(page, spec.target, [{"type": spec.block, "value": v} for v in values])

    def field_rows(self, page, item: PageItem, spec: Field, ids: Ids):
        row = getattr(page, spec.target).model
        values = item.fields.get(spec.name, [])
        # Rows carry their position: without it their order is the database's to choose (PostgreSQL returns
        # rows with equal sort keys in any order, and the export would not round-trip).
        if spec.target == "source_links":
            sources = self.source_ids()
            rows = [
                row(source_id=sources[key], sort_order=n) for n, key in enumerate(k for k in values if k in sources)
            ]
        elif spec.target == "featured_people":
            people = {p.slug: p for p in Person.objects.filter(slug__in=values)}
            rows = [row(person=people[s], sort_order=n) for n, s in enumerate(x for x in values if x in people)]
        elif spec.target == "related_links":
            keys = (k for k in item.related_keys if k in ids.pages)
            rows = [row(related_page_id=ids.pages[k], sort_order=n) for n, k in enumerate(keys)]
        elif spec.target == "adoptions":
            streets = self.street_ids()
            rows = [
                row(
                    sort_order=n,
                    street_id=streets[a["street"]],
                    stage=a["stage"],
                    since=a.get("since", ""),
                    runner=a["runner"],
                    note=a["note"],
                )
                for n, a in enumerate(values)
            ]
        else:
            raise AssertionError(spec.target)
        setattr(page, spec.target, rows)

    def field_tags(self, page, item: PageItem, spec: Field, ids: Ids):
        getattr(page, spec.target).set(item.fields.get(spec.name, []))

    def field_street(self, page, item: PageItem, spec: Field, ids: Ids):
        slug = item.fields.get(spec.name)
        setattr(page, spec.target, Street.objects.get(slug=slug) if slug else None)

    def field_page(self, page, item: PageItem, spec: Field, ids: Ids):
        target = item.fields.get(spec.name)
        setattr(page, f"{spec.target}_id", ids.page(item, target) if target else None)

    def field_hero(self, page, item: PageItem, spec: Field, ids: Ids):
        hero = item.fields.get(spec.name)
        page.hero_image_id = ids.images.get(item.hero_key) if hero else None
        page.hero_caption = hero["caption"] if hero else ""
        page.hero_credit = hero["credit"] if hero else ""

    # -- the values of stream blocks that hold more than the file wrote --------------------------------
    def block_step(self, item: PageItem, values: list, ids: Ids) -> list:
        return [{"detail": "", **step} for step in values]

    def block_case(self, item: PageItem, values: list, ids: Ids) -> list:
        streets, sources = self.street_ids(), self.source_ids()
        return [
            {
                "street": streets.get(case["street"]),
                "text": case["text"],
                "figures": [{k: fig[k] for k in ("value", "unit", "label")} for fig in case.get("figures", [])],
                "stories": [i for i in (ids.page(item, t) for t in case.get("stories", [])) if i],
                "sources": [sources[key] for key in case.get("sources", []) if key in sources],
            }
            for case in values
        ]

    def block_template(self, item: PageItem, values: list, ids: Ids) -> list:
        documents = self.file_ids["document"]
        return [
            {
                "document": documents.get(item.document_keys.get(t["file"])),
                "title": t["title"],
                "description": t.get("description", ""),
            }
            for t in values
        ]

    def block_page(self, item: PageItem, values: list, ids: Ids) -> list:
        return [i for i in (ids.page(item, t) for t in values) if i]

    # -- the body --------------------------------------------------------------------------------------
    def body_blocks(self, item: PageItem, ids: Ids) -> list[dict]:
        linked = [ids.pages.get(k, 0) for k in item.links]
        blocks = [self.raw_block(kind, value, linked, ids.images, item) for kind, value in item.body.blocks]
        return self.with_quote_sources(blocks, item)

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

    # -- read once the snippets are written (pages are written after them) ------------------------------
    def source_ids(self) -> dict[str, int]:
        """Source key -> id."""
        if self._source_ids is None:
            self._source_ids = dict(Source.objects.values_list("key", "pk"))
        return self._source_ids

    def street_ids(self) -> dict[str, int]:
        """Street slug -> id."""
        if self._street_ids is None:
            self._street_ids = dict(Street.objects.values_list("slug", "pk"))
        return self._street_ids
