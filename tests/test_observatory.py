"""The public site's headers earn A+ from Mozilla's HTTP Observatory, and its CSP breaks nothing.

deploy/nginx.conf (the site server) and deploy/nginx-tls.conf (HTTP → HTTPS redirect, TLS) run for
real on loopback with a throwaway certificate. The MDN HTTP Observatory scanner itself (pinned in
package.json, run by tests/observatory_scan.mjs) scans them: its ten tests, its grader. Then Chromium
walks the site over HTTPS and no page may trip the Content-Security-Policy.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest
from playwright import sync_api as playwright

from cms.publishing.builder import build_site
from tests.support.browser import CHROMIUM, FLAGS, NEEDS_CHROMIUM
from tests.support.helpers import make_image, make_model, make_playbook, make_story, make_street, make_training
from tests.support.nginx_server import NEEDS_NGINX, run_nginx

ROOT = Path(__file__).resolve().parent.parent
SCANNER = ROOT / "node_modules" / "@mdn" / "mdn-http-observatory"
pytestmark = [
    pytest.mark.django_db,
    NEEDS_NGINX,
    pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is needed for the test certificate"),
]

# What each of the scoring's ten tests must find, and why it matters here.
EXPECTED = {
    # No 'unsafe-inline' or 'unsafe-eval' anywhere, object-src 'none', and default-src 'none'.
    "content-security-policy": "csp-implemented-with-no-unsafe-default-src-none",
    # The public site sets no cookie at all (the privacy page says so).
    "cookies": "cookies-not-found",
    # No Access-Control-Allow-Origin on pages.
    "cross-origin-resource-sharing": "cross-origin-resource-sharing-not-implemented",
    # http:// answers with one redirect to https:// on the same host.
    "redirection": "redirection-to-https",
    "referrer-policy": "referrer-policy-private",
    "strict-transport-security": "hsts-implemented-max-age-at-least-six-months",
    # The scanned home page loads no script; elsewhere every script is the site's own, so SRI has no use.
    "subresource-integrity": "sri-not-implemented-but-no-scripts-loaded",
    "x-content-type-options": "x-content-type-options-nosniff",
    "x-frame-options": "x-frame-options-implemented-via-csp",
    "cross-origin-resource-policy": "corp-implemented-with-same-origin",
}


@pytest.fixture
def front(tmp_path, settings, tree):
    settings.SITE_DIR = tmp_path / "site"
    home, index = tree
    story = make_story(index, title="夜里的骑士驿站", tags=["骑士驿站"], street=make_street(), image=make_image())
    make_training(home, lessons=2)
    make_playbook(home, chapters=2)
    make_model(home)
    build_site(full=True)
    with run_nginx(tmp_path / "nginx", settings.SITE_DIR / "current", tls=True) as server:
        server.story_url = story.url
        yield server


def scan(server) -> dict:
    result = subprocess.run(
        [
            "node",
            str(ROOT / "tests" / "observatory_scan.mjs"),
            "localhost",
            str(server.http_port),
            str(server.https_port),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, NODE_EXTRA_CA_CERTS=str(server.certificate)),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not SCANNER.exists(), reason="npm ci installs the HTTP Observatory scanner (package.json)")
def test_the_http_observatory_grades_the_site_a_plus(front):
    report = scan(front)
    found = {name: test["result"] for name, test in report["tests"].items()}
    assert found == EXPECTED, json.dumps(report["tests"], indent=1)
    assert all(test["pass"] for test in report["tests"].values())
    print(f"HTTP Observatory: {report['grade']}, {report['score']} points")
    assert report["grade"] == "A+" and report["score"] >= 100, report
    assert report["testsPassed"] == report["testsQuantity"] == 10


def test_plain_http_only_redirects_and_https_carries_every_header(front):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(front.http + "/stories/?page=2", timeout=5)
        raise AssertionError("plain HTTP served a page")
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 301
        assert redirect.headers["Location"] == front.https + "/stories/?page=2"

    context = ssl.create_default_context(cafile=str(front.certificate))
    with urllib.request.urlopen(front.https + "/", context=context, timeout=5) as response:  # noqa: S310
        headers = response.headers
        assert "<html" in response.read().decode()
    assert int(headers["Strict-Transport-Security"].split("max-age=")[1].split(";")[0]) >= 31536000
    csp = {d.split()[0]: d.split()[1:] for d in headers["Content-Security-Policy"].split("; ")}
    assert csp["default-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert not any("'unsafe-inline'" in v or "'unsafe-eval'" in v for v in csp.values())
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Set-Cookie" not in headers


@NEEDS_CHROMIUM
def test_no_page_trips_the_content_security_policy(front):
    """Search (WebAssembly), the quiz, saving a course (service worker) and the checklist all run under the CSP."""
    violations: list[str] = []
    with playwright.sync_playwright() as p:
        # The certificate is a throwaway one: Chromium is told to accept it, so the service worker registers.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*FLAGS, "--ignore-certificate-errors"])
        context = browser.new_context(viewport={"width": 360, "height": 740}, ignore_https_errors=True)
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', e =>"
            " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
        )
        context.set_default_timeout(20000)
        page = context.new_page()
        page.on(
            "console",
            lambda m: ("Content Security Policy" in m.text or "CSP violation" in m.text) and violations.append(m.text),
        )
        base = front.https
        for path in ["/", "/stories/", front.story_url, "/playbook/", "/model/"]:
            assert page.goto(base + path).status == 200, path
        page.goto(base + "/search/?q=驿站")
        # Locator waits run outside the page, so the page's CSP (no eval) does not stop them.
        page.locator(".search-result__title", has_text="夜里的骑士驿站").wait_for(timeout=15000)
        page.goto(base + "/training/jijiu/")
        page.get_by_role("button", name="保存这门课，没网也能看").click()
        # Saving waits for the service worker itself: "已保存" means it registered and cached the course.
        page.locator(".offline__status", has_text="已保存").wait_for()
        page.goto(base + "/training/jijiu/lesson-1/")
        page.locator("fieldset.question").nth(0).get_by_label("120").check()
        assert "答对了" in page.locator(".question__result").nth(0).inner_text()
        page.goto(base + "/playbook/chapter-1/")
        page.get_by_label("第1章清单一").check()
        page.reload()
        assert page.get_by_label("第1章清单一").is_checked()
        browser.close()
    assert violations == []
