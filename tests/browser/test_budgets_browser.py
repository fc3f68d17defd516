"""Budgets of the built static site on first view, measured in headless Chromium from its network log, served
compressed as nginx serves it: bytes of HTML, CSS and JavaScript per page type (story and chapter at most 30 KB,
a lesson at most 15 KB), requests, nothing from another site, and no layout shift from images.

The figures of every page type are printed and written to var/budgets.txt."""

from pathlib import Path

import pytest

from tests.support.browser import NEEDS_CHROMIUM, launch
from tests.support.site_pages import serve_every_page_type

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.django_db,  # so that pytest-django sets up the test database every_page_type builds from
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]
REPORT = Path(__file__).resolve().parents[2] / "var" / "budgets.txt"
KB = 1024
# HTML + CSS + JavaScript transferred (bodies as sent, compressed, plus headers) on a first view.
BUDGETS = {"story": 30 * KB, "chapter": 30 * KB, "lesson": 15 * KB}
CODE = ("document", "stylesheet", "script")
PHONE = {"width": 360, "height": 740}

# Sums the layout shifts not caused by input, from the start of the page's life (buffered entries).
WATCH_SHIFTS = """
window.__cls = 0;
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
}).observe({type: 'layout-shift', buffered: true});
"""


@pytest.fixture(scope="module")
def every_page_type(django_db_setup, django_db_blocker, tmp_path_factory):
    with serve_every_page_type(django_db_blocker, tmp_path_factory) as site:
        yield site


def first_view(browser, url: str) -> dict:
    """Opens url in a fresh profile (empty cache); returns what was transferred, then scrolls to the end so
    that lazy images load, and returns the layout shift of the whole visit."""
    origin = "/".join(url.split("/")[:3])
    context = browser.new_context(viewport=PHONE)
    context.add_init_script(WATCH_SHIFTS)
    page = context.new_page()
    responses = []
    page.on("response", lambda r: responses.append(r))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    loaded = list(responses)
    sizes = [(r, r.request.sizes()) for r in loaded]
    code = sum(s["responseBodySize"] + s["responseHeadersSize"] for r, s in sizes if r.request.resource_type in CODE)
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for _r, s in sizes)
    images = page.evaluate(
        "() => [...document.images].map(i => ({src: i.currentSrc || i.src,"
        " sized: i.hasAttribute('width') && i.hasAttribute('height')}))"
    )
    page.evaluate(
        """async () => { for (let y = 0; y <= document.body.scrollHeight; y += innerHeight / 2) {
             scrollTo(0, y); await new Promise(r => setTimeout(r, 60)); } }"""
    )
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)
    cls = page.evaluate("window.__cls")
    figures = {
        "code": code,
        "total": total,
        "requests": len(loaded),
        "kinds": sorted({r.request.resource_type for r in loaded}),
        "elsewhere": [r.url for r in responses if not r.url.startswith(origin + "/")],
        "unsized": [i["src"] for i in images if not i["sized"]],
        "images": len(images),
        "cls": cls,
    }
    context.close()
    return figures


def test_every_page_type_stays_within_its_budget_and_does_not_shift(every_page_type):
    url, pages = every_page_type
    with playwright.sync_playwright() as p:
        browser = launch(p)
        measured = {name: first_view(browser, url + path) for name, path in pages.items()}
        browser.close()
    lines = [f"{'page type':<14}{'HTML+CSS+JS':>12}{'all bytes':>11}{'requests':>10}{'images':>8}{'CLS':>8}"]
    for name, m in measured.items():
        budget = f"  (budget {BUDGETS[name] // KB} KB)" if name in BUDGETS else ""
        lines.append(
            f"{name:<14}{m['code']:>12}{m['total']:>11}{m['requests']:>10}{m['images']:>8}{m['cls']:>8.4f}{budget}"
        )
    report = "\n".join(lines)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report + "\n")
    print("\n" + report)

    for name, budget in BUDGETS.items():
        assert measured[name]["code"] <= budget, f"{name}: {measured[name]['code']} bytes > {budget}\n{report}"
        assert {"document", "stylesheet"} <= set(measured[name]["kinds"])
    for name, m in measured.items():
        assert not m["elsewhere"], f"{name} asked another site: {m['elsewhere']}"
        assert not m["unsized"], f"{name}: images without width and height: {m['unsized']}"
        assert m["cls"] < 0.01, f"{name}: cumulative layout shift {m['cls']:.4f}\n{report}"
    assert measured["story"]["images"] > 0, "the story page shows images, so the image checks mean something"
