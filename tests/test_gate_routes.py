"""Every route by which a page or a revision becomes live passes one gate (cms/core/gate.py).

Walked with a reviewer's account and a site administrator's (the 站点管理员 group: not a superuser), the
two accounts that may publish: none of create, edit, approve, bulk publish, copy, alias, move, revert,
scheduling, import or code that sets `live` puts a revision live that nobody else approved, or content with
personal data. And a refusal leaves the page exactly as live, or as not live, as it was.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page

from cms.core.privacy import PublishRefused
from cms.stories.models import StoryPage
from tests.support.helpers import make_story
from tests.test_editorial import story_form

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"
SPLIT_NUMBER = "<p>报名请打 138<b>1234</b>5678。</p>"  # a mobile number split by bold


@pytest.fixture
def people(django_user_model, tree):
    def make(name, group=None, **extra):
        user = django_user_model.objects.create_user(username=name, password=PASSWORD, first_name=name, **extra)
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    return {
        "editor": make("editor", "编辑"),
        "reviewer": make("reviewer", "审核员"),
        "other": make("other", "审核员"),
        "siteadmin": make("siteadmin", "站点管理员"),
        "root": make("root", is_superuser=True, is_staff=True),
    }


PUBLISHERS = ["reviewer", "siteadmin"]


def as_user(client, user):
    client.force_login(user)
    return client


def texts(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def live_titles(index) -> set[str]:
    return set(StoryPage.objects.child_of(index).live().values_list("title", flat=True))


def fresh(page) -> StoryPage:
    return StoryPage.objects.get(pk=page.pk)


def in_review(client, people, index, title="审核中的故事", body="<p>驿站里有沙发和充电的地方。</p>", **extra):
    editor = as_user(client, people["editor"])
    response = editor.post(
        f"/admin/pages/add/stories/storypage/{index.pk}/", {**story_form(title, body, **extra), "action-submit": "1"}
    )
    assert response.status_code == 302
    return StoryPage.objects.get(title=title)


# -- create ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", PUBLISHERS)
def test_create_with_a_forged_publish_stays_a_draft(client, people, tree, who):
    _home, index = tree
    response = as_user(client, people[who]).post(
        f"/admin/pages/add/stories/storypage/{index.pk}/", {**story_form("想直接上线"), "action-publish": "1"}
    )
    page = StoryPage.objects.get(title="想直接上线")
    assert not page.live and page.live_revision_id is None
    assert "需要另一位审核员审核" in texts(response)


def test_a_superuser_creating_a_page_with_a_split_number_does_not_put_it_live(client, people, tree):
    _home, index = tree
    response = as_user(client, people["root"]).post(
        f"/admin/pages/add/stories/storypage/{index.pk}/",
        {**story_form("号码被加粗拆开", SPLIT_NUMBER), "action-publish": "1"},
    )
    page = StoryPage.objects.get(title="号码被加粗拆开")
    assert not page.live
    assert "138*****678" in texts(response)
    assert "号码被加粗拆开" not in live_titles(index)


# -- edit and revert ---------------------------------------------------------------------------------
@pytest.mark.parametrize("who", PUBLISHERS)
def test_edit_with_a_forged_publish_leaves_the_live_version(client, people, tree, who):
    _home, index = tree
    story = make_story(index, title="已经发布的故事")
    data = {**story_form("改过的标题"), "slug": story.slug, "action-publish": "1"}
    response = as_user(client, people[who]).post(f"/admin/pages/{story.pk}/edit/", data)
    assert fresh(story).title == "已经发布的故事" and fresh(story).live
    assert "需要另一位审核员审核" in texts(response)


@pytest.mark.parametrize("who", PUBLISHERS)
def test_revert_to_an_old_revision_goes_through_review(client, people, tree, who):
    _home, index = tree
    story = make_story(index, title="第二版")
    first = story.revisions.order_by("created_at").first()
    later = fresh(story)
    later.title = "第三版"
    later.save_revision().publish()
    url = reverse("wagtailadmin_pages:revisions_revert", args=[story.pk, first.pk])
    data = {**story_form("第二版"), "slug": story.slug, "action-publish": "1"}
    response = as_user(client, people[who]).post(url, data)
    assert response.status_code in (200, 302)
    assert fresh(story).title == "第三版", "the live version is unchanged"


# -- approve -----------------------------------------------------------------------------------------
def approve_url(page):
    page = Page.objects.get(pk=page.pk)
    state = page.current_workflow_task_state
    return reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", state.pk])


def test_a_reviewer_who_edits_during_review_and_approves_in_the_editor_publishes_nothing_of_theirs(
    client, people, tree
):
    _home, index = tree
    page = in_review(client, people, index)
    reviewer = as_user(client, people["reviewer"])
    data = {
        **story_form("审核员自己改的", "<p>审核员自己加的话。</p>"),
        "slug": page.slug,
        "action-workflow-action": "1",
        "workflow-action-name": "approve",
    }
    response = reviewer.post(f"/admin/pages/{page.pk}/edit/", data)
    assert response.status_code == 302
    page = fresh(page)
    assert not page.live, "neither the reviewer's revision nor anything else went live"
    assert "你在审核期间修改了页面" in texts(response)


def test_a_reviewer_who_saves_a_draft_during_review_cannot_approve_from_the_dashboard(client, people, tree):
    _home, index = tree
    page = in_review(client, people, index)
    reviewer = as_user(client, people["reviewer"])
    data = {**story_form("审核员存的草稿", "<p>审核员自己加的话。</p>"), "slug": page.slug}
    reviewer.post(f"/admin/pages/{page.pk}/edit/", data)
    response = reviewer.post(approve_url(page), {"comment": "可以"})
    assert not fresh(page).live
    assert "你在审核期间修改了页面" in texts(response)
    # Another reviewer approves: what goes live is the version that was submitted and reviewed.
    as_user(client, people["other"]).post(approve_url(page), {"comment": "可以"})
    page = fresh(page)
    assert page.live and page.title == "审核中的故事"
    assert page.has_unpublished_changes, "the reviewer's own draft waits for its own review"


def test_an_approval_publishes_the_reviewed_revision_not_a_later_one(client, people, tree):
    _home, index = tree
    page = in_review(client, people, index)
    later = page.get_latest_revision_as_object()
    later.title = "作者后来又改的"
    later.save_revision(user=people["editor"])
    response = as_user(client, people["reviewer"]).post(approve_url(page), {"comment": "可以"})
    page = fresh(page)
    assert page.live and page.title == "审核中的故事"
    assert "审核期间又保存的修改还没有发布" in texts(response), "the reviewer is told the later draft is not live"


def test_approving_from_the_editor_without_a_change_says_nothing_is_left_unpublished(client, people, tree):
    """Approving in the page editor sends the whole form; Wagtail saves it as a new revision first (a
    StreamField reports a change even when nothing was edited). Same content: no false warning, and the
    reviewed version is live."""
    _home, index = tree
    story = make_story(index, title="已经发布的故事")
    data = {**story_form("编辑改过的标题"), "slug": story.slug}
    as_user(client, people["editor"]).post(f"/admin/pages/{story.pk}/edit/", {**data, "action-submit": "1"})
    reviewer = as_user(client, people["reviewer"])
    reviewer.get(f"/admin/pages/{story.pk}/edit/")  # the messages of the editor's session are read
    # The form as the browser sends it back: the body's block with the id the editor shows it with.
    data["body-0-id"] = fresh(story).get_latest_revision().as_object().body[0].id
    response = reviewer.post(
        f"/admin/pages/{story.pk}/edit/", {**data, "action-workflow-action": "1", "workflow-action-name": "approve"}
    )
    assert response.status_code == 302
    page = fresh(story)
    assert page.revisions.count() == 3, "Wagtail saved the reviewer's unchanged form as a revision"
    assert page.live and page.title == "编辑改过的标题" and page.current_workflow_state is None
    assert "审核期间又保存的修改还没有发布" not in texts(response)
    assert "审核期间" not in texts(response) and "不能" not in texts(response)


# -- bulk actions ------------------------------------------------------------------------------------
def bulk_publish(client, *pages):
    ids = "&".join(f"id={p.pk}" for p in pages)
    url = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "publish"]) + f"?{ids}&next=/admin/"
    return client.post(url, {"include_descendants": ""})


@pytest.mark.parametrize("who", PUBLISHERS)
def test_bulk_publish_of_a_draft_nobody_reviewed_is_refused(client, people, tree, who):
    _home, index = tree
    draft = make_story(index, title="没有审核的草稿", publish=False)
    draft.save_revision(user=people[who])
    response = bulk_publish(as_user(client, people[who]), draft)
    assert response.status_code == 302
    assert not fresh(draft).live
    assert "需要另一位审核员审核" in texts(response)


def test_bulk_publish_refused_by_the_privacy_check_answers_with_a_message(client, people, tree):
    _home, index = tree
    clean = make_story(index, title="干净的草稿", publish=False)
    clean.save_revision()
    dirty = make_story(index, title="带号码的草稿", publish=False, body=[("paragraph", SPLIT_NUMBER)])
    dirty.save_revision()
    response = bulk_publish(as_user(client, people["root"]), clean, dirty)
    assert response.status_code == 302, "a message, not a server error"
    assert "138*****678" in texts(response)
    assert not fresh(dirty).live
    assert not fresh(clean).live, "the bulk action is one transaction: nothing half-done"


# -- copy and alias ----------------------------------------------------------------------------------
def copy(client, page, title, slug, **extra):
    data = {"new_title": title, "new_slug": slug, "new_parent_page": page.get_parent().pk, **extra}
    return client.post(reverse("wagtailadmin_pages:copy", args=[page.pk]), data)


@pytest.mark.parametrize("who", PUBLISHERS)
def test_a_copy_kept_live_is_a_draft_until_reviewed(client, people, tree, who):
    _home, index = tree
    story = make_story(index, title="原来的故事")
    response = copy(as_user(client, people[who]), story, "复制出来的新标题", "fu-zhi", publish_copies="on")
    assert response.status_code == 302
    copied = StoryPage.objects.get(slug="fu-zhi")
    assert not copied.live and copied.live_revision_id is None
    assert "复制出来的新标题" not in live_titles(index)
    assert "已保存为草稿" in texts(response)


def test_a_superusers_copy_with_a_number_in_its_new_title_is_not_live(client, people, tree):
    _home, index = tree
    story = make_story(index, title="原来的故事")
    copy(as_user(client, people["root"]), story, "请打 13812345678", "hao-ma", publish_copies="on")
    assert not StoryPage.objects.get(slug="hao-ma").live


def test_a_superusers_clean_copy_stays_live(client, people, tree):
    _home, index = tree
    story = make_story(index, title="原来的故事")
    copy(as_user(client, people["root"]), story, "干净的副本", "gan-jing", publish_copies="on")
    assert StoryPage.objects.get(slug="gan-jing").live


@pytest.mark.parametrize("who", PUBLISHERS)
def test_an_alias_shows_only_content_that_went_through_the_gate(client, people, tree, who):
    _home, index = tree
    home, _ = tree
    story = make_story(index, title="被引用的故事")
    other_index = home.add_child(instance=type(index)(title="另一个栏目", slug="other", intro="另一个栏目。"))
    data = {"new_title": story.title, "new_slug": "bie-ming", "new_parent_page": other_index.pk, "alias": "on"}
    as_user(client, people[who]).post(reverse("wagtailadmin_pages:copy", args=[story.pk]), data)
    alias = StoryPage.objects.get(slug="bie-ming")
    assert alias.alias_of_id == story.pk and alias.live, "an alias of approved live content is live"
    # A page whose live content holds personal data (published before a stricter rule): no alias of it goes live.
    Page.objects.filter(pk=story.pk).update(title="请打 13812345678")
    data["new_slug"] = "bie-ming-2"
    as_user(client, people[who]).post(reverse("wagtailadmin_pages:copy", args=[story.pk]), data)
    assert not StoryPage.objects.get(slug="bie-ming-2").live


# -- move ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", PUBLISHERS)
def test_moving_a_live_page_rechecks_its_content(client, people, tree, who):
    home, index = tree
    story = make_story(index, title="要移动的故事")
    other_index = home.add_child(instance=type(index)(title="另一个栏目", slug="other", intro="另一个栏目。"))
    revision = fresh(story).live_revision
    content = revision.content
    content["summary"] = "联系 138 1234 5678"
    revision.content = content
    revision.save(update_fields=["content"])  # as if published before the guard knew this format
    response = as_user(client, people[who]).post(
        reverse("wagtailadmin_pages:move_confirm", args=[story.pk, other_index.pk])
    )
    assert response.status_code == 302
    assert fresh(story).get_parent().pk == index.pk, "not moved"
    assert "138*****678" in texts(response)


# -- scheduling ---------------------------------------------------------------------------------------
def in_an_hour() -> str:
    return timezone.localtime(timezone.now() + datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("who", PUBLISHERS)
def test_scheduling_your_own_revision_is_refused(client, people, tree, who):
    _home, index = tree
    later = (timezone.now() + datetime.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    data = {**story_form("定时上线的草稿"), "go_live_at": later, "action-publish": "1"}
    as_user(client, people[who]).post(f"/admin/pages/add/stories/storypage/{index.pk}/", data)
    page = StoryPage.objects.get(title="定时上线的草稿")
    assert not page.revisions.filter(approved_go_live_at__isnull=False).exists(), "nothing waits to go live"
    call_command("publish_scheduled")
    assert not fresh(page).live


def test_an_approved_schedule_goes_live_through_the_gate(client, people, tree):
    _home, index = tree
    page = in_review(client, people, index, title="审核后定时上线", go_live_at=in_an_hour())
    as_user(client, people["other"]).post(approve_url(page), {"comment": "可以"})
    assert not fresh(page).live, "approved, waiting for its time"
    # Its time comes: the scheduler (no request, no user) publishes the approved revision, gate and all.
    come_due(page.revisions.get(approved_go_live_at__isnull=False))
    call_command("publish_scheduled")
    assert fresh(page).live and fresh(page).title == "审核后定时上线"


def test_the_scheduler_does_not_publish_an_approved_revision_that_now_fails_the_privacy_check(client, people, tree):
    _home, index = tree
    page = in_review(client, people, index, title="定时上线前规则变严", go_live_at=in_an_hour())
    as_user(client, people["other"]).post(approve_url(page), {"comment": "可以"})
    revision = page.revisions.get(approved_go_live_at__isnull=False)
    revision.content = {**revision.content, "summary": "联系 138 1234 5678"}
    revision.save()
    come_due(revision)
    other = in_review(client, people, index, title="同一分钟定时上线的另一篇", go_live_at=in_an_hour())
    as_user(client, people["other"]).post(approve_url(other), {"comment": "可以"})
    come_due(other.revisions.get(approved_go_live_at__isnull=False))
    call_command("publish_scheduled")
    assert not fresh(page).live
    assert not page.revisions.filter(approved_go_live_at__isnull=False).exists(), "taken off the schedule"
    assert fresh(other).live, "one refusal does not stop the others"


def come_due(revision):
    """Time passes: the revision's go-live time is now in the past."""
    past = timezone.now() - datetime.timedelta(minutes=1)
    revision.content = {**revision.content, "go_live_at": past.isoformat()}
    revision.approved_go_live_at = past
    revision.save()


# -- code that sets live ------------------------------------------------------------------------------
def test_code_that_sets_live_in_a_request_is_refused(rf, people, tree):
    from cms.core.middleware import _current

    _home, index = tree
    draft = make_story(index, title="代码里改成上线", publish=False)
    draft.save_revision(user=people["reviewer"])
    request = rf.post("/admin/")
    request.user = people["reviewer"]
    token = _current.set(request)
    try:
        page = fresh(draft)
        page.live = True
        page.live_revision = page.latest_revision
        with pytest.raises(PublishRefused):
            page.save()
    finally:
        _current.reset(token)
    assert not fresh(draft).live
