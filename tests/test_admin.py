"""The editor's side: a Chinese admin where stories and snippets can be created."""

import json

import pytest
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from cms.core.models import Person, Street
from cms.stories.models import StoryIndexPage, StoryPage
from tests.support.helpers import make_image, make_person, make_street, make_tree, report_source


@pytest.fixture
def admin_client(client, django_user_model, tree):
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


def test_admin_is_in_chinese(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert 'lang="zh-hans"' in html
    assert "<title>控制面板" in html


def test_snippets_appear_in_the_chinese_admin(admin_client):
    make_street()
    make_person()
    streets = admin_client.get("/admin/snippets/core/street/").content.decode()
    assert "陶然亭街道" in streets and "街道" in streets
    people = admin_client.get("/admin/snippets/core/person/").content.decode()
    assert "刘阔" in people and "已有同意署名与肖像的记录" in people
    menu = admin_client.get("/admin/").content.decode()  # the sidebar is JSON for the admin's JavaScript
    assert json.dumps("街道、人物与出处")[1:-1] in menu


def test_page_editor_opens_for_a_story(admin_client, tree):
    from tests.support.helpers import make_story

    story = make_story(tree[1], tags=["培训"])
    response = admin_client.get(f"/admin/pages/{story.pk}/edit/")
    assert response.status_code == 200
    assert "正文" in response.content.decode()


def test_empty_slug_becomes_pinyin_in_the_admin(admin_client, tree):
    index = tree[1]
    street = make_street()
    data = nested_form_data(
        {
            "title": "骑士驿站开进写字楼",
            "slug": "",
            "summary": "建外街道在楼宇里为骑手开了驿站。",
            "date": "2023-01-05",
            "street": street.pk,
            "tags": "骑士驿站",
            "body": streamfield([("paragraph", rich_text("<p>沙发、充电、应急药品。</p>"))]),
            "featured_people": inline_formset([]),
            "source_links": inline_formset([]),
            "related_links": inline_formset([]),
            "comments": inline_formset([]),
        }
    )
    response = admin_client.post(f"/admin/pages/add/stories/storypage/{index.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    story = StoryPage.objects.get(title="骑士驿站开进写字楼")
    assert story.slug == "qi-shi-yi-zhan-kai-jin-xie-zi-lou"


def test_hero_image_without_alt_text_is_refused(tree):
    from django.core.exceptions import ValidationError

    image = make_image(alt="")
    story = StoryPage(title="没有替代文字", summary="摘要", body=[("paragraph", "<p>正文</p>")], hero_image=image)
    tree[1].add_child(instance=StoryPage(title="占位", summary="摘要", body=[("paragraph", "<p>正文</p>")]))
    with pytest.raises(ValidationError) as err:
        story.clean()
    assert "替代文字" in str(err.value)


class TestEditorCanCreate(WagtailPageTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.home, cls.index = make_tree()
        cls.street = Street.objects.create(name="建外街道", slug="jianwai", district="朝阳区")
        cls.person = Person.objects.create(name="张瞳", role="科长", consent_on_record=True)
        cls.source = report_source()

    def setUp(self):
        self.login()

    def test_can_create_a_story(self):
        self.assertCanCreateAt(StoryIndexPage, StoryPage)
        self.assertCanCreate(
            self.index,
            StoryPage,
            nested_form_data(
                {
                    "title": "学校开学季的志愿岗",
                    "slug": "kai-xue-ji-zhi-yuan-gang",
                    "summary": "开学季，小哥们在义务岗亭值守。",
                    "date": "2022-09-01",
                    "street": self.street.pk,
                    "tags": "志愿服务, 开学季",
                    "body": streamfield(
                        [
                            ("heading", {"text": "早上七点", "level": "h2"}),
                            ("paragraph", rich_text("<p>义务岗亭。</p>")),
                            ("figure", {"value": "147", "unit": "栋", "label": "商务楼宇", "source": ""}),
                        ]
                    ),
                    "featured_people": inline_formset([{"person": self.person.pk}]),
                    "source_links": inline_formset([{"source": self.source.pk}]),
                    "related_links": inline_formset([]),
                    "comments": inline_formset([]),
                }
            ),
        )
        story = StoryPage.objects.get(slug="kai-xue-ji-zhi-yuan-gang")
        self.assertEqual(sorted(t.name for t in story.tags.all()), sorted(["志愿服务", "开学季"]))
        self.assertPageIsRenderable(story)
