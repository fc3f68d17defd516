"""Search on the built static site, in headless Chromium: a Chinese word a reader types finds its story."""

import pytest

from cms.publishing.builder import build_site, current_release_dir
from tests.support.browser import NEEDS_CHROMIUM, launch, serve
from tests.support.helpers import make_story, make_street

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]


@pytest.fixture
def site_url(tmp_path, settings, tree):
    settings.SITE_DIR = tmp_path / "site"
    _home, index = tree
    street = make_street()
    body = [("paragraph", "<p>建外街道在写字楼里开了骑士驿站，有沙发、充电和应急药品，还请博物馆的讲解员来上课。</p>")]
    make_story(index, title="写字楼里的骑士驿站", street=street, body=body)
    make_story(index, title="小年夜的饺子", street=street)
    build_site(full=True)
    with serve(current_release_dir()) as url:
        yield url


@pytest.mark.parametrize("word", ["骑士驿站", "博物馆", "应急药品", "驿站"])
def test_a_chinese_word_finds_the_story_that_contains_it(site_url, word):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.goto(f"{site_url}/search/?q={word}")
        page.wait_for_function(
            "() => { const s = document.querySelector('[data-search-status]').textContent;"
            " return s && !s.includes('正在'); }",
            timeout=15000,
        )
        titles = page.locator(".search-result__title").all_inner_texts()
        browser.close()
    assert "写字楼里的骑士驿站" in titles
    assert "小年夜的饺子" not in titles


def test_once_loaded_the_search_keeps_working_offline(site_url):
    """A courier searches, loses the network in a lift, and searches again: what was fetched is kept."""
    with playwright.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 360, "height": 740})
        page = context.new_page()
        page.goto(f"{site_url}/search/?q=骑士驿站")
        page.wait_for_function("() => /找到/.test(document.querySelector('[data-search-status]').textContent)")
        context.set_offline(True)
        page.locator("#search-q").fill("应急药品")
        page.wait_for_function(
            "() => /找到|没有|无法/.test(document.querySelector('[data-search-status]').textContent)"
            " && location.search.includes('%E5%BA%94')"
        )
        status = page.locator("[data-search-status]").inner_text()
        titles = page.locator(".search-result__title").all_inner_texts()
        browser.close()
    assert status == "找到 1 个结果" and titles == ["写字楼里的骑士驿站"]
