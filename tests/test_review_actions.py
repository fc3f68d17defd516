"""The page editor during review: each role's big button is the action it needs, and each reads only its own
message. An editor whose page is in review may go on saving drafts; the approval still publishes what was
submitted."""

from __future__ import annotations

import html as html_module
import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse
from wagtail.models import Page

from cms.editorial.wagtail_hooks import REVIEWERS_OWN, SUBMITTERS
from cms.stories.models import StoryPage
from tests.support.admin_text import visible_texts
from tests.support.helpers import make_story

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"
LOCKED = "只有这个任务的审核员可以编辑"  # Wagtail's lock message, in our translation


@pytest.fixture
def people(django_user_model, tree):
    def make(name, group):
        user = django_user_model.objects.create_user(username=name, password=PASSWORD, first_name=name)
        user.groups.add(Group.objects.get(name=group))
        return user

    return {name: make(name, group) for name, group in
            (("editor", "编辑"), ("editor2", "编辑"), ("reviewer", "审核员"), ("reviewer2", "审核员"))}  # fmt: skip


def submit_as(page, user, title=None):
    page = Page.objects.get(pk=page.pk).specific
    if title:
        page.title = title
    page.save_revision(user=user)
    page.get_workflow().start(page, user)
    return Page.objects.get(pk=page.pk).specific


def label(button: str) -> str:
    """A button's words (what it says, not its progress label)."""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", button)).split())


def footer(html: str) -> tuple[str, list[str]]:
    """The editor's footer: the big button's label and the labels in its menu, in order."""
    nav = re.search(r'<nav class="actions actions--primary.*?</nav>', html, re.S).group(0)
    button, _, menu = nav.partition('data-w-dropdown-target="content"')
    labels = [label(m.group(0)) for m in re.finditer(r"<(button|a)\b.*?</\1>", menu, re.S)]
    return label(re.search(r"<button.*?</button>", button, re.S).group(0)), labels


def banners(html: str) -> list[str]:
    """The messages at the top of the page (Django's messages, Wagtail's lock notice among them)."""
    ul = re.search(r'<div class="messages".*?<ul data-w-messages-target="container">(.*?)</ul>', html, re.S)
    return [" ".join(visible_texts(li)) for li in re.findall(r"<li.*?</li>", ul.group(1), re.S)]


def editor_page(client, user, page):
    client.force_login(user)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def in_review(people, tree):
    """A live story whose new version the editor submitted."""
    story = make_story(tree[1], title="楼道里的灭火器")
    return submit_as(story, people["editor"], title="楼道里的灭火器（修改）")


def test_the_editor_in_review_keeps_saving_drafts_and_reads_one_message(client, people, in_review):
    html = editor_page(client, people["editor"], in_review)
    button, menu = footer(html)
    assert button == "保存草稿"
    assert "取消工作流" in menu and not any("批准" in label for label in menu), menu
    messages = banners(html)
    assert SUBMITTERS in messages
    assert REVIEWERS_OWN not in messages and not any(LOCKED in m for m in messages), messages


def test_a_reviewer_reviewing_sees_approve_as_the_button_and_request_changes_first(client, people, in_review):
    html = editor_page(client, people["reviewer"], in_review)
    button, menu = footer(html)
    assert button == "批准并发布"
    assert menu[0] == "要求修改", menu
    assert menu[-1] == "取消发布", "unpublishing, which undoes work, comes last"
    assert menu.index("保存草稿") > menu.index("带评论批准并发布")
    messages = banners(html)
    assert REVIEWERS_OWN not in messages and SUBMITTERS not in messages
    assert not any(LOCKED in m for m in messages), messages


def test_a_reviewer_reads_why_they_cannot_approve_their_own_revision_and_nothing_else(client, people, tree):
    own = submit_as(make_story(tree[1], title="审核员写的故事", publish=False), people["reviewer"])
    html = editor_page(client, people["reviewer"], own)
    button, menu = footer(html)
    assert button == "保存草稿"
    assert not any("批准" in label for label in [button, *menu]), menu
    messages = banners(html)
    assert REVIEWERS_OWN in messages and SUBMITTERS not in messages, messages


def test_another_editor_finds_the_page_locked(client, people, in_review):
    html = editor_page(client, people["editor2"], in_review)
    button, menu = footer(html)
    assert button != "保存草稿" and "保存草稿" not in menu
    messages = banners(html)
    assert any(LOCKED in m for m in messages) and SUBMITTERS not in messages, messages


def test_a_page_sent_back_offers_the_editor_to_save_then_resubmit(client, people, tree):
    page = submit_as(make_story(tree[1], title="退回修改的故事", publish=False), people["editor"])
    state = page.current_workflow_task_state
    state.task.specific.on_action(state, people["reviewer"], "reject")
    button, menu = footer(editor_page(client, people["editor"], page))
    assert button == "保存草稿"
    assert menu[0].startswith("重新提交"), menu


def test_a_draft_the_editor_saves_during_review_stays_a_draft_when_the_submitted_version_is_approved(
    client, people, in_review
):
    from tests.test_editorial import story_form

    client.force_login(people["editor"])
    data = {**story_form("楼道里的灭火器（审核中又改）"), "slug": in_review.slug, "action-save-draft": "1"}
    response = client.post(reverse("wagtailadmin_pages:edit", args=[in_review.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    story = StoryPage.objects.get(pk=in_review.pk)
    assert story.get_latest_revision().user == people["editor"]
    assert story.get_latest_revision_as_object().title == "楼道里的灭火器（审核中又改）"
    assert story.current_workflow_state.status == "in_progress", "the review goes on"

    client.force_login(people["reviewer"])
    state = story.current_workflow_task_state
    response = client.post(
        reverse("wagtailadmin_pages:workflow_action", args=[story.pk, "approve", state.pk]), {"comment": ""}
    )
    story.refresh_from_db()
    assert story.title == "楼道里的灭火器（修改）", "what was submitted and reviewed went live"
    assert story.has_unpublished_changes
    assert any("需要再次提交审核" in str(m) for m in get_messages(response.wsgi_request))
