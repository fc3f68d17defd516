"""Accessibility of the built static site, in headless Chromium: axe-core finds no WCAG 2.2 AA violation on
any page type at a phone's width and a desktop's, a keyboard reaches every control with a visible focus
ring, and the skip link leads to the main content. Screenshots of every page type go to var/screenshots/."""

from pathlib import Path

import pytest

from tests.support.browser import NEEDS_CHROMIUM, launch
from tests.support.site_pages import serve_every_page_type

playwright = pytest.importorskip("playwright.sync_api")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
pytestmark = [
    pytest.mark.django_db,  # so that pytest-django sets up the test database every_page_type builds from
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]


@pytest.fixture(scope="module")
def every_page_type(django_db_setup, django_db_blocker, tmp_path_factory):
    with serve_every_page_type(django_db_blocker, tmp_path_factory) as site:
        yield site


VIEWPORTS = [{"width": 360, "height": 740}, {"width": 1280, "height": 800}]
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Numbers every element a keyboard user should be able to reach (visible on the page) and lists them.
NUMBER_FOCUSABLE = """() => [...document.querySelectorAll(
    'a[href], button:not([disabled]), input:not([disabled]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'
  )].filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map((e, i) => { e.dataset.kbd = i; return {key: String(i), html: e.outerHTML.slice(0, 100), type: e.type || '',
                                                name: e.name || ''}; })"""


def run_axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_22_AA,
    )
    return result["violations"]


def describe(violations: list[dict]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node['failureSummary'].splitlines()[-1].strip()}"
        for v in violations
        for node in v["nodes"][:5]
    ]


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed: `make install` runs npm ci (apt install npm)")
def test_no_wcag_22_aa_violation_on_any_page_type_at_either_width(every_page_type):
    url, pages = every_page_type
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    with playwright.sync_playwright() as p:
        browser = launch(p)
        for viewport in VIEWPORTS:
            page = browser.new_page(viewport=viewport)
            for name, path in pages.items():
                page.goto(url + path, wait_until="load")
                # For review by a person: every page type at both widths, the whole page.
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport['width']}.png"), full_page=True)
                if violations := run_axe(page):
                    found[f"{name} ({path}) at {viewport['width']} px"] = describe(violations)
            page.close()
        browser.close()
    assert not found, "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in found.items())


def tab_through(page, limit: int = 200) -> list[dict]:
    """Presses Tab until focus comes back round; returns what had focus each time and how it looked."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                 return {key: e.dataset.kbd, html: e.outerHTML.slice(0, 100), tag: e.tagName, type: e.type || '',
                         name: e.name || '', visible: e.matches(':focus-visible'), outline: s.outlineStyle,
                         shadow: s.boxShadow}; }"""
        )
        if info["tag"] == "BODY" or (seen and info["key"] is not None and info["key"] == seen[0]["key"]):
            break
        seen.append(info)
    return seen


@pytest.mark.parametrize("kind", ["chapter", "lesson"])
def test_a_keyboard_reaches_every_control_with_a_visible_focus_ring(every_page_type, kind):
    url, pages = every_page_type
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=VIEWPORTS[0])
        page.goto(url + pages[kind], wait_until="load")
        expected = page.evaluate(NUMBER_FOCUSABLE)
        reached = tab_through(page)
        browser.close()
    keys = {r["key"] for r in reached}
    radio_groups = {r["name"] for r in reached if r["type"] == "radio"}
    # A radio group is one Tab stop (the arrow keys move within it); everything else is its own stop.
    missed = [
        e["html"] for e in expected if e["key"] not in keys and not (e["type"] == "radio" and e["name"] in radio_groups)
    ]
    assert len(expected) > 10 and not missed, f"not reached by Tab: {missed}"
    assert {e["name"] for e in expected if e["type"] == "radio"} <= radio_groups
    unringed = [r["html"] for r in reached if not r["visible"] or (r["outline"] == "none" and r["shadow"] == "none")]
    assert not unringed, f"focused without a visible focus ring: {unringed}"


@pytest.mark.parametrize("kind", ["chapter", "lesson", "home"])
def test_the_skip_link_is_the_first_stop_and_moves_focus_to_main(every_page_type, kind):
    url, pages = every_page_type
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=VIEWPORTS[0])
        page.goto(url + pages[kind], wait_until="load")
        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        assert skip.inner_text() == "跳到正文"
        box = skip.bounding_box()
        assert box and box["y"] >= 0 and box["height"] > 0, "the skip link shows when it has focus"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        assert page.evaluate("document.activeElement.tagName") == "MAIN"
        # The next Tab goes on from the main content, not back to the header.
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('main')")
        browser.close()
