"""What editors and reviewers preview is what the public gets: the same bytes as the release, plus a banner.
A share link shows a draft to someone without an account, until it expires or is revoked."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from wagtail.models import Page

from cms.core.preview import BANNER_CLASS, remove_banner
from cms.editorial.models import ShareLink
from cms.publishing.builder import build_site, current_release_dir
from cms.stories.models import StoryPage, StoryRelatedPage
from tests.support.helpers import (
    make_image,
    make_model,
    make_person,
    make_playbook,
    make_story,
    make_street,
    make_training,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(tree, settings, tmp_path):
    settings.SITE_DIR = tmp_path / "site"
    home, index = tree
    street = make_street()
    story = make_story(index, tags=["隐患上报"], people=[make_person(street=street)], street=street, image=make_image())
    make_story(index, title="小年夜的饺子", tags=["隐患上报"], street=street, date=datetime.date(2022, 1, 14))
    make_playbook(home, chapters=2)
    make_model(home, streets=[street])
    make_training(home, lessons=2)
    build_site(full=True)
    return {"home": home, "index": index, "story": story}


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.org", "a-long-test-password")
    client.force_login(user)
    return client


def release_file(page) -> bytes:
    path = page.get_url_parts()[2]
    return (current_release_dir() / path.lstrip("/") / "index.html").read_bytes()


def test_the_preview_of_every_page_type_is_the_released_file_plus_a_banner(site, admin_client):
    pages = Page.objects.live().filter(depth__gte=2).specific()
    types = set()
    for page in pages:
        response = admin_client.get(f"/admin/pages/{page.pk}/view_draft/")
        assert response.status_code == 200, page
        html = response.content
        assert f'class="{BANNER_CLASS}"'.encode() in html and "还没有发布".encode() in html
        assert remove_banner(html) == release_file(page), f"{type(page).__name__} {page.url}"
        types.add(type(page).__name__)
    assert {"HomePage", "StoryIndexPage", "StoryPage", "PlaybookPage", "PlaybookChapterPage", "ModelIndexPage",
            "ComponentPage", "TrainingIndexPage", "CoursePage", "LessonPage"} <= types  # fmt: skip


def test_the_preview_shows_the_draft_and_the_release_keeps_the_live_version(site, admin_client):
    story = StoryPage.objects.get(pk=site["story"].pk)
    story.title = "改过的标题（草稿）"
    story.save_revision()
    html = admin_client.get(f"/admin/pages/{story.pk}/view_draft/").content.decode()
    assert "改过的标题（草稿）" in html and "wagtail-userbar" not in html
    assert "改过的标题（草稿）" not in release_file(story).decode()


def test_the_editor_offers_a_phone_width_preview(site, admin_client):
    story = site["story"]
    assert story.preview_sizes[0]["device_width"] == 360
    html = admin_client.get(f"/admin/pages/{story.pk}/edit/").content.decode()
    assert "按手机宽度预览（360 像素）" in html


def test_a_share_link_shows_the_draft_without_the_admin_until_it_expires(site, admin_client, client):
    story = StoryPage.objects.get(pk=site["story"].pk)
    story.title = "等待审核的新标题"
    story.save_revision()
    response = admin_client.post(
        "/admin/share_links/new/",
        {
            "page": story.pk,
            "expires_at": (timezone.localtime() + datetime.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
        },
    )
    assert response.status_code == 302
    link = ShareLink.objects.get()
    assert len(link.token) >= 40, "a random token of 32 bytes"
    admin_client.logout()
    shared = client.get(f"/share/{link.token}/")
    html = shared.content.decode()
    assert shared.status_code == 200 and "等待审核的新标题" in html and "分享预览" in html
    assert "/admin" not in html and "wagtail-userbar" not in html and "csrfmiddlewaretoken" not in html
    assert shared["X-Robots-Tag"] == "noindex, nofollow" and "no-store" in shared["Cache-Control"]
    assert client.get("/share/not-a-real-token/").status_code == 404
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    expired = client.get(f"/share/{link.token}/")
    assert expired.status_code == 410 and "已失效" in expired.content.decode()
    assert "等待审核的新标题" not in expired.content.decode()


def test_a_revoked_share_link_stops_working_at_once(site, client):
    link = ShareLink.objects.create(page=site["story"])
    assert client.get(link.get_absolute_url()).status_code == 200
    link.delete()
    assert client.get(link.get_absolute_url()).status_code == 404


def test_links_expire_after_the_configured_hours(site, settings):
    settings.SHARE_LINK_HOURS = 5
    link = ShareLink.objects.create(page=site["story"])
    hours = (link.expires_at - timezone.now()).total_seconds() / 3600
    assert 4.9 < hours <= 5


def test_banner_is_placed_inside_body_only_once(site, admin_client):
    html = admin_client.get(f"/admin/pages/{site['story'].pk}/view_draft/").content.decode()
    assert len(re.findall(BANNER_CLASS, html)) == 1 and html.index(BANNER_CLASS) > html.index("<body")


def test_the_preview_shows_the_drafts_related_picks(site, admin_client):
    """An editor changes a live story's related pages in a draft: the preview shows the new pick, the release
    keeps the old one until the draft is published."""
    story = StoryPage.objects.get(pk=site["story"].pk)
    old = make_story(site["index"], title="原来挑选的一篇", date=datetime.date(2021, 5, 1))
    new = make_story(site["index"], title="草稿里新挑选的一篇", date=datetime.date(2021, 6, 1))
    story.related_links = [StoryRelatedPage(related_page=old)]
    story.save_revision().publish()
    build_site()
    assert "原来挑选的一篇" in release_file(story).decode()
    draft = StoryPage.objects.get(pk=story.pk)
    draft.related_links = [StoryRelatedPage(related_page=new)]
    draft.save_revision()
    html = admin_client.get(f"/admin/pages/{story.pk}/view_draft/").content.decode()
    assert "草稿里新挑选的一篇" in html and "原来挑选的一篇" not in html
    assert "原来挑选的一篇" in release_file(story).decode()
