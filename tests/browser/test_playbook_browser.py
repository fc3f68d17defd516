"""The playbook on the built static site, in headless Chromium, as an official reads it."""

import pytest

from cms.publishing.builder import build_site, current_release_dir
from tests.support.browser import NEEDS_CHROMIUM, launch, serve
from tests.support.helpers import make_playbook

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]


@pytest.fixture
def site_url(tmp_path, settings, tree):
    settings.SITE_DIR = tmp_path / "site"
    home, _index = tree
    make_playbook(home, chapters=3)
    build_site(full=True)
    with serve(current_release_dir()) as url:
        yield url


def test_a_reader_goes_from_home_through_every_chapter_in_order(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.goto(site_url + "/")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="政策手册").click()
        page.get_by_role("link", name="从第 1 步开始").click()
        seen = []
        while True:
            seen.append((page.locator(".chapter__step").inner_text(), page.locator("h1").inner_text()))
            following = page.locator('a[rel="next"]')
            if not following.count():
                break
            following.click()
        browser.close()
    assert seen == [(f"第 {n} 步，共 3 步", f"第{n}章的标题") for n in (1, 2, 3)]


def test_ticks_stay_after_a_reload_and_only_in_this_browser(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 360, "height": 740})
        page = context.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(site_url + "/playbook/chapter-2/")
        page.get_by_label("第2章清单二").check()
        assert "已完成 1 / 2 项" in page.locator(".checklist__status").inner_text()
        page.reload()
        assert page.get_by_label("第2章清单二").is_checked()
        assert not page.get_by_label("第2章清单一").is_checked()
        assert "已完成 1 / 2 项" in page.locator(".checklist__status").inner_text()
        # Another chapter keeps its own list; a new browser profile starts empty.
        page.goto(site_url + "/playbook/chapter-3/")
        assert not page.get_by_label("第3章清单二").is_checked()
        fresh = browser.new_context().new_page()
        fresh.goto(site_url + "/playbook/chapter-2/")
        assert not fresh.get_by_label("第2章清单二").is_checked()
        browser.close()
    assert all(u.startswith(site_url) for u in requests), "nothing is sent anywhere else"
    assert not any("POST" in u for u in requests)


def test_the_checklist_works_without_javascript(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(java_script_enabled=False).new_page()
        page.goto(site_url + "/playbook/chapter-1/")
        box = page.get_by_label("第1章清单一")
        box.check()
        assert box.is_checked()
        assert page.locator("text=第1章第一步").count() == 1
        browser.close()
