"""Checks across files: streets, people, sources, quotes and pages that one file names must exist (in
content/ or the database); slugs, orders and the model's hub are unique where they must be."""

from __future__ import annotations

from wagtail.models import Page

from cms.core.models import Person, Source, SourceQuote, Street

from ..models import ContentSource
from .items import PageItem
from .state import ImportState


class References(ImportState):
    def check_cross_references(self):
        street_slugs = {s.slug for s in self.snippets if s.kind == "street"} | set(
            Street.objects.values_list("slug", flat=True)
        )
        people = {s.slug: s for s in self.snippets if s.kind == "person"}
        db_people = {p.slug: p.consent_on_record or p.named_in_id is not None for p in Person.objects.all()}
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
        """(field, source keys) of every source list a page has: its own (kept as its source links), and each case's."""
        out = [(f.name, item.fields.get(f.name, [])) for f in item.schema.fields if f.target == "source_links"]
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
        if self._quote_index is None:
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
