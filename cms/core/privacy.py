"""The privacy guard over a version of a page: every field that reaches the public site or the API.

The detection of personal data in text lives in `cms.core.personal_data`.
"""

from __future__ import annotations

from cms.core.personal_data import KIND_LABELS, find_personal_data, mask  # noqa: F401 - the guard's vocabulary

# -- the publishing guard ---------------------------------------------------------------------------
SKIPPED_FIELDS = {"url_path", "path", "draft_title", "latest_revision_created_at", "locale", "translation_key"}


class PublishRefused(Exception):
    """The publishing gate (`cms.core.gate`) refused: `problems` say why, in words for the person."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("不能发布：" + "；".join(problems))


class PrivacyBlocked(PublishRefused):
    """Refused because the page carries personal data: `problems` name each field and the masked match."""


def _strings(value, path=()):
    """Every string inside a stream's raw JSON, with where it is (key names)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("id", "type"):
                yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)


def _check_text(label: str, text: str, out: list[str], allowed=()):
    for kind, masked in find_personal_data(text or "", allowed=allowed):
        out.append(f"“{label}”含有{KIND_LABELS[kind]} {masked}")


def organisation_contacts() -> tuple[str, ...]:
    """The operator's own public address and telephone (site settings): not a person's, so never refused."""
    from django.apps import apps

    try:
        settings = apps.get_model("core", "SiteSettings").load()
    except Exception:  # noqa: BLE001 - no settings row yet (a fresh database): nothing is allowed
        return ()
    return tuple(
        value for name in ("office_address", "office_phone") if (value := getattr(settings, name, "") or "").strip()
    )


def page_texts(page):
    """(label, text) of every text the version has of its own: text fields, rich text without its tags,
    and each string in its streams (labelled with the block's position; with and without its tags)."""
    from django.db import models
    from django.utils.html import strip_tags
    from wagtail.fields import RichTextField, StreamField

    for field in page._meta.concrete_fields:
        if field.name in SKIPPED_FIELDS:
            continue
        label = str(field.verbose_name)
        if isinstance(field, StreamField):
            stream = getattr(page, field.name)
            for n, block in enumerate(stream.raw_data if stream is not None else [], 1):
                value = block.get("value") if isinstance(block, dict) else block
                for _path, text in _strings(value):
                    yield f"{label}（第 {n} 块）", strip_tags(text) + " " + text
        elif isinstance(field, RichTextField):
            yield label, strip_tags(getattr(page, field.name) or "")
        elif isinstance(field, (models.CharField, models.TextField)):
            yield label, getattr(page, field.name) or ""


def page_problems(page) -> list[str]:
    """What stops this version of a page from being published: personal data in any field it has (named, the
    match masked), in its inline rows, and in everything it shows from elsewhere — images (title, alt text,
    caption, tags, file name, GPS), documents (title, text, metadata, file type), tags, snippets (a street's
    summary, a person's role) — and images or documents from a restricted collection.

    Page types add their own checks with a `privacy_problems()` method (a story checks its people).
    """
    from django.db import models

    allowed = organisation_contacts()
    problems: list[str] = []
    for label, text in page_texts(page):
        _check_text(label, text, problems, allowed)
    # Inline rows (a component's adoptions, …): their text fields too.
    for relation in getattr(page._meta, "child_relations", []) or []:
        for row in getattr(page, relation.get_accessor_name()).all():
            for field in row._meta.concrete_fields:
                if isinstance(field, (models.CharField, models.TextField)):
                    _check_text(f"{relation.related_model._meta.verbose_name}：{field.verbose_name}",
                                getattr(row, field.name) or "", problems, allowed)  # fmt: skip
    if hasattr(page, "privacy_problems"):
        problems += page.privacy_problems()
    problems += referenced_problems(page, allowed)
    # The same problem in two places is said once per place; identical lines once.
    return list(dict.fromkeys(problems))


def referenced(page) -> dict[type, set[str]]:
    """What this version of the page shows from elsewhere, by model: every image, document, tag and snippet
    it references through a field, a stream block, rich text or an inline row (Wagtail's reference
    extraction, the one its usage reports are built on)."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import ReferenceIndex

    found: dict[type, set[str]] = {}
    for content_type_id, object_id, _model_path, _content_path in ReferenceIndex._extract_references_from_object(page):
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is not None:
            found.setdefault(model, set()).add(object_id)
    return found


def referenced_problems(page, allowed=()) -> list[str]:
    from django.db import models
    from taggit.models import TagBase
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.snippets.models import get_snippet_models

    from cms.documents.checks import document_problems
    from cms.images.checks import image_problems

    problems: list[str] = []
    image_model, document_model, snippets = get_image_model(), get_document_model(), set(get_snippet_models())
    for model, ids in referenced(page).items():
        if issubclass(model, image_model):
            for image in image_model.objects.filter(pk__in=ids):
                problems += image_problems(image)
        elif issubclass(model, document_model):
            for document in document_model.objects.filter(pk__in=ids):
                problems += document_problems(document)
        elif issubclass(model, TagBase):
            for name in model.objects.filter(pk__in=ids).values_list("name", flat=True):
                _check_text(f"标签“{mask_text(name)}”", name, problems, allowed)
        elif model in snippets:
            noun = model._meta.verbose_name
            for obj in model.objects.filter(pk__in=ids):
                public = getattr(model, "public_fields", None)
                for field in model._meta.concrete_fields:
                    if public is not None and field.name not in public:
                        continue
                    if isinstance(field, (models.CharField, models.TextField)) and field.name != "slug":
                        label = f"{noun}“{mask_text(str(obj))}”的{field.verbose_name}"
                        _check_text(label, getattr(obj, field.name) or "", problems, allowed)
    return problems


def mask_text(text: str) -> str:
    """The text with its digits masked when it holds personal data, to name a thing without spreading it."""
    import re

    return re.sub(r"\d", "*", text) if find_personal_data(text) else text
