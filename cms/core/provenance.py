"""Where each claim about a real person comes from: the rules the publishing gate adds to the privacy guard.

- A quote attributed to someone is a real person's words: the speaker must be a person in the people
  library, the quote must name its source, and the words must be one of that person's quotes the source
  records, character for character (whitespace aside).
- A page that names a real person (features them, quotes them, or has their name in its text) lists at
  least one source.
- A page marked 情景示例 (illustrative) names no real person and quotes nobody real.

`provenance_problems(page)` lists what breaks them, naming the block; the gate (`cms.core.gate`) refuses
to publish such a version, on every route, and the importer says the same by file and line.
"""

from __future__ import annotations

import re
import unicodedata

from django.apps import apps

_SPACE = re.compile(r"\s+")


def normalise_quote(text: str) -> str:
    """Verbatim, but not fussy about whitespace or the width of letters and digits."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def speaker_name(attribution: str) -> str:
    """"张辰，陶然亭街道党群工作部负责人" -> "张辰"."""
    return re.split(r"[，,、（(\s]", (attribution or "").strip().lstrip("—-－ "), maxsplit=1)[0]


def quote_blocks(page):
    """(label, raw value) of every quote block in the page's streams, nested ones included."""
    from wagtail.fields import StreamField

    for field in page._meta.concrete_fields:
        if not isinstance(field, StreamField):
            continue
        stream = getattr(page, field.name)
        for n, block in enumerate(stream.raw_data if stream is not None else [], 1):
            if not isinstance(block, dict):
                continue
            for value in _quotes_in(block):
                yield f"“{field.verbose_name}”第 {n} 块", value


def _quotes_in(block):
    value = block.get("value")
    if block.get("type") == "quote" and isinstance(value, dict):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and "type" in item:
                yield from _quotes_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            if isinstance(item, list):
                for child in item:
                    if isinstance(child, dict) and "type" in child:
                        yield from _quotes_in(child)


def page_text(page) -> str:
    """The words a reader sees: title, text fields, rich text and every string in the streams."""
    from cms.core.privacy import page_texts

    return "\n".join(text for _label, text in page_texts(page))


def cited_source_ids(page) -> set[int]:
    """Every source the page lists: its own source list and the sources of its cases and quotes."""
    from cms.core.privacy import referenced

    source = apps.get_model("core", "Source")
    return {int(pk) for model, ids in referenced(page).items() if issubclass(model, source) for pk in ids}


def provenance_problems(page) -> list[str]:
    # Through the app registry: the models import the gate that imports this module.
    Person, Source, SourceQuote = (apps.get_model("core", name) for name in ("Person", "Source", "SourceQuote"))  # noqa: N806

    illustrative = bool(getattr(page, "illustrative", False))
    people = {p.pk: p for p in Person.objects.all()}
    by_name = {p.name: p for p in people.values()}
    problems: list[str] = []
    named: dict[int, Person] = {}

    for where, value in quote_blocks(page):
        attribution = (value.get("attribution") or "").strip()
        speaker_id = value.get("speaker")
        person = people.get(speaker_id) if speaker_id else by_name.get(speaker_name(attribution))
        if not attribution and person is None:
            continue  # an unattributed quote is nobody's words
        shown = person.name if person else speaker_name(attribution)
        if illustrative:
            if person is not None:
                problems.append(f"{where}：情景示例不能引用真实人物{person.name}的话")
            continue
        if person is None:
            problems.append(
                f"{where}：引语的说话人“{shown}”不在人物库中。真实人物的话只能按出处逐字引用："
                "请在人物库中添加此人并选择说话人，或改为间接转述"
            )
            continue
        named[person.pk] = person
        source_id = value.get("source")
        source = Source.objects.filter(pk=source_id).first() if source_id else None
        if source is None:
            problems.append(f"{where}：{person.name}的引语没有注明出处")
            continue
        said = {
            normalise_quote(t)
            for t in SourceQuote.objects.filter(source=source, person=person).values_list("text", flat=True)
        }
        if normalise_quote(value.get("quote", "")) not in said:
            problems.append(
                f"{where}：这段引语不是{source.citation}记录的{person.name}的原话。引语只能逐字使用出处里的原话，"
                "其他内容请改为间接转述（如“据中国青年报报道，……”）"
            )

    for link in getattr(page, "featured_people", None).all() if hasattr(page, "featured_people") else []:
        if link.person_id in people:
            named[link.person_id] = people[link.person_id]
    text = page_text(page)
    for person in people.values():
        if person.name and person.name in text:
            named.setdefault(person.pk, person)

    if illustrative:
        for person in named.values():
            problems.append(f"情景示例不能出现真实人物：{person.name}")
    elif named and not cited_source_ids(page):
        names = "、".join(p.name for p in named.values())
        problems.append(f"页面提到真实人物（{names}），但没有列出来源：请在“来源”中选择出处")
    for person in named.values():
        if not person.may_be_named and not illustrative:
            problems.append(f"{person.name}既没有同意署名的记录，也没有公开报道的出处，不能在公开页面上署名")
    return list(dict.fromkeys(problems))
