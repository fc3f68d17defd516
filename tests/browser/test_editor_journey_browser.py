"""The editor's journey in a real browser: an editor writes a story with an image and tags and submits it; a
reviewer approves it; within seconds the static site shows it on the home page, its listing, its tag page,
its feed and in search results for a word from its body."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.management import call_command

from cms.publishing.builder import current_release_dir
from tests.support.browser import NEEDS_CHROMIUM, launch, serve
from tests.support.helpers import make_image, make_story, make_street, make_tree

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]
PASSWORD = "a-long-test-password"
TITLE = "楼道里的消防通道畅通了"
WORD = "灭火器"


@pytest.fixture
def cms(live_server, transactional_db, settings, tmp_path, monkeypatch):
    settings.SITE_DIR = tmp_path / "site"
    # The live server's static handler finds files by their source names; the admin links the collected,
    # hashed names (as in production, where WhiteNoise serves them from STATIC_ROOT).
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.views.static import serve as serve_file

    original = StaticFilesHandler.serve

    def serve_collected(self, request):
        name = request.path[len(settings.STATIC_URL) :]
        if (Path(settings.STATIC_ROOT) / name).is_file():
            return serve_file(request, name, document_root=settings.STATIC_ROOT)
        return original(self, request)

    monkeypatch.setattr(StaticFilesHandler, "serve", serve_collected)
    # A transactional test empties the tables when it ends (the autosave test shares this fixture and runs
    # first): the content types and permissions come back (post_migrate), the migrations' rows do not. So
    # make_tree makes the root and locale if they are missing, and the groups and workflow are made again
    # (get_or_create). No serialized rollback: its reload of the content types collided with the migrated
    # ones (UNIQUE constraint failed) once other tests had run.
    migration = importlib.import_module("cms.editorial.migrations.0002_groups_and_review_workflow")
    _home, index = make_tree()
    migration.forwards(django_apps, None)
    importlib.import_module("cms.editorial.migrations.0004_share_link_permissions").forwards(django_apps, None)
    street = make_street()
    make_story(index, title="已经在线的故事", tags=["隐患上报"], street=street)
    make_image(title="楼道里的灭火器", alt="楼道墙上挂着一个红色灭火器")
    call_command("collectstatic", interactive=False, verbosity=0)
    from cms.publishing.builder import build_site

    build_site(full=True)
    settings.SITE_AUTO_BUILD = True  # from here on, a publish builds the site, as the worker does
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are sequential.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    User = django_apps.get_model("users", "User")
    for name, group in (("editor", "编辑"), ("reviewer", "审核员")):
        user = User.objects.create_user(username=name, password=PASSWORD, first_name=name)
        user.groups.add(Group.objects.get(name=group))
    return live_server.url


def log_in(page, base, username):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def open_action_menu(page):
    """The arrow beside the main button at the bottom of the editor opens the other actions."""
    footer = page.locator("footer").filter(has=page.locator("[data-w-dropdown-target='toggle']")).last
    footer.locator("[data-w-dropdown-target='toggle']").last.click()


def primary_action(page):
    """The big button at the bottom of the page editor (the action menu's first item)."""
    return page.locator("footer nav.actions--primary button").first


def test_an_editor_writes_a_reviewer_approves_and_the_static_site_shows_it(cms, request):
    base = cms
    with playwright.sync_playwright() as p:
        browser = launch(p)
        editor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(editor, base, "editor")
        from cms.stories.models import StoryIndexPage

        index = StoryIndexPage.objects.get()
        editor.goto(f"{base}/admin/pages/add/stories/storypage/{index.pk}/")
        editor.fill("#id_title", TITLE)
        editor.fill("#id_summary", "小哥在送件时发现消防通道被杂物堵住，拍照上报后当天清理干净。")
        tags = editor.locator("li.tagit-new input").first
        for tag in ("消防安全", "隐患上报"):
            tags.click()
            tags.type(tag)
            tags.press("Enter")
        # The hero image, through Wagtail's image chooser.
        editor.locator("#id_hero_image-chooser").get_by_role("button").first.click()
        editor.get_by_role("dialog").get_by_text("楼道里的灭火器").first.click()
        editor.get_by_role("dialog").wait_for(state="detached")
        # The body: one paragraph.
        editor.locator(
            "[data-contentpath='body'] button[title='插入块'], [data-contentpath='body'] .c-sf-add-button"
        ).first.click()
        editor.get_by_role("option", name="段落").first.click()
        editor.locator("[data-contentpath='body'] [contenteditable='true']").first.click()
        editor.keyboard.type(f"楼道拐角的{WORD}前堆满了纸箱，小哥拍照发到群里，物业当天就清走了。")
        # Submit for review (the editor has no publish button). A submit during the first autosave waits for
        # it (tests/browser/test_autosave_browser.py); here the autosave has settled, as an editor usually sees it.
        editor.wait_for_timeout(1500)
        editor.get_by_text("正在保存……").first.wait_for(state="hidden")
        open_action_menu(editor)
        with editor.expect_navigation():
            editor.get_by_role("button", name=re.compile("^提交给审核后发布")).click()
        editor.wait_for_load_state("networkidle")
        from cms.stories.models import StoryPage

        story = StoryPage.objects.get(title=TITLE)
        from wagtail.models import WorkflowState

        assert "提交" in editor.locator(".messages").inner_text()
        assert not story.live
        assert WorkflowState.objects.filter(object_id=str(story.pk), status="in_progress").exists()
        # In review, the editor's big button is 保存草稿 and they read one message, theirs.
        editor.goto(f"{base}/admin/pages/{story.pk}/edit/")
        assert primary_action(editor).inner_text().strip() == "保存草稿"
        banners = editor.locator(".messages").inner_text()
        assert "已提交审核" in banners and "不能批准" not in banners, banners

        reviewer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(reviewer, base, "reviewer")
        reviewer.get_by_role("link", name=TITLE).first.click()
        reviewer.wait_for_load_state("networkidle")
        approve = primary_action(reviewer)  # the reviewer's big button, not an item under 保存草稿
        assert approve.inner_text().strip() == "批准并发布"
        with reviewer.expect_navigation():
            approve.click()
        reviewer.wait_for_load_state("networkidle")
        story.refresh_from_db()
        assert story.live

        with serve(current_release_dir()) as site:
            page = browser.new_page(viewport={"width": 360, "height": 740})
            for path in ["/", "/stories/", "/stories/tag/xiao-fang-an-quan/"]:
                page.goto(site + path)
                assert page.get_by_text(TITLE).first.is_visible(), path
            page.goto(f"{site}/stories/feed.xml")
            assert TITLE in page.content()
            page.goto(f"{site}/search/?q={WORD}")
            page.wait_for_function(
                "() => { const s = document.querySelector('[data-search-status]').textContent;"
                " return s && !s.includes('正在'); }",
                timeout=15000,
            )
            assert TITLE in page.locator(".search-result__title").all_inner_texts()
            page.goto(site + story.url)
            assert page.locator("img[alt='楼道墙上挂着一个红色灭火器']").count() >= 1
        browser.close()
