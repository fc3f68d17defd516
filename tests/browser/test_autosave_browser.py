"""A save clicked while a new page's first autosave is still on its way creates one page, not two.

Wagtail's autosave creates a new page with a background request; until its answer arrives the form still
posts to the "add page" view, so a save or submit sent in that moment used to create the page again
(cms/editorial/static/editorial/submit-after-autosave.js holds the submit back until the answer is in).
"""

from __future__ import annotations

import time

import pytest
from wagtail.admin.views.pages.create import CreateView

from tests.browser.test_editor_journey_browser import cms, log_in  # noqa: F401 - the live CMS fixture
from tests.support.browser import NEEDS_CHROMIUM, launch

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser, NEEDS_CHROMIUM]
TITLE = "自动保存途中点了保存"


def test_saving_during_the_first_autosave_makes_one_page(cms, monkeypatch):  # noqa: F811
    from cms.stories.models import StoryIndexPage, StoryPage

    original = CreateView.post

    def slow_answer(self, request, *args, **kwargs):
        # The autosave's page is created at once; its answer takes two seconds to reach the browser.
        response = original(self, request, *args, **kwargs)
        if "application/json" in request.headers.get("Accept", ""):
            time.sleep(2)
        return response

    monkeypatch.setattr(CreateView, "post", slow_answer)
    index = StoryIndexPage.objects.get()
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(page, cms, "editor")
        page.goto(f"{cms}/admin/pages/add/stories/storypage/{index.pk}/")
        page.wait_for_timeout(2000)  # the form's change tracking starts a moment after the page loads
        with page.expect_request(
            lambda r: r.method == "POST" and "application/json" in (r.headers.get("accept") or ""), timeout=10000
        ):
            page.locator("#id_title").press_sequentially(TITLE)
            page.locator("#id_title").blur()
        # The autosave is on its way: save the draft now.
        with page.expect_navigation(timeout=30000):
            page.get_by_role("button", name="保存草稿").first.click()
        page.wait_for_load_state("networkidle")
        assert "/edit/" in page.url
        browser.close()
    pages = StoryPage.objects.filter(title=TITLE)
    assert pages.count() == 1, [(p.pk, p.slug) for p in pages]
    # The draft has the form's content, saved as the editor's revision of that one page.
    assert pages.get().get_latest_revision().user.username == "editor"
