"""The privacy guard over a version of a page: every field that reaches the public site or the API.

The detection of personal data in text lives in `cms.core.personal_data`.
"""

from __future__ import annotations

from cms.core.personal_data import KIND_LABELS, find_personal_data, mask  # noqa: F401 - the guard's vocabulary

# -- the publishing guard ---------------------------------------------------------------------------
SKIPPED_FIELDS = {"slug", "url_path", "path", "draft_title", "latest_revision_created_at", "locale", "translation_key"}


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


def _image_ids(value):
    """Ids of images a stream uses (image blocks store {"image": id} or a bare id under "image")."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "image" and isinstance(item, int):
                yield item
            elif key == "image" and isinstance(item, dict) and isinstance(item.get("image"), int):
                yield item["image"]
            else:
                yield from _image_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _image_ids(item)


def _check_text(label: str, text: str, out: list[str]):
    for kind, masked in find_personal_data(text or ""):
        out.append(f"“{label}”含有{KIND_LABELS[kind]} {masked}")


def page_problems(page) -> list[str]:
    """What stops this version of a page from being published: personal numbers in any field (named, the
    match masked), people shown without consent on record, images that still carry GPS data.

    Page types add their own checks with a `privacy_problems()` method (a story checks its people).
    """
    from django.db import models
    from django.utils.html import strip_tags
    from wagtail.fields import RichTextField, StreamField

    from cms.images.exif import has_location

    problems: list[str] = []
    image_ids: set[int] = set()
    for field in page._meta.concrete_fields:
        if field.name in SKIPPED_FIELDS:
            continue
        label = str(field.verbose_name)
        if isinstance(field, StreamField):
            stream = getattr(page, field.name)
            raw = list(stream.raw_data) if stream is not None else []
            for n, block in enumerate(raw, 1):
                value = block.get("value") if isinstance(block, dict) else block
                for _path, text in _strings(value):
                    _check_text(f"{label}（第 {n} 块）", strip_tags(text) + " " + text, problems)
                image_ids.update(_image_ids(value))
        elif isinstance(field, RichTextField):
            _check_text(label, strip_tags(getattr(page, field.name) or ""), problems)
        elif isinstance(field, (models.CharField, models.TextField)):
            _check_text(label, getattr(page, field.name) or "", problems)
        elif (
            isinstance(field, models.ForeignKey)
            and field.related_model.__name__ == "CustomImage"
            and getattr(page, field.attname)
        ):
            image_ids.add(getattr(page, field.attname))
    # Inline rows (a component's adoptions, …): their text fields too.
    for relation in getattr(page._meta, "child_relations", []) or []:
        for row in getattr(page, relation.get_accessor_name()).all():
            for field in row._meta.concrete_fields:
                if isinstance(field, (models.CharField, models.TextField)):
                    _check_text(f"{relation.related_model._meta.verbose_name}：{field.verbose_name}",
                                getattr(row, field.name) or "", problems)  # fmt: skip
    if hasattr(page, "privacy_problems"):
        problems += page.privacy_problems()
    if image_ids:
        from cms.images.models import CustomImage

        for image in CustomImage.objects.filter(pk__in=image_ids):
            try:
                with image.open_file() as f:
                    data = f.read()
            except OSError:
                continue
            if has_location(data):
                problems.append(f"图片《{image.title}》还带有 GPS 位置信息：请重新上传（上传时会自动去除）")
    # The same problem in two places is said once per place; identical lines once.
    return list(dict.fromkeys(problems))
