"""Rich text posted to the admin as something other than the editor's JSON (raw HTML, a script, broken
JSON): the form answers with an error on that field, never HTTP 500, and nothing is saved."""

import json
from html import unescape

import pytest
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from cms.core.widgets import UNREADABLE_MESSAGE
from cms.stories.models import StoryPage
from tests.support.helpers import make_story, make_street

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model, tree):
    client.force_login(django_user_model.objects.create_superuser("editor", "editor@example.org", "pw"))
    return client


def block_errors(response) -> dict:
    """The errors the page editor shows on the body's blocks (in the StreamField's data for the admin's script)."""
    html = response.content.decode()
    marker = 'data-w-block-arguments-value="'
    start = html.index(marker) + len(marker)
    arguments = json.loads(unescape(html[start : html.index('"', start)]))
    return next((a["blockErrors"] for a in arguments if isinstance(a, dict) and "blockErrors" in a), {})


def story_form(street, body, title="骑士驿站开进写字楼", slug="qi-shi-yi-zhan"):
    return nested_form_data(
        {
            "title": title,
            "slug": slug,
            "summary": "建外街道在楼宇里为骑手开了驿站。",
            "date": "2023-01-05",
            "street": street.pk,
            "tags": "骑士驿站",
            "body": streamfield(body),
            "featured_people": inline_formset([]),
            "source_links": inline_formset([]),
            "related_links": inline_formset([]),
            "comments": inline_formset([]),
        }
    )


@pytest.mark.parametrize("posted", ["<p>hi</p>", '{"blocks": 5}', '"hi"', "[1, 2", "<script>alert(1)</script>"])
def test_a_rich_text_value_that_is_not_the_editors_json_is_a_field_error(admin_client, tree, posted):
    street = make_street()
    response = admin_client.post(
        f"/admin/pages/add/stories/storypage/{tree[1].pk}/", story_form(street, [("paragraph", posted)])
    )
    assert response.status_code == 200
    assert block_errors(response) == {"0": {"messages": [UNREADABLE_MESSAGE]}}
    assert not StoryPage.objects.filter(title="骑士驿站开进写字楼").exists()


def test_editing_a_story_with_raw_html_keeps_the_live_text(admin_client, tree):
    street = make_street()
    story = make_story(tree[1], title="小年夜的饺子", street=street)
    response = admin_client.post(
        f"/admin/pages/{story.pk}/edit/",
        story_form(
            street,
            [("paragraph", rich_text("<p>第一段照常。</p>")), ("paragraph", "<p>hi</p>")],
            title="小年夜的饺子",
            slug=story.slug,
        ),
    )
    assert response.status_code == 200
    assert block_errors(response) == {"1": {"messages": [UNREADABLE_MESSAGE]}}, "the error is on the second block"
    assert story.revisions.count() == 1, "no revision saved"
    story.refresh_from_db()
    assert "刘阔每天骑着三轮车穿过胡同" in str(story.body)


def test_the_editors_own_json_still_saves(admin_client, tree):
    street = make_street()
    response = admin_client.post(
        f"/admin/pages/add/stories/storypage/{tree[1].pk}/",
        story_form(street, [("paragraph", rich_text("<p>沙发、充电、应急药品。</p>"))]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    story = StoryPage.objects.get(title="骑士驿站开进写字楼")
    assert ">沙发、充电、应急药品。</p>" in story.body[0].value.source


def test_the_page_editor_still_uses_draftail(admin_client, tree):
    story = make_story(tree[1])
    html = admin_client.get(f"/admin/pages/{story.pk}/edit/").content.decode()
    assert "w-field--checked_draftail_rich_text_area" in html, "our widget, registered as the default editor"
    assert "wagtail.widgets.DraftailRichTextArea" in html and "wagtailadmin/js/draftail." in html
