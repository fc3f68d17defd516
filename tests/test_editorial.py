"""Nothing goes public without a second pair of eyes, and nothing personal goes public at all."""

from __future__ import annotations

import datetime
import io
import json
import time

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage
from wagtail.models import Page, Workflow
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from cms.content_io.importer import run_import
from cms.core.gate import content_problems
from cms.core.privacy import PrivacyBlocked, page_problems
from cms.images.models import CustomImage
from cms.publishing.builder import build_site, current_release_dir
from cms.stories.models import StoryPage
from tests.support.helpers import make_person, make_story, make_street, sitemap_files
from tests.support.import_fixtures import good_tree, line_of, story, write_files

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"


@pytest.fixture
def users(django_user_model, tree):
    def make(name, group):
        user = django_user_model.objects.create_user(username=name, password=PASSWORD, first_name=name)
        user.groups.add(Group.objects.get(name=group))
        return user

    return {"editor": make("editor", "编辑"), "reviewer": make("reviewer", "审核员"), "other": make("other", "审核员")}


def client_for(client, user):
    client.force_login(user)
    return client


def story_form(title="写字楼里的骑士驿站", body="<p>沙发、充电、应急药品。</p>", **extra):
    return nested_form_data(
        {
            "title": title,
            "slug": "",
            "summary": "建外街道在楼宇里为骑手开了驿站。",
            "date": "2023-01-05",
            "tags": "骑士驿站",
            "body": streamfield([("paragraph", rich_text(body))]),
            "featured_people": inline_formset([]),
            "source_links": inline_formset([]),
            "related_links": inline_formset([]),
            "comments": inline_formset([]),
            **extra,
        }
    )


def submit(client, index, title="写字楼里的骑士驿站", body="<p>沙发、充电、应急药品。</p>") -> StoryPage:
    response = client.post(
        f"/admin/pages/add/stories/storypage/{index.pk}/", {**story_form(title, body), "action-submit": "1"}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return StoryPage.objects.get(title=title)


def approve(client, page):
    page = Page.objects.get(pk=page.pk)
    state = page.current_workflow_task_state
    url = reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", state.pk])
    return client.post(url, {"comment": "可以发布"})


def test_groups_and_the_review_workflow_come_from_a_migration(users, tree):
    assert {"编辑", "审核员", "站点管理员"} <= set(Group.objects.values_list("name", flat=True))
    assert not Group.objects.filter(name__in=["Editors", "Moderators"]).exists()
    home = tree[0]
    assert home.get_workflow().name == "审核后发布"
    assert not home.permissions_for_user(users["editor"]).can_publish()
    assert home.permissions_for_user(users["editor"]).can_edit()
    assert home.permissions_for_user(users["reviewer"]).can_publish()


def test_an_editor_cannot_publish_but_can_submit_and_a_reviewer_approves(client, users, tree, settings, tmp_path):
    _home, index = tree
    editor = client_for(client, users["editor"])
    response = editor.post(
        f"/admin/pages/add/stories/storypage/{index.pk}/", {**story_form("想直接发布"), "action-publish": "1"}
    )
    assert not StoryPage.objects.get(title="想直接发布").live
    page = submit(editor, index)
    assert not page.live and page.current_workflow_state.status == "in_progress"
    editor_view = editor.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    assert 'name="action-publish"' not in editor_view
    reviewer = client_for(client, users["reviewer"])
    assert "写字楼里的骑士驿站" in reviewer.get("/admin/").content.decode(), "the dashboard lists what waits"
    response = approve(reviewer, page)
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.live
    settings.SITE_DIR = tmp_path / "site"
    build_site(full=True)
    assert "写字楼里的骑士驿站" in (current_release_dir() / "stories/index.html").read_text()


def test_a_reviewer_cannot_approve_their_own_revision(client, users, tree):
    _home, index = tree
    reviewer = client_for(client, users["reviewer"])
    page = submit(reviewer, index, title="自己写的")
    task = page.current_workflow_task
    assert task.get_actions(page, users["reviewer"]) == []
    approve(reviewer, page)
    page.refresh_from_db()
    assert not page.live, "the approval is refused"
    response = reviewer.get(f"/admin/pages/{page.pk}/edit/")
    assert "你不能批准自己的修改" in response.content.decode()
    other = client_for(client, users["other"])
    approve(other, page)
    page.refresh_from_db()
    assert page.live


def test_a_reviewer_who_edits_cannot_publish_from_the_editor(client, users, tree):
    _home, index = tree
    story = make_story(index, title="已经发布的故事")
    reviewer = client_for(client, users["reviewer"])
    data = {**story_form("已经发布的故事（改）"), "action-publish": "1", "slug": story.slug}
    response = reviewer.post(f"/admin/pages/{story.pk}/edit/", data)
    story.refresh_from_db()
    assert story.title == "已经发布的故事", "the live version is unchanged"
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("需要另一位审核员审核" in t for t in texts), texts


@pytest.mark.parametrize(
    ("text", "kind", "shown"),
    [
        ("请联系 13812345678 报名", "手机号码", "138*****678"),
        ("电话 +86 138 1234 5678", "手机号码", "138*****678"),
        ("电话 １３８１２３４５６７８", "手机号码", "138*****678"),
        ("身份证 11010519491231002X", "身份证号码", "110************02X"),
        ("卡号 6222020200112233446", "银行卡号", "622*************446"),
        ("卡号 6222020200112233449（校验位不对，不算）", None, None),
    ],
)
def test_personal_numbers_block_publishing_with_the_field_and_a_masked_match(users, tree, text, kind, shown):
    _home, index = tree
    story = make_story(index, title="带号码的故事", publish=False, body=[("paragraph", f"<p>{text}</p>")])
    revision = story.save_revision()
    if kind is None:  # a number that fails its checksum is not a card number: publishing goes ahead
        revision.publish()
        return
    with pytest.raises(PrivacyBlocked) as err:
        revision.publish()
    message = str(err.value)
    assert "正文（第 1 块）" in message and kind in message and shown in message
    assert text.split(" ")[-1] not in message, "the message masks the number"
    assert not StoryPage.objects.get(pk=story.pk).live


def test_an_id_number_with_a_wrong_checksum_is_not_personal_data(tree):
    _home, index = tree
    story = make_story(index, title="编号", publish=False, body=[("paragraph", "<p>工单号 110105194912310021</p>")])
    assert page_problems(story) == []


def test_the_reviewer_is_told_why_approval_is_refused(client, users, tree):
    _home, index = tree
    editor = client_for(client, users["editor"])
    page = submit(editor, index, title="号码", body="<p>报名请打 13812345678。</p>")
    response = approve(client_for(client, users["reviewer"]), page)
    page.refresh_from_db()
    assert not page.live
    texts = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "不能批准发布" in texts and "正文" in texts and "138*****678" in texts


def test_a_person_without_consent_and_an_image_with_gps_block_publishing(tree):
    _home, index = tree
    street = make_street()
    nobody = make_person(name="王五", street=street, consent=False)
    image = gps_image()
    story = make_story(index, title="有问题的故事", people=[nobody], image=image, publish=False)
    problems = content_problems(StoryPage.objects.get(pk=story.pk))
    assert any("王五既没有同意署名的记录，也没有公开报道的出处" in p for p in problems)
    assert any("GPS" in p and image.title in p for p in problems)


def gps_image() -> CustomImage:
    """An image whose file still carries GPS tags (as if it got past the upload cleaning)."""
    buf = io.BytesIO()
    exif = PILImage.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 53.0, 0.0), 3: "E", 4: (116.0, 23.0, 0.0)})
    PILImage.new("RGB", (80, 45), "#0b4f8a").save(buf, "JPEG", exif=exif.tobytes())
    image = CustomImage.objects.create(
        title="带定位的照片", description="一张照片", file=ImageFile(buf, name="gps.jpg")
    )
    with image.file.open("wb") as f:  # the upload cleaned it; put the tags back to test the guard
        f.write(buf.getvalue())
    return image


def test_import_with_publish_refuses_personal_numbers_naming_the_line(tmp_path, tree):
    root = good_tree(tmp_path)
    text = story("报名", "有事请打 138 1234 5678 找我。")
    write_files(root, {"stories/phone.md": text})
    report, _ = run_import(root, publish=True)
    found = [p for p in report.rejected if p.path == "stories/phone.md"]
    assert found and "手机号码 138*****678" in found[0].message and found[0].line == line_of(text, "138 1234")
    assert not StoryPage.objects.exists()
    # Without --publish the drafts may hold it (a reviewer will see the problem before publishing).
    report, _ = run_import(root, publish=False)
    assert report.ok


def test_scheduled_go_live_and_expiry_reach_the_static_site(tree, settings, tmp_path):
    settings.SITE_DIR = tmp_path / "site"
    _home, index = tree
    make_story(index, title="已经在线的故事")
    later = make_story(index, title="九点上线的故事", publish=False, date=datetime.date(2023, 3, 21))
    page = StoryPage.objects.get(pk=later.pk)
    page.go_live_at = timezone.now() + datetime.timedelta(seconds=3)
    page.save_revision().publish()
    assert not StoryPage.objects.get(pk=later.pk).live, "scheduled, not yet live"
    build_site(full=True)
    live = current_release_dir()
    assert "九点上线的故事" not in (live / "stories/index.html").read_text()
    call_command("publish_scheduled")
    assert not StoryPage.objects.get(pk=later.pk).live, "not before its time"
    # Its time comes: the scheduler (run every minute by `make run`) publishes it, and a build follows.
    time.sleep(max(0.0, (page.go_live_at - timezone.now()).total_seconds()) + 0.5)
    call_command("publish_scheduled")
    assert StoryPage.objects.get(pk=later.pk).live
    build_site()
    live = current_release_dir()
    assert "九点上线的故事" in (live / "stories/index.html").read_text()
    assert (live / f"stories/{later.slug}/index.html").exists()
    # It expires: gone from the page, the listing, the feed, the sitemap and the JSON API.
    StoryPage.objects.filter(pk=later.pk).update(expire_at=timezone.now() - datetime.timedelta(minutes=1))
    call_command("publish_scheduled")
    assert StoryPage.objects.get(pk=later.pk).expired
    build_site()
    live = current_release_dir()
    assert not (live / f"stories/{later.slug}/index.html").exists()
    for rel in ["stories/index.html", "stories/feed.xml", *sitemap_files(live), "index.html"]:
        assert "九点上线的故事" not in (live / rel).read_text() and later.slug not in (live / rel).read_text(), rel
    index_json = json.loads((live / "api/v2/pages/index.json").read_text())
    assert later.pk not in [item["id"] for item in index_json["items"]]
    assert not (live / f"api/v2/pages/{later.pk}/index.json").exists()


def test_the_dashboard_shows_scheduled_pages_and_the_static_site(client, users, tree, settings, tmp_path):
    settings.SITE_DIR = tmp_path / "site"
    _home, index = tree
    make_story(index, title="在线")
    build_site(full=True)
    later = make_story(index, title="明天上线", publish=False)
    page = StoryPage.objects.get(pk=later.pk)
    page.go_live_at = timezone.now() + datetime.timedelta(days=1)
    page.save_revision().publish()
    html = client_for(client, users["reviewer"]).get("/admin/").content.decode()
    assert "定时发布与到期下线" in html and "明天上线" in html and "定时上线" in html
    assert "公开网站最近的变化" in html and "当前在线" in html


def test_workflow_is_active(tree):
    assert Workflow.objects.get(name="审核后发布").active
