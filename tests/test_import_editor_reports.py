"""What a writer gets back from import_content and the admin: a search description short enough for a meta
description."""

from __future__ import annotations

import pytest
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from cms.content_io.importer import run_import
from cms.stories.models import StoryIndexPage, StoryPage
from tests.import_fixtures import good_tree, line_of, story, write_files
from tests.test_import_safety import add_bad_story, problem, refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(tmp_path, tree):
    """A good tree, imported once (as drafts: what is checked here comes before publishing); then good.md
    gets a new title that must not be written (`refused` checks that it was not)."""
    root = good_tree(tmp_path)
    report, _ = run_import(root)
    assert report.ok, [str(p) for p in report.rejected]
    write_files(root, {"stories/good.md": story("改过的标题")})
    return root


def imported(root, rel="stories/good.md") -> StoryPage:
    report, _ = run_import(root)
    assert report.ok, [str(p) for p in report.rejected]
    return StoryPage.objects.get(slug=rel.rsplit("/", 1)[1][:-3])


# == search descriptions ==========================================================================
def test_a_search_description_of_200_characters_is_imported(tmp_path, tree):
    root = good_tree(tmp_path)
    write_files(root, {"stories/good.md": story(extra="search_description: " + "述" * 200 + "\n")})
    assert imported(root).search_description == "述" * 200


@pytest.mark.parametrize("where", ["stories/bad.md", "stories/_index.md", "site.yaml"])
def test_a_long_search_description_is_refused_naming_file_line_field_and_length(content, where):
    long = "述" * 100_000
    if where == "site.yaml":
        text = f"home:\n  title: 小哥\n  search_description: {long}\n"
        write_files(content, {"site.yaml": text})
    elif where == "stories/_index.md":
        text = f"---\ntitle: 故事\nslug: stories\nsearch_description: {long}\n---\n\n导语。\n"
        write_files(content, {where: text})
    else:
        text = add_bad_story(content, story(extra=f"search_description: {long}\n"))
    found = problem(refused(content), where, "太长了：100000 个字，最多 200 个")
    assert (found.field, found.line) == ("search_description", line_of(text, "search_description:"))


@pytest.fixture
def admin_client(client, django_user_model, tree):
    client.force_login(django_user_model.objects.create_superuser("editor", "editor@example.org", "pw"))
    return client


def edit_index(admin_client, index: StoryIndexPage, description: str):
    data = nested_form_data(
        {
            "title": index.title,
            "slug": index.slug,
            "intro": index.intro,
            "seo_title": "",
            "search_description": description,
            "listing_title": "",
            "listing_summary": "",
            "social_text": "",
            "comments": inline_formset([]),
        }
    )
    return admin_client.post(f"/admin/pages/{index.pk}/edit/", data)


def test_the_admin_refuses_a_long_search_description_in_chinese(admin_client, tree):
    index = tree[1]
    response = edit_index(admin_client, index, "述" * 201)
    assert response.status_code == 200
    html = response.content.decode()
    assert "搜索描述太长了：201 个字，最多 200 个" in html
    index.refresh_from_db()
    assert index.search_description == ""
    response = edit_index(admin_client, index, "述" * 200)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert StoryIndexPage.objects.get(pk=index.pk).get_latest_revision_as_object().search_description == "述" * 200


def test_every_page_type_limits_its_search_description(tree, django_user_model):
    from django.core.exceptions import ValidationError
    from wagtail.models import get_page_models

    user = django_user_model.objects.create_superuser("admin", "admin@example.org", "pw")
    checked = []
    for model in get_page_models():
        if model._meta.app_label == "wagtailcore":
            continue
        form = model.get_edit_handler().get_form_class()(instance=model(), parent_page=tree[0], for_user=user)
        field = form.fields["search_description"]
        assert field.clean("述" * 200) == "述" * 200
        with pytest.raises(ValidationError, match="搜索描述太长了：201 个字，最多 200 个"):
            field.clean("述" * 201)
        checked.append(model.__name__)
    assert {"HomePage", "StoryPage", "LessonPage", "PlaybookChapterPage", "InformationPage"} <= set(checked)
