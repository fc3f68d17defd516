"""Writing, once everything is valid: snippets, images and documents, then pages, in one transaction.

A page is found by its file's key (or adopted: the page that the database already has there), created
as a placeholder so that pages can link to each other, then written as a revision, published with
--publish. Unchanged files make no new revision.
"""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from wagtail.models import Page, Site

from cms.core.models import Person, SiteSettings, Source, SourceQuote, Street

from ..models import ContentSource
from ..schema import SECTIONS
from .files import DOCUMENT, IMAGE, Files
from .items import HOME_KEY, SETTINGS_KEY, PageItem, Report
from .pages import PageFields
from .state import existing_home


class Writing(Files, PageFields):
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
        for key, item in [*self.files[IMAGE.name].items(), *self.files[DOCUMENT.name].items()]:
            plan[key] = (
                "created" if key not in existing else ("updated" if existing[key] != item.digest else "unchanged")
            )
        return plan

    @transaction.atomic
    def write(self) -> Report:
        sources = {s.key: s for s in ContentSource.objects.select_for_update()}
        plan = self.plan()
        self.write_snippets(sources, plan)
        self.write_files(IMAGE, sources, plan)
        self.write_files(DOCUMENT, sources, plan)
        page_ids = self.ensure_pages(sources)
        total = len(self.pages)
        for n, item in enumerate(self.pages.values(), 1):
            self.progress(n, total)
            self.write_page(item, sources, plan, page_ids, self.file_ids[IMAGE.name])
        self.order_pages(page_ids)
        return self.report

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

    def write_snippets(self, sources, plan):
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
