"""Finding personal data in text: mainland mobile numbers, resident ID numbers, bank card numbers.

Used by the release verification (and the publishing guard): a match blocks publication, and messages
show the match partly masked so that the report itself does not spread it.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

MOBILE = re.compile(r"(?<![\dA-Za-z])(?:(?:\+|00)?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?![\dA-Za-z])")
RESIDENT_ID = re.compile(
    r"(?<![\dA-Za-z])[1-9]\d{5}((?:18|19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])"
)
BANK_CARD = re.compile(r"(?<![\dA-Za-z])(?:62|4\d|5[1-5])\d{14,17}(?![\dA-Za-z])")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
KIND_LABELS = {"mobile": "手机号码", "resident-id": "身份证号码", "bank-card": "银行卡号"}


def resident_id_valid(number: str, year: str, month: str, day: str) -> bool:
    try:
        if datetime.date(int(year), int(month), int(day)) > datetime.date.today():
            return False
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_valid(number: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(number)):
        k = int(c) * (2 if i % 2 else 1)
        total += k - 9 if k > 9 else k
    return total % 10 == 0


def mask(value: str) -> str:
    return value[:3] + "*" * max(0, len(value) - 6) + value[-3:] if len(value) > 6 else "***"


def find_personal_data(text: str) -> list[tuple[str, str]]:
    """(kind, masked match) for every personal number in the text. Full-width digits count too."""
    t = unicodedata.normalize("NFKC", text)
    hits = [("mobile", mask("".join(m.groups()))) for m in MOBILE.finditer(t)]
    hits += [
        ("resident-id", mask(m.group(0))) for m in RESIDENT_ID.finditer(t) if resident_id_valid(m.group(0), *m.groups())
    ]
    hits += [("bank-card", mask(m.group(0))) for m in BANK_CARD.finditer(t) if luhn_valid(m.group(0))]
    return hits


# -- the publishing guard ---------------------------------------------------------------------------
SKIPPED_FIELDS = {"slug", "url_path", "path", "draft_title", "latest_revision_created_at", "locale", "translation_key"}


class PrivacyBlocked(Exception):
    """Publishing refused: the page carries personal data. `problems` name each field and the masked match."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("不能发布：" + "；".join(problems))


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
