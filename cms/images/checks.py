"""The privacy guard over an image a page uses: its words, its file name, its location, its collection.

`image_problems(image)` lists what stops a page that shows the image from being published: personal data
in the title, the alt text (`description`), the caption, the credit, the tags or the file name (each match
masked), GPS data still in the file, and a collection only logged-in users may see. Whether a file holds
GPS is kept per file hash, so checking the same images on every publish reads and hashes their bytes only.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from cms.documents.checks import describe, file_name, redact, restricted_problems, text_problems

from .exif import has_location

# The image's own words that reach the page, the API or the share card, in the order the admin shows them.
TEXT_FIELDS = ("title", "description", "caption", "credit")

_gps: OrderedDict[str, bool] = OrderedDict()
_gps_lock = threading.Lock()
CACHE_SIZE = 2048


def located(data: bytes) -> bool:
    """Whether the image's bytes carry GPS data (kept per SHA-1)."""
    key = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    with _gps_lock:
        if key in _gps:
            _gps.move_to_end(key)
            return _gps[key]
    found = has_location(data)
    with _gps_lock:
        _gps[key] = found
        while len(_gps) > CACHE_SIZE:
            _gps.popitem(last=False)
    return found


def field_label(image, field: str) -> str:
    return str(type(image)._meta.get_field(field).verbose_name)


def image_problems(image) -> list[str]:
    """What stops a page that shows this image from being published (empty when nothing does)."""
    subject = describe(image)
    problems = []
    for field in TEXT_FIELDS:
        problems += text_problems(subject, field_label(image, field), getattr(image, field, "") or "")
    if image.pk:
        for tag in image.tags.names():
            problems += text_problems(subject, f"标签“{redact(tag)}”", tag)
    problems += text_problems(subject, "文件名", file_name(image))
    if image.file and image.file.name:
        try:
            with image.open_file() as f:
                data = f.read()
        except (OSError, ValueError):
            problems.append(f"{subject}的文件找不到了，无法检查：请重新上传")
        else:
            if located(data):
                problems.append(f"{subject}还带有 GPS 位置信息：请重新上传（上传时会自动去除）")
    problems += restricted_problems(image)
    return list(dict.fromkeys(problems))


def upload_errors(image, new_file: bool) -> dict[str, list[str]]:
    """Errors for the admin's image form, by field: personal data in the text fields, or in the name of a
    new file (a form without the file field must not get an error on it). GPS is no error: saving removes it."""
    errors: dict[str, list[str]] = {}
    for field in TEXT_FIELDS:
        label = field_label(image, field)
        found = text_problems(f"“{label}”", "内容", getattr(image, field, "") or "")
        if found:
            errors[field] = [f"{p}，请删去或改写" for p in found]
    name = file_name(image)
    found = text_problems(f"文件“{redact(name)}”", "文件名", name) if new_file else []
    if found:
        errors["file"] = [f"{p}，请改名后再上传" for p in found]
    return errors
