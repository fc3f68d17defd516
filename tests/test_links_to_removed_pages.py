"""A page that leaves the public site (unpublished, or behind a view restriction) does not block the next
build because another page links to it: the linking page is rendered again, the link as plain words."""

from __future__ import annotations

import pytest
from wagtail.models import PageViewRestriction

from cms.publishing.builder import build_site, current_release_dir
from cms.stories.models import StoryPage
from tests.support.helpers import make_story

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(tree, settings, tmp_path):
    settings.SITE_DIR = tmp_path / "site"
    _home, index = tree
    target = make_story(index, title="被链接的故事")
    body = [("paragraph", f'<p>另见<a linktype="page" id="{target.pk}">那篇故事</a>。</p>')]
    source = make_story(index, title="链接别人的故事", body=body)
    build_site(full=True)
    html = (current_release_dir() / f"stories/{source.slug}/index.html").read_text()
    assert f'href="/stories/{target.slug}/"' in html
    return target, source


def linking_html(source) -> str:
    return (current_release_dir() / f"stories/{source.slug}/index.html").read_text()


def test_unpublishing_a_linked_page_goes_live_and_the_link_becomes_words(linked):
    target, source = linked
    StoryPage.objects.get(pk=target.pk).unpublish()
    build_site()  # incremental: refused before ("链接 … 指向已删除的页面"), the target stayed public
    assert not (current_release_dir() / f"stories/{target.slug}/index.html").exists()
    html = linking_html(source)
    assert "那篇故事" in html and f"/stories/{target.slug}/" not in html


def test_restricting_a_linked_page_goes_live_and_the_link_becomes_words(linked):
    target, source = linked
    PageViewRestriction.objects.create(page=target, restriction_type="password", password="a-secret-password")
    build_site()
    assert not (current_release_dir() / f"stories/{target.slug}/index.html").exists()
    html = linking_html(source)
    assert "那篇故事" in html and f"/stories/{target.slug}/" not in html


def test_restricting_a_whole_section_goes_live(linked):
    """The 404 page and the search page offered fixed links to /stories/: they list the public sections."""
    target, _source = linked
    index = target.get_parent()
    PageViewRestriction.objects.create(page=index, restriction_type="login")
    build_site()
    release = current_release_dir()
    assert not (release / "stories/index.html").exists()
    for rel in ("404.html", "search/index.html", "index.html"):
        if (release / rel).exists():
            assert 'href="/stories/' not in (release / rel).read_text(), rel
