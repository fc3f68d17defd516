"""The production nginx configuration, run for real on loopback against a built release."""

import http.client
import json
import shutil
import ssl
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cms.publishing.builder import build_site, current_release_dir
from tests.support.helpers import make_image, make_story, make_street, make_training
from tests.support.nginx_server import NEEDS_NGINX, run_nginx

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.django_db, NEEDS_NGINX]


@pytest.fixture
def nginx(tmp_path, settings, tree):
    settings.SITE_DIR = tmp_path / "site"
    _home, index = tree
    make_story(index, title="夜里的骑士驿站", tags=["骑士驿站"], street=make_street(), image=make_image())
    make_training(_home, lessons=1)
    build_site(full=True)
    with run_nginx(tmp_path / "nginx", settings.SITE_DIR / "current") as server:
        yield server.site


def get(url, **headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_pages_come_with_security_headers(nginx):
    status, headers, body = get(nginx + "/")
    assert status == 200 and "小哥" in body.decode()
    assert (
        "default-src 'none'" in headers["Content-Security-Policy"]
        and "unsafe-inline" not in headers["Content-Security-Policy"]
    )
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "max-age=63072000" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert "must-revalidate" in headers["Cache-Control"]


def test_precompressed_twins_are_served(nginx):
    status, headers, body = get(nginx + "/stories/", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert body[:2] == b"\x1f\x8b"


def test_hashed_assets_are_cached_for_a_year(nginx):
    css = next(p for p in (current_release_dir() / "static" / "css").iterdir() if p.suffix == ".css")
    status, headers, _ = get(f"{nginx}/static/css/{css.name}")
    assert status == 200 and "immutable" in headers["Cache-Control"] and "max-age=31536000" in headers["Cache-Control"]


def test_missing_pages_get_the_friendly_404(nginx):
    status, _, body = get(nginx + "/no/such/page/")
    assert status == 404 and "没有找到这个页面" in body.decode()


def test_a_swap_is_served_at_once(nginx, tree):
    _home, index = tree
    make_story(index, title="刚刚发布的故事")
    build_site()
    _, _, body = get(nginx + "/stories/")
    assert "刚刚发布的故事" in body.decode()


def test_content_types_and_the_json_api_at_the_live_api_paths(nginx):
    status, headers, _ = get(nginx + "/")
    assert headers["Content-Type"].startswith("text/html")
    css = next(p for p in (current_release_dir() / "static" / "css").iterdir() if p.suffix == ".css")
    assert get(f"{nginx}/static/css/{css.name}")[1]["Content-Type"].startswith("text/css")
    status, headers, body = get(nginx + "/api/v2/pages/")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    listing = json.loads(body)
    first = listing["items"][0]
    status, headers, body = get(nginx + first["meta"]["detail_url"])
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["id"] == first["id"]
    status, headers, _ = get(nginx + "/training/sw.js")
    assert "javascript" in headers.get("Content-Type", "")


def location_for(origin: str, path: str, host: str, context=None) -> tuple[int, str]:
    """The status and Location header of one request, not followed, with the Host header a client chose."""
    parts = urllib.parse.urlsplit(origin)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection("127.0.0.1", parts.port, timeout=5, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()


def test_a_folder_without_its_slash_redirects_relatively_whatever_the_host_header(nginx):
    status, location = location_for(nginx, "/stories", "evil.example")
    assert status == 301
    assert location == "/stories/", location
    assert "evil.example" not in location and ":" not in location


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is needed for the test certificate")
def test_behind_the_tls_front_the_slash_redirect_keeps_the_reader_on_https(tmp_path, settings, tree):
    settings.SITE_DIR = tmp_path / "site"
    make_story(tree[1], title="夜里的骑士驿站")
    build_site(full=True)
    with run_nginx(tmp_path / "nginx", settings.SITE_DIR / "current", tls=True) as server:
        context = ssl.create_default_context(cafile=str(server.certificate))
        context.check_hostname = False  # the certificate names localhost; the forged Host header does not
        internal = urllib.parse.urlsplit(server.site).port
        status, location = location_for(server.https, "/stories", "evil.example", context)
        assert status == 301
        assert "evil.example" not in location and str(internal) not in location
        assert location == "/stories/" or location.startswith(server.https + "/"), location
