"""Training on the built static site, in headless Chromium at a phone's size: a saved course opens with the
network off, quizzes score in the browser, progress stays on the phone, and a lesson is small."""

import pytest

from cms.publishing.builder import build_site, current_release_dir
from tests.support.browser import NEEDS_CHROMIUM, launch, serve
from tests.support.helpers import make_training

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]
PHONE = {"width": 360, "height": 740}
LESSON_BUDGET = 15 * 1024  # bytes transferred for HTML, CSS and JavaScript on first view


@pytest.fixture
def site_url(tmp_path, settings, tree):
    settings.SITE_DIR = tmp_path / "site"
    home, _index = tree
    make_training(home, lessons=3)
    build_site(full=True)
    with serve(current_release_dir()) as url:
        yield url


def test_a_saved_course_opens_offline_lesson_by_lesson(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(site_url + "/training/jijiu/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.get_by_role("button", name="保存这门课，没网也能看").click()
        page.wait_for_function("document.querySelector('.offline__status').textContent.includes('已保存')")
        context.set_offline(True)
        for n in (1, 2, 3):
            page.goto(f"{site_url}/training/jijiu/lesson-{n}/")
            assert page.locator("h1").inner_text() == f"第{n}课的标题"
            # Styles came from the cache too: the key points are on their coloured panel.
            assert (
                page.locator(".key-points").evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
            )
        # The quiz works offline as well.
        page.locator("fieldset.question").nth(0).get_by_label("120").check()
        assert "答对了" in page.locator(".question__result").nth(0).inner_text()
        # A training page that was never saved says so, in Chinese, instead of the browser's error: in the site's
        # colours (its stylesheet came from the cache), with the saved course one tap away.
        response = page.goto(f"{site_url}/training/not-saved/")
        assert response.status == 503 and "没有网络" in page.locator("h1").inner_text()
        header = page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor")
        assert header == "rgb(11, 79, 138)", header
        assert page.get_by_role("link", name="看全部课程").get_attribute("href") == "/training/"
        page.get_by_role("link", name="急救常识").click()
        page.wait_for_url(f"{site_url}/training/jijiu/")
        assert page.locator("h1").inner_text() == "急救常识"
        browser.close()


def test_an_unsaved_lesson_offline_links_to_the_course_list(site_url):
    """Nothing saved yet: the page says so and links to the course list, which the service worker keeps."""
    with playwright.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(site_url + "/training/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now under the worker's control
        context.set_offline(True)
        page.goto(f"{site_url}/training/jijiu/lesson-2/")
        assert "没有网络" in page.locator("h1").inner_text()
        assert "还没有保存课程" in page.locator("main").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("link", name="看全部课程").click()
        page.wait_for_url(f"{site_url}/training/")
        assert "急救常识" in page.locator(".courses").inner_text()
        browser.close()


def test_the_course_page_starts_the_first_lesson_and_offers_saving_second(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=PHONE)
        page.goto(site_url + "/training/jijiu/")
        start = page.get_by_role("link", name="开始学习")
        save = page.get_by_role("button", name="保存这门课，没网也能看")
        assert start.get_attribute("href") == "/training/jijiu/lesson-1/"
        assert start.bounding_box()["y"] < save.bounding_box()["y"], "the main button comes first"
        colours = [e.evaluate("e => getComputedStyle(e).backgroundColor") for e in (start, save)]
        assert colours == ["rgb(11, 79, 138)", "rgb(255, 255, 255)"], "filled main button, outlined second"
        start.click()
        page.wait_for_url(site_url + "/training/jijiu/lesson-1/")
        browser.close()


def test_the_quiz_scores_right_and_wrong_answers_and_explains(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=PHONE)
        page.goto(site_url + "/training/jijiu/lesson-1/")
        first, second = page.locator("fieldset.question").nth(0), page.locator("fieldset.question").nth(1)
        first.get_by_label("119").check()
        # A wrong answer says what is right, not just "think again".
        assert first.locator(".question__result").inner_text() == "✗ 不对。正确答案是：120"
        assert first.locator("details").get_attribute("open") is not None
        assert "医疗急救打120。" in first.locator("details").inner_text()
        assert "已答 1 / 2 题" in page.locator(".quiz__score").inner_text()
        second.get_by_label("确认周围安全").check()
        assert "答对了" in second.locator(".question__result").inner_text()
        assert "答对 1 / 2 题" in page.locator(".quiz__score").inner_text()
        browser.close()


def test_progress_survives_a_reload_and_shows_on_the_course(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=PHONE)
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(site_url + "/training/jijiu/lesson-2/")
        page.locator("fieldset.question").nth(0).get_by_label("120").check()
        page.locator("fieldset.question").nth(1).get_by_label("确认周围安全").check()
        page.reload()
        assert "上次答对 2 / 2 题" in page.locator(".quiz__score").inner_text()
        page.goto(site_url + "/training/jijiu/")
        assert "已学完 1 / 3 课" in page.locator(".progress-summary").inner_text()
        assert "已学完，答对 2/2" in page.locator("[data-lesson]").nth(1).inner_text()
        browser.close()
    assert all(u.startswith(site_url) for u in requests), "no request leaves the site"


def test_a_lesson_is_small_and_readable_on_a_phone(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 320, "height": 640})
        responses = []
        page.on("response", lambda r: responses.append(r))
        page.goto(site_url + "/training/jijiu/lesson-1/", wait_until="load")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        first_view = [r for r in responses if r.request.resource_type in ("document", "stylesheet", "script")]
        sizes = {r.url: r.request.sizes() for r in first_view}
        total = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes.values())
        assert {r.request.resource_type for r in first_view} >= {"document", "stylesheet", "script"}
        assert total <= LESSON_BUDGET, f"{total} bytes: {sizes}"
        assert all(r.url.startswith(site_url) for r in responses), "no third-party requests"
        # Text at least 16 px, no sideways scrolling at 320 px, tap targets at least 44 px high.
        assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.prose p')).fontSize)") >= 16
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        heights = page.locator("label.option").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 44
        browser.close()


def test_without_javascript_the_answers_and_explanations_are_there(site_url):
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(java_script_enabled=False, viewport=PHONE).new_page()
        page.goto(site_url + "/training/jijiu/lesson-1/")
        details = page.locator("fieldset.question details").nth(0)
        details.locator("summary").click()
        assert "正确答案：120" in details.inner_text() and "医疗急救打120。" in details.inner_text()
        browser.close()
