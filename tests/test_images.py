"""Photos lose their location before anything is made from them, and the public site never shows GPS."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cms.images.exif import GPS_IFD, has_location
from cms.images.models import CustomImage

pytestmark = pytest.mark.django_db


def jpeg_with_gps() -> bytes:
    im = Image.new("RGB", (320, 200), "#f59e0b")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 1  # Orientation
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (39.0, 52.0, 48.0), 3: "E", 4: (116.0, 23.0, 17.0)})
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_the_fixture_really_carries_gps():
    assert has_location(jpeg_with_gps())


def test_an_uploaded_photo_loses_its_gps_before_any_rendition(tmp_path):
    image = CustomImage(title="胡同", description="胡同里的三轮车", file=SimpleUploadedFile("gps.jpg", jpeg_with_gps()))
    image.save()
    with image.open_file() as fh:
        assert not has_location(fh.read())
    rendition = image.get_rendition("fill-160x100|format-jpeg")
    with rendition.file.open("rb") as fh:
        data = fh.read()
    assert not has_location(data)
    assert Image.open(io.BytesIO(data)).getexif().get(0x010F) is None
    assert (image.width, image.height) == (320, 200)


def test_a_photo_without_exif_is_stored_as_it_is():
    out = io.BytesIO()
    Image.new("RGB", (50, 40), "#0b4f8a").save(out, "JPEG")
    image = CustomImage(title="无 EXIF", file=SimpleUploadedFile("plain.jpg", out.getvalue()))
    image.save()
    with image.open_file() as fh:
        assert fh.read() == out.getvalue()
