"""Media on object storage (MEDIA_STORAGE_URL): uploads and renditions in a private bucket (a moto server on
loopback), the build worker copying the renditions a release names from it, and originals never reaching the
public site."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import RequestFactory
from PIL import Image

from cms.core.media_storage import media_view, storage_options
from cms.images.exif import has_location
from cms.images.models import CustomImage
from cms.publishing import targets
from cms.publishing.builder import build_site, current_release_dir
from tests import test_publishing, test_targets
from tests.support.helpers import make_story
from tests.test_images import jpeg_with_gps

site_dir, stories = test_publishing.site_dir, test_publishing.stories
moto, bucket = test_targets.moto, test_targets.bucket
pytestmark = pytest.mark.django_db
MEDIA_BUCKET = "xiaoge-media"
MEDIA_URL = f"s3://{MEDIA_BUCKET}/cms"


def empty_bucket(s3, name: str):
    if name in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=name, Key=item["Key"])
    else:
        s3.create_bucket(Bucket=name)


@pytest.fixture
def media_bucket(bucket, settings, tmp_path):
    """The public target (bucket) and a private media bucket; the local media folder must stay unused."""
    empty_bucket(bucket, MEDIA_BUCKET)
    settings.MEDIA_ROOT = tmp_path / "local-media-unused"
    settings.MEDIA_STORAGE_URL = MEDIA_URL
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "cms.core.media_storage.MediaStorage", "OPTIONS": storage_options(MEDIA_URL)},
    }
    return bucket


@pytest.fixture
def media_stories(media_bucket, stories):
    return stories


def media_keys(s3) -> dict[str, str]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=MEDIA_BUCKET):
        for item in page.get("Contents", []):
            out[item["Key"]] = item["ETag"].strip('"')
    return out


def media_bytes(s3, key: str) -> bytes:
    return s3.get_object(Bucket=MEDIA_BUCKET, Key=key)["Body"].read()


def test_a_bad_media_storage_url_names_the_setting():
    with pytest.raises(ImproperlyConfigured, match="MEDIA_STORAGE_URL"):
        storage_options("https://oss-cn-beijing.aliyuncs.com/media")
    assert storage_options("s3://media-bucket/cms/") == {"bucket_name": "media-bucket", "location": "cms"}


def test_uploads_and_renditions_live_in_the_bucket_and_the_release_copies_only_renditions(media_stories, settings):
    s3 = targets.client()
    photo = CustomImage(title="胡同", description="胡同里的三轮车", file=SimpleUploadedFile("gps.jpg", jpeg_with_gps()))
    photo.save()
    story = make_story(media_stories["index"], title="照片在对象存储里", image=photo)
    held = media_keys(s3)
    original = f"cms/{photo.file.name}"
    assert original in held and photo.file.name.startswith("original_images/"), sorted(held)
    assert not has_location(media_bytes(s3, original)), "GPS is stripped before the upload reaches the bucket"
    assert photo.file.url == f"/media/{photo.file.name}", "the site's own address, not the bucket's"

    build_site(full=True)
    live = current_release_dir()
    page = (live / f"stories/{story.slug}/index.html").read_text()
    named = sorted(set(re.findall(r"/media/(images/[^\"' ,?]+)", page)))
    assert named, "the story shows its photo"
    for name in named:
        assert f"cms/{name}" in media_keys(s3), f"rendition {name} was made in the media bucket"
        assert (live / "media" / name).read_bytes() == media_bytes(s3, f"cms/{name}")
    assert not (settings.MEDIA_ROOT).exists(), "nothing written to the local media folder"
    assert not list(live.rglob("original_images")), "no original upload in the release"

    [result] = targets.sync_live()
    public = test_targets.keys(s3)
    assert {f"media/{name}" for name in named} <= set(public)
    assert not [k for k in public if "original" in k]
    originals = {media_bytes(s3, k) for k in media_keys(s3) if k.startswith("cms/original_images/")}
    for key in public:
        if key.startswith("media/"):
            body = s3.get_object(Bucket=test_targets.BUCKET, Key="www/" + key)["Body"].read()
            assert body not in originals, f"{key} is an original upload"
    assert result.uploaded > 0


def test_a_second_build_reads_renditions_from_the_bucket_not_from_a_folder(media_stories, tmp_path, settings):
    """Another CMS machine (another site folder) builds with renditions another machine made."""
    build_site(full=True)
    first = current_release_dir()
    renditions = sorted(p.relative_to(first).as_posix() for p in (first / "media" / "images").iterdir())
    assert renditions
    settings.SITE_DIR = tmp_path / "other-machine-site"
    build_site(full=True)
    second = current_release_dir()
    assert second.parent != first.parent
    for rel in renditions:
        assert (second / rel).read_bytes() == (first / rel).read_bytes()


def test_the_cms_serves_renditions_to_anyone_and_originals_only_to_editors(media_stories):
    image = media_stories["image"]
    rendition = image.get_rendition("fill-160x100")
    factory = RequestFactory()
    anonymous = factory.get("/")
    from django.contrib.auth.models import AnonymousUser

    anonymous.user = AnonymousUser()
    answer = media_view(anonymous, rendition.file.name)
    body = b"".join(answer.streaming_content)
    assert Image.open(io.BytesIO(body)).size == (160, 100)
    with pytest.raises(Http404):
        media_view(anonymous, image.file.name)
    editor = factory.get("/")
    editor.user = get_user_model().objects.create_superuser("chief", "chief@example.cn", "x")
    original = b"".join(media_view(editor, image.file.name).streaming_content)
    assert original == image.file.open("rb").read()
    with pytest.raises(Http404):
        media_view(editor, "images/no-such-file.jpg")


def test_with_media_on_the_bucket_the_cms_answers_media_addresses(media_stories, client, settings):
    import importlib

    from django.urls import clear_url_caches

    import cms.urls

    image = media_stories["image"]
    rendition = image.get_rendition("fill-160x100")
    importlib.reload(cms.urls)  # the route exists only with MEDIA_STORAGE_URL set
    clear_url_caches()
    try:
        answer = client.get(rendition.url)
        assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
        assert client.get(image.file.url).status_code == 404, "an original upload only for editors"
    finally:
        settings.MEDIA_STORAGE_URL = ""
        importlib.reload(cms.urls)
        clear_url_caches()
