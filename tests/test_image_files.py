"""An image's stored file changes only when a new file is saved: never while renditions are made.

A release built in two render workers once showed each of an image's four renditions made from a
different copy of its file (CI, tests/test_backup.py): Wagtail saves `file_hash` or `file_size` while it
makes a rendition, and such a save stored the file again under a new name.
"""

from __future__ import annotations

import pytest
from django.core.files.images import ImageFile

from cms.images.models import CustomImage
from tests.test_images import jpeg_with_gps

pytestmark = pytest.mark.django_db


def stored_files(image) -> set[str]:
    folder = image.file.storage.path("original_images")
    import os

    return set(os.listdir(folder))


def test_making_renditions_leaves_the_file_and_its_name_alone():
    import io

    image = CustomImage(title="胡同", description="胡同里的三轮车")
    image.file = ImageFile(io.BytesIO(jpeg_with_gps()), name="lane.jpg")
    image.save()
    assert image.file_hash, "known on save: Wagtail need not save the image again to learn it"
    name, files = image.file.name, stored_files(image)
    fresh = CustomImage.objects.get(pk=image.pk)
    fresh.file_hash = ""  # as a row saved before the hash was kept
    for spec in ("fill-400x225|format-jpeg", "fill-640x360|format-webp"):
        fresh.get_rendition(spec)
    fresh.file.name = "original_images/renamed-elsewhere.jpg"  # a stale name in one worker's copy
    fresh.save(update_fields=["file_hash"])
    assert CustomImage.objects.get(pk=image.pk).file.name == name
    assert stored_files(image) == files, "no copy stored, none deleted"
