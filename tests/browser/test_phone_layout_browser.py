"""What a reader sees on a phone (360 and 320 px wide) and on a desktop, in headless Chromium on a release with
every page type: the home page's first screen routes readers by who they are, the menu stays on one line at 320
px, the stories' filters come before the list, and the model's diagram and adoption matrix fit the screen."""

import pytest

from tests.support.browser import NEEDS_CHROMIUM, launch
from tests.support.site_pages import serve_every_page_type

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.django_db,  # so that pytest-django sets up the test database every_page_type builds from
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]
PHONE = {"width": 360, "height": 740}
SMALL_PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def every_page_type(django_db_setup, django_db_blocker, tmp_path_factory):
    with serve_every_page_type(django_db_blocker, tmp_path_factory) as site:
        yield site


@pytest.fixture
def browser():
    """A browser per test: Playwright's event loop must not run while pytest-django opens the test database."""
    with playwright.sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


def open_page(browser, url, viewport):
    page = browser.new_page(viewport=viewport)
    page.goto(url, wait_until="load")
    return page


def box(locator) -> dict:
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width,"
        " h: r.height, right: r.right, bottom: r.bottom, shown: e.getClientRects().length > 0}; }"
    )


def no_sideways_scrolling(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_home_pages_first_screen_routes_readers_by_who_they_are(every_page_type, browser):
    url, _pages = every_page_type
    page = open_page(browser, url + "/", PHONE)
    routes = page.get_by_role("navigation", name="按身份找内容").locator("li")
    assert routes.count() == 3
    expected = [
        ("我是快递员、外卖骑手", {"培训": "/training/"}),
        ("我是街道、社区干部", {"政策手册": "/playbook/", "治理模式": "/model/"}),
        ("所有读者", {"故事": "/stories/"}),
    ]
    for n, (who, links) in enumerate(expected):
        route = routes.nth(n)
        assert route.locator(".route__who").inner_text() == who
        found = {a.inner_text().strip(): a.get_attribute("href") for a in route.locator("a").all()}
        assert found == links, found
        # On the first screen of a phone: the whole route, its buttons included, without scrolling.
        assert box(route)["bottom"] <= PHONE["height"], f"{who} is below the first screen"
        for link in route.locator("a").all():
            assert box(link)["h"] >= 44, "a thumb-sized target"
    no_sideways_scrolling(page, PHONE["width"])
    page.close()


@pytest.mark.parametrize("name", ["home", "stories", "lesson", "adoption", "search"])
def test_the_menu_stays_on_one_line_at_320_px(every_page_type, browser, name):
    url, pages = every_page_type
    page = open_page(browser, url + pages[name], SMALL_PHONE)
    items = page.locator(".site-nav a")
    tops = {round(box(items.nth(n))["y"]) for n in range(items.count())}
    assert items.count() >= 5 and items.last.inner_text() == "搜索"
    assert len(tops) == 1, f"the menu wraps onto {len(tops)} lines"
    assert box(items.last)["right"] <= SMALL_PHONE["width"]
    no_sideways_scrolling(page, SMALL_PHONE["width"])
    page.close()


@pytest.mark.parametrize("name", ["stories"])  # the listings with filters: the front of the stories
def test_the_stories_filters_come_before_the_list_on_a_phone_and_beside_it_on_a_desktop(every_page_type, browser, name):
    url, pages = every_page_type
    page = open_page(browser, url + pages[name], PHONE)
    filters, first_story = page.locator(".listing__aside"), page.locator(".listing__main .card").first
    assert box(filters)["bottom"] <= box(first_story)["y"], "the filters come first"
    for row in page.locator(".listing__aside .chips").all():
        chips = row.locator("li")
        assert len({round(box(c)["y"]) for c in chips.all()}) == 1, "each kind of filter is one row"
    no_sideways_scrolling(page, PHONE["width"])
    page.close()
    page = open_page(browser, url + pages[name], DESKTOP)
    filters, stories = box(page.locator(".listing__aside")), box(page.locator(".listing__main"))
    assert filters["x"] >= stories["right"] and abs(filters["y"] - stories["y"]) < 2, "beside the list, on the right"
    page.close()


@pytest.mark.parametrize("name", ["model", "adoption"])
def test_the_model_diagram_is_drawn_down_the_page_on_a_phone_and_fits(every_page_type, browser, name):
    url, pages = every_page_type
    page = open_page(browser, url + pages[name], PHONE)
    wide, tall = page.locator("svg.model-diagram--wide"), page.locator("svg.model-diagram--tall")
    assert not box(wide)["shown"] and box(tall)["shown"]
    frame = page.locator("figure.diagram")
    assert frame.evaluate("f => f.scrollWidth <= f.clientWidth"), "no scrolling inside the diagram's box"
    assert box(tall)["right"] <= box(frame)["right"] and box(tall)["w"] >= 280
    # Every component is in it, linked, and its name is as large as the page's small print or larger.
    heights = tall.evaluate(
        "svg => [...svg.querySelectorAll('a > text')].map(t => t.getBoundingClientRect().height)"
    )  # the components' names (street markers sit deeper, in their own groups)
    assert tall.locator("a").count() == 3 and len(heights) >= 3 and min(heights) >= 14, heights
    no_sideways_scrolling(page, PHONE["width"])
    page.close()
    page = open_page(browser, url + pages[name], DESKTOP)
    assert box(page.locator("svg.model-diagram--wide"))["shown"]
    assert not box(page.locator("svg.model-diagram--tall"))["shown"]
    page.close()


@pytest.mark.parametrize("name", ["model", "adoption"])
def test_the_adoption_matrix_is_a_list_per_street_on_a_phone_and_a_table_on_a_desktop(every_page_type, browser, name):
    url, pages = every_page_type
    page = open_page(browser, url + pages[name], PHONE)
    assert not box(page.locator("table.matrix"))["shown"]
    streets = page.locator(".matrix-street")
    assert [s.locator(".matrix-street__name").inner_text() for s in streets.all()] == ["陶然亭街道", "回龙观街道"]
    for street in streets.all():
        assert box(street)["right"] <= PHONE["width"]
        rows = street.locator("li")
        assert rows.count() == 3, "every component, with its stage in this street"
        for row in rows.all():
            assert box(row)["right"] <= PHONE["width"] and row.locator(".stage, .matrix__none").count() == 1
    taoranting = streets.first.inner_text()
    assert "社区治理联动微信群" in taoranting and "运行中" in taoranting and "计划中" in taoranting
    no_sideways_scrolling(page, PHONE["width"])
    page.close()
    page = open_page(browser, url + pages[name], DESKTOP)
    assert box(page.locator("table.matrix"))["shown"] and not box(page.locator(".matrix-streets"))["shown"]
    page.close()
