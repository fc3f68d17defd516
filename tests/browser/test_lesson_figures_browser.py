"""The first-aid lessons of content/ show their figures (our own drawings, tools/lesson_figures/): on a phone, with
alt text, labelled 示意插图, inside the lesson's budget and without sideways scrolling."""

from pathlib import Path

import pytest

from cms.content_io.importer import run_import
from cms.publishing.builder import build_site, current_release_dir
from tests.support.browser import NEEDS_CHROMIUM, launch, serve

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.django_db, pytest.mark.browser, NEEDS_CHROMIUM]
CONTENT = Path(__file__).resolve().parents[2] / "content"
PHONE = {"width": 360, "height": 740}
LESSON_BUDGET = (
    15 * 1024
)  # HTML, CSS and JavaScript transferred on first view, as tests/browser/test_budgets_browser.py
FIGURES = {
    "/training/jijiu-changshi/xinfei-fusu/": ["两乳头连线的中点", "肩膀在双手的正上方"],
    "/training/jijiu-changshi/aed/": ["右侧锁骨下方"],
}


@pytest.fixture
def site_url(tree, settings, tmp_path):
    report, _ = run_import(CONTENT, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    settings.SITE_DIR = tmp_path / "site"
    build_site(full=True)
    with serve(current_release_dir()) as url:
        yield url


def test_the_first_aid_lessons_show_their_figures_with_alt_text(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        for path, alt_words in FIGURES.items():
            context = browser.new_context(viewport=PHONE)
            page = context.new_page()
            responses = []
            page.on("response", lambda r, responses=responses: responses.append(r))
            page.goto(site_url + path, wait_until="load")
            code = sum(
                s["responseBodySize"] + s["responseHeadersSize"]
                for s in (
                    r.request.sizes()
                    for r in responses
                    if r.request.resource_type in ("document", "stylesheet", "script")
                )
            )
            assert code <= LESSON_BUDGET, f"{path}: {code} bytes of HTML, CSS and JavaScript"
            figures = page.locator(".lesson .figure-image")
            assert figures.count() == len(alt_words), path
            for n, words in enumerate(alt_words):
                figure = figures.nth(n)
                figure.scroll_into_view_if_needed()
                image = figure.locator("img")
                image.evaluate("i => i.decode()")
                alt = image.get_attribute("alt")
                assert alt.startswith("示意图：") and words in alt, alt
                shown = image.evaluate("i => ({natural: i.naturalWidth, width: i.getBoundingClientRect().width})")
                assert shown["natural"] > 0 and 250 <= shown["width"] <= PHONE["width"], shown
                assert "示意插图" in figure.locator("figcaption").inner_text(), "a drawing of ours says so"
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
            context.close()
        browser.close()
