"""The public site as readers get it from the bucket: a release synced to an S3 bucket (moto on loopback), served
from there with each object's own headers (as a CDN in front of the bucket does), walked in Chromium: a page,
the search box, and a course saved for offline use."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pytest

from cms.publishing import targets
from cms.publishing.builder import build_site
from tests import test_targets
from tests.support.browser import NEEDS_CHROMIUM, launch
from tests.support.helpers import make_story, make_street, make_training

playwright = pytest.importorskip("playwright.sync_api")
moto, bucket = test_targets.moto, test_targets.bucket
pytestmark = [pytest.mark.django_db, pytest.mark.browser, NEEDS_CHROMIUM]
PHONE = {"width": 360, "height": 740}
PASSED_ON = {"ContentType": "Content-Type", "ContentEncoding": "Content-Encoding", "CacheControl": "Cache-Control"}


@contextlib.contextmanager
def serve_bucket(s3, bucket: str, prefix: str):
    """An origin in front of the bucket: a path is the object under the prefix (a folder its index.html), sent
    with the Content-Type, Content-Encoding and Cache-Control stored with it. Nothing is read from the disk."""

    class Origin(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = unquote(urlsplit(self.path).path)
            key = prefix + path.lstrip("/") + ("index.html" if path.endswith("/") else "")
            try:
                answer = s3.get_object(Bucket=bucket, Key=key)
            except s3.exceptions.NoSuchKey:
                if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
                    self.send_response(301)
                    self.send_header("Location", path + "/")
                    self.end_headers()
                    return
                self.send_response(404)
                self.end_headers()
                return
            body = answer["Body"].read()
            self.send_response(200)
            for field, header in PASSED_ON.items():
                if answer.get(field):
                    self.send_header(header, answer[field])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def bucket_url(tmp_path, settings, tree, bucket):
    settings.SITE_DIR = tmp_path / "site"
    home, index = tree
    body = [("paragraph", "<p>建外街道在写字楼里开了骑士驿站，有沙发、充电和应急药品，还请博物馆的讲解员来上课。</p>")]
    make_story(index, title="写字楼里的骑士驿站", street=make_street(), body=body)
    make_story(index, title="小年夜的饺子")
    make_training(home, lessons=3)
    build_site(full=True)
    targets.sync_live()
    with serve_bucket(bucket, test_targets.BUCKET, "www/") as url:
        yield url


def test_readers_walk_the_site_from_the_bucket(bucket_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        failed = []
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        # A page, with its stylesheet (served as CSS from the bucket, or the header would have no colour).
        page.goto(bucket_url + "/")
        page.get_by_role("link", name="写字楼里的骑士驿站").first.click()
        page.wait_for_url("**/stories/*/")
        assert page.locator("h1").inner_text() == "写字楼里的骑士驿站"
        assert page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 79, 138)"

        # The search box finds a word of the story's body (the index's files come from the bucket).
        page.goto(bucket_url + "/search/")
        page.locator("#search-q").fill("博物馆")
        page.locator("#search-q").press("Enter")
        page.wait_for_function(
            "() => /找到/.test(document.querySelector('[data-search-status]').textContent)", timeout=15000
        )
        assert "写字楼里的骑士驿站" in page.locator(".search-result__title").all_inner_texts()

        # A course saved for offline use opens lesson by lesson with the network off.
        page.goto(bucket_url + "/training/jijiu/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.get_by_role("button", name="保存这门课，没网也能看").click()
        page.wait_for_function("document.querySelector('.offline__status').textContent.includes('已保存')")
        context.set_offline(True)
        for n in (1, 2, 3):
            page.goto(f"{bucket_url}/training/jijiu/lesson-{n}/")
            assert page.locator("h1").inner_text() == f"第{n}课的标题"
        page.locator("fieldset.question").nth(0).get_by_label("120").check()
        assert "答对了" in page.locator(".question__result").nth(0).inner_text()
        browser.close()
    assert not failed, failed
