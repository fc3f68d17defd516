"""Publish targets: the live release copied to an S3 bucket (a moto server on loopback), in an order that never
shows a reader a broken page, through faults, and back after a rollback."""

from __future__ import annotations

import datetime
import gzip
import json
import re
import threading
import time

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from cms.publishing import targets
from cms.publishing.builder import build_site, current_release_dir
from cms.publishing.models import Release, TargetObject, TargetSync
from cms.publishing.releases import rollback
from tests import test_publishing
from tests.support.helpers import make_story

site_dir, stories = test_publishing.site_dir, test_publishing.stories  # the publishing tests' fixtures
moto_server = pytest.importorskip("moto.server")
pytestmark = pytest.mark.django_db
BUCKET = "xiaoge-site"
URL = f"s3://{BUCKET}/www"


@pytest.fixture(scope="module")
def moto():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(moto, monkeypatch, settings):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_S3_ADDRESSING_STYLE", "path")
    settings.PUBLISH_TARGETS = [URL]
    settings.PUBLISH_PURGE_COMMAND = ""
    settings.PUBLISH_PURGE_WEBHOOK = ""
    s3 = targets.client()
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if BUCKET in existing:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    else:
        s3.create_bucket(Bucket=BUCKET)
    return s3


def keys(s3) -> dict[str, str]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="www/"):
        for item in page.get("Contents", []):
            out[item["Key"][4:]] = item["ETag"].strip('"')
    return out


def fetch(s3, rel: str) -> str:
    answer = s3.get_object(Bucket=BUCKET, Key="www/" + rel)
    body = answer["Body"].read()
    if answer.get("ContentEncoding") == "gzip":
        body = gzip.decompress(body)
    return body.decode()


def release_files() -> set[str]:
    live = current_release_dir()
    return {
        p.relative_to(live).as_posix() for p in live.rglob("*") if p.is_file() and not p.name.endswith((".gz", ".br"))
    }


def test_the_first_sync_copies_the_whole_release_with_its_headers(stories, bucket):
    build_site(full=True)
    [result] = targets.sync_live()
    held = keys(bucket)
    assert set(held) == release_files() | {targets.MARKER}
    assert result.uploaded == len(release_files())
    story = stories["stories"][0]
    page = bucket.get_object(Bucket=BUCKET, Key=f"www/stories/{story.slug}/index.html")
    assert page["ContentType"] == "text/html; charset=utf-8" and page["ContentEncoding"] == "gzip"
    assert page["CacheControl"] == "public, max-age=0, must-revalidate"
    assert story.title in gzip.decompress(page["Body"].read()).decode()
    css = next(k for k in held if k.startswith("static/css/") and k.endswith(".css"))
    head = bucket.head_object(Bucket=BUCKET, Key="www/" + css)
    assert head["CacheControl"] == "public, max-age=31536000, immutable" and head["ContentType"].startswith("text/css")
    chunk = next(k for k in held if k.startswith("searchindex/c-"))
    assert bucket.head_object(Bucket=BUCKET, Key="www/" + chunk)["CacheControl"].endswith("immutable")
    marker = json.loads(fetch(bucket, targets.MARKER))
    assert marker["release"] == current_release_dir().name
    assert targets.sync_live() == [], "nothing left to do"


def test_a_publish_uploads_only_what_changed_and_an_unpublished_page_leaves_at_once(stories, bucket, settings):
    build_site(full=True)
    targets.sync_live()
    story = make_story(stories["index"], title="新发布的故事", date=datetime.date(2023, 5, 1))
    build_site()
    [result] = targets.sync_live()
    assert 0 < result.uploaded <= 30, result.uploaded
    assert "新发布的故事" in fetch(bucket, f"stories/{story.slug}/index.html")
    assert "新发布的故事" in fetch(bucket, "stories/index.html")
    old_chunks = {k for k in keys(bucket) if k.startswith("searchindex/")}
    story.unpublish()
    build_site()
    targets.sync_live()
    held = keys(bucket)
    assert f"stories/{story.slug}/index.html" not in held, "a page taken off the site leaves the bucket at once"
    assert "新发布的故事" not in fetch(bucket, "stories/index.html")
    retired = old_chunks - {k for k in release_files() if k.startswith("searchindex/")}
    assert retired and retired <= set(held), "hashed files stay while a recent release may use them"
    settings.SITE_RELEASES_KEEP = 2
    for n in range(2):
        make_story(stories["index"], title=f"又一个故事{n}", date=datetime.date(2023, 6, n + 1))
        build_site()
        targets.sync_live()
    held = keys(bucket)
    assert not retired & set(held), "and go once no kept release uses them"
    assert set(held) == release_files() | {targets.MARKER} | {
        o.key for o in TargetObject.objects.filter(target=URL, retired_seq__isnull=False)
    }


def test_wrong_credentials_or_a_missing_bucket_fail_with_a_message_and_delete_nothing(
    stories, bucket, monkeypatch, settings
):
    build_site(full=True)
    targets.sync_live()
    before = keys(bucket)
    make_story(stories["index"], title="没有同步上去", date=datetime.date(2023, 5, 2))
    build_site()
    settings.PUBLISH_TARGETS = ["s3://no-such-bucket-here/www"]
    with pytest.raises(targets.TargetError, match="不存在"):
        targets.sync_live()
    sync = TargetSync.objects.filter(status=TargetSync.STATUS_FAILED).first()
    assert "no-such-bucket-here" in sync.report
    assert "发布目标同步失败" in Release.objects.get(status=Release.STATUS_LIVE).report
    settings.PUBLISH_TARGETS = [URL]
    real_client = targets.client

    def refused(request, **kwargs):  # what a provider answers to a wrong access key
        body = b"<Error><Code>InvalidAccessKeyId</Code><Message>The key does not exist.</Message></Error>"
        return AWSResponse(request.url, 403, {}, _RawBody(body))

    def wrong_key_client():
        s3 = real_client()
        s3.meta.events.register("before-send.s3.*", refused)
        return s3

    monkeypatch.setattr(targets.sync, "client", wrong_key_client)
    with pytest.raises(targets.TargetError, match="没有权限"):
        targets.sync_live()
    assert keys(bucket) == before, "nothing deleted"


def test_transient_errors_are_retried_and_a_killed_sync_is_finished_by_the_next(stories, bucket, monkeypatch):
    build_site(full=True)
    calls = {"n": 0}
    real_put = targets.Syncer.put

    def flaky(self, obj):
        calls["n"] += 1
        if calls["n"] % 7 == 0:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1")  # after botocore's own retries
        return real_put(self, obj)

    monkeypatch.setattr(targets.Syncer, "put", flaky)
    with pytest.raises(targets.TargetError):
        targets.sync_live()
    partly = keys(bucket)
    assert 0 < len(partly) < len(release_files()), "killed halfway"
    assert targets.MARKER not in partly
    monkeypatch.setattr(targets.Syncer, "put", real_put)
    [result] = targets.sync_live()
    assert set(keys(bucket)) == release_files() | {targets.MARKER}
    assert result.uploaded <= len(release_files()) - len(partly) + 16, "what was uploaded is not uploaded again"


def test_botocore_retries_slow_down_and_server_errors(stories, bucket):
    """503 SlowDown and 500 answers on the wire are retried with backoff by botocore's standard mode."""
    build_site(full=True)
    s3 = targets.client()
    failures = {"n": 0}

    def answer_with_errors(request, **kwargs):
        if request.method == "PUT" and failures["n"] < 6:
            failures["n"] += 1
            code = 503 if failures["n"] % 2 else 500
            body = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
            return AWSResponse(request.url, code, {}, _RawBody(body))
        return None

    s3.meta.events.register("before-send.s3.PutObject", answer_with_errors)
    live = current_release_dir()
    result = targets.Syncer(targets.Location.parse(URL), s3).sync(Release.objects.get(name=live.name), live, {}, 5)
    assert failures["n"] == 6 and result.uploaded == len(release_files())


class _RawBody:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **kwargs):
        yield self.data


def test_verify_repairs_objects_deleted_or_changed_by_hand(stories, bucket):
    build_site(full=True)
    targets.sync_live()
    story = stories["stories"][0]
    bucket.delete_object(Bucket=BUCKET, Key=f"www/stories/{story.slug}/index.html")
    bucket.put_object(Bucket=BUCKET, Key="www/index.html", Body=b"defaced")
    bucket.put_object(Bucket=BUCKET, Key="www/stray.txt", Body=b"?")
    live = current_release_dir()
    found = targets.verify(targets.Location.parse(URL), Release.objects.get(name=live.name), live, {})
    assert found["missing"] == [f"stories/{story.slug}/index.html"] and found["changed"] == ["index.html"]
    assert found["unknown"] == ["stray.txt"]
    assert story.title in fetch(bucket, f"stories/{story.slug}/index.html")
    assert "defaced" not in fetch(bucket, "index.html")
    again = targets.verify(targets.Location.parse(URL), Release.objects.get(name=live.name), live, {})
    assert not again["missing"] and not again["changed"]


def test_a_rollback_rolls_the_bucket_back(stories, bucket):
    build_site(full=True)
    targets.sync_live()
    story = stories["stories"][0]
    page = f"stories/{story.slug}/index.html"
    for title in ("回滚要回到的标题", "回滚以后不见的标题"):
        story.title = title
        story.save_revision().publish()
        build_site()
        targets.sync_live()
    assert "回滚以后不见的标题" in fetch(bucket, page)
    rollback()
    targets.sync_live()
    assert "回滚要回到的标题" in fetch(bucket, page) and "回滚以后不见的标题" not in fetch(bucket, page)
    assert json.loads(fetch(bucket, targets.MARKER))["release"] == current_release_dir().name


LINK = re.compile(r'(?:href|src)="(/[^"#?]*)"')


def test_a_reader_during_a_sync_never_meets_a_page_whose_links_are_missing(stories, bucket, monkeypatch):
    """While syncs run (slowed, with failures), a reader walks the bucket from the home page: every page it
    can reach links only to objects that are there."""
    build_site(full=True)
    targets.sync_live()
    slow_put = targets.Syncer.put

    def slowly(self, obj):
        time.sleep(0.002)
        return slow_put(self, obj)

    monkeypatch.setattr(targets.Syncer, "put", slowly)
    problems: list[str] = []
    stop = threading.Event()
    reader = targets.client()

    def walk():
        while not stop.is_set():
            held = set(keys(reader))
            seen, todo = set(), ["index.html"]
            while todo:
                rel = todo.pop()
                if rel in seen or rel not in held:
                    continue
                seen.add(rel)
                try:
                    answer = reader.get_object(Bucket=BUCKET, Key="www/" + rel)
                    etag, html = answer["ETag"].strip('"'), gzip.decompress(answer["Body"].read()).decode()
                except Exception:  # noqa: BLE001,S112 - deleted between the listing and the read
                    continue
                for url in LINK.findall(html):
                    target = url.lstrip("/")
                    target = target + "index.html" if target.endswith("/") or not target else target
                    if target.startswith(("static/", "media/")) or target.endswith("index.html"):
                        now = keys(reader)
                        # A broken page: the page as read is still the bucket's (same ETag) and its target
                        # is not there. A page replaced since may name a page that left after it.
                        if target not in now and now.get(rel) == etag == keys(reader).get(rel):
                            problems.append(f"{rel} → {url}")
                        elif target.endswith(".html"):
                            todo.append(target)

    thread = threading.Thread(target=walk, daemon=True)
    thread.start()
    for n in range(3):
        make_story(stories["index"], title=f"边读边传{n}", date=datetime.date(2023, 7, n + 1))
        build_site()
        targets.sync_live()
    stories["stories"][1].unpublish()
    build_site()
    targets.sync_live()
    stop.set()
    thread.join(30)
    assert not problems, problems[:5]


def test_the_worker_syncs_after_each_build_and_catches_up_when_idle(stories, bucket, monkeypatch):
    from cms.publishing.builder import process_requests
    from cms.publishing.models import BuildRequest

    BuildRequest.objects.create(reason="首次发布")
    process_requests()
    assert set(keys(bucket)) == release_files() | {targets.MARKER}
    story = make_story(stories["index"], title="网络断了也会补上", date=datetime.date(2023, 8, 1))
    real_put = targets.Syncer.put

    def unreachable(self, obj):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1")

    monkeypatch.setattr(targets.Syncer, "put", unreachable)
    BuildRequest.objects.create(reason="发布一篇故事")
    process_requests()
    assert "网络断了也会补上" in (current_release_dir() / "stories/index.html").read_text(), "live here"
    assert f"stories/{story.slug}/index.html" not in keys(bucket)
    assert "发布目标同步失败" in Release.objects.get(status=Release.STATUS_LIVE).report
    monkeypatch.setattr(targets.Syncer, "put", real_put)
    process_requests()  # nothing to build: the idle worker finishes the sync
    assert "网络断了也会补上" in fetch(bucket, f"stories/{story.slug}/index.html")


def test_a_new_story_goes_up_before_the_pages_that_name_it_although_it_links_back_to_them():
    """The story links to its listing and the listing to it: a cycle. The listing is in the bucket already (its
    earlier version serves meanwhile), so only the listing's link to the new story orders the waves."""
    links = {
        "stories/new/index.html": ["stories/index.html", "index.html"],
        "stories/index.html": ["stories/new/index.html", "stories/old/index.html"],
        "index.html": ["stories/new/index.html", "stories/index.html"],
        "training/a/1/index.html": ["training/a/2/index.html"],
        "training/a/2/index.html": ["training/a/1/index.html"],
    }
    present = {"stories/index.html", "index.html", "stories/old/index.html", "static/css/site.1.css"}
    waves = targets.upload_order(
        [*links, "static/css/site.2.css", "sitemap.xml", "sitemap-1-of-2.xml"], links, present=present
    )
    wave = {rel: n for n, members in enumerate(waves) for rel in members}
    assert wave["static/css/site.2.css"] < wave["stories/new/index.html"] < wave["stories/index.html"]
    assert wave["stories/index.html"] <= wave["index.html"] < wave["sitemap-1-of-2.xml"] < wave["sitemap.xml"]
    assert wave["training/a/1/index.html"] == wave["training/a/2/index.html"], "new pages in a cycle share a wave"


def test_the_worker_syncs_as_soon_as_the_release_is_live_before_its_housekeeping(stories, bucket, monkeypatch):
    """Pruning old releases and counting the new one's files take seconds at 2,000 stories (bench/targets_bench.py):
    readers get the story from the bucket before that, not after."""
    from cms.publishing import housekeeping
    from cms.publishing.builder import process_requests
    from cms.publishing.models import BuildRequest

    BuildRequest.objects.create(reason="首次发布")
    process_requests()
    story = make_story(stories["index"], title="先同步再收拾", date=datetime.date(2023, 9, 1))
    in_bucket_when_pruning = []
    real_prune = housekeeping.prune_releases

    def prune(keep):
        in_bucket_when_pruning.append(f"stories/{story.slug}/index.html" in keys(bucket))
        return real_prune(keep)

    # The worker prunes when idle (housekeeping.idle_housekeeping), after the sync.
    monkeypatch.setattr(housekeeping, "prune_releases", prune)
    BuildRequest.objects.create(reason="发布一篇故事")
    process_requests()
    assert in_bucket_when_pruning == [True]
