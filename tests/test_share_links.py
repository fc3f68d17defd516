"""Share links: no way around the privacy guard, a recorded maker, and only the maker (or a site
administrator) extends, re-points or revokes a link."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from cms.editorial.models import ShareLink
from cms.stories.models import StoryPage
from tests.support.helpers import make_story

pytestmark = pytest.mark.django_db
NUMBER = "13812345678"


@pytest.fixture
def people(django_user_model, tree):
    def make(name, group):
        user = django_user_model.objects.create_user(username=name, password="a-long-test-password")
        user.groups.add(Group.objects.get(name=group))
        return user

    return {"alice": make("alice", "编辑"), "bob": make("bob", "编辑"), "admin": make("siteadmin", "站点管理员")}


def later(hours=2) -> str:
    return (timezone.localtime() + datetime.timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def test_a_link_records_who_made_it(client, people, tree):
    _home, index = tree
    story = make_story(index, title="要分享的草稿")
    client.force_login(people["alice"])
    response = client.post("/admin/share_links/new/", {"page": story.pk, "expires_at": later()})
    assert response.status_code == 302
    assert ShareLink.objects.get().created_by == people["alice"]


def test_a_draft_the_guard_refuses_cannot_be_shared(client, people, tree):
    _home, index = tree
    story = make_story(index, title="草稿里有号码")
    draft = StoryPage.objects.get(pk=story.pk)
    draft.summary = f"联系 {NUMBER}"
    draft.save_revision()
    client.force_login(people["alice"])
    response = client.post("/admin/share_links/new/", {"page": story.pk, "expires_at": later()})
    assert response.status_code == 200 and not ShareLink.objects.exists()
    html = response.content.decode()
    assert "不能分享" in html and "138*****678" in html and NUMBER not in html


def test_a_link_made_before_the_number_was_added_shows_nothing_of_the_draft(client, people, tree):
    _home, index = tree
    story = make_story(index, title="后来才加的号码")
    link = ShareLink.objects.create(page=story, created_by=people["alice"])
    draft = StoryPage.objects.get(pk=story.pk)
    draft.summary = f"联系 {NUMBER}"
    draft.save_revision()
    response = client.get(link.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 403 and NUMBER not in html and "后来才加的号码" not in html
    assert "暂时不能通过链接预览" in html


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_only_the_maker_or_a_site_admin_changes_a_link(client, people, tree, action):
    _home, index = tree
    story = make_story(index, title="别人的链接")
    link = ShareLink.objects.create(page=story, created_by=people["alice"])
    url = f"/admin/share_links/{action}/{link.pk}/"
    data = {"expires_at": later(hours=500)} if action == "edit" else {}
    client.force_login(people["bob"])
    assert client.post(url, data).status_code in (302, 403)
    assert ShareLink.objects.filter(pk=link.pk, expires_at=link.expires_at).exists(), "bob changed nothing"
    client.force_login(people["admin"])
    assert client.post(url, data).status_code == 302
    changed = ShareLink.objects.filter(pk=link.pk).first()
    assert changed is None or changed.expires_at != link.expires_at


def test_editing_a_link_cannot_point_it_at_another_page(client, people, tree):
    _home, index = tree
    story = make_story(index, title="原来的页面")
    other = make_story(index, title="另一个页面")
    link = ShareLink.objects.create(page=story, created_by=people["alice"])
    client.force_login(people["alice"])
    client.post(f"/admin/share_links/edit/{link.pk}/", {"page": other.pk, "expires_at": later(hours=3)})
    link.refresh_from_db()
    assert link.page_id == story.pk
