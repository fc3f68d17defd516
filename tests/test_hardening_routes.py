"""Security review findings about what the static release holds: pages behind a view restriction stay off it,
its API names only the public site, and a rollback never brings back a page that is no longer public."""

import datetime
import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from wagtail.models import PageViewRestriction

from cms.publishing.builder import build_site
from cms.publishing.models import BuildRequest, Release
from cms.publishing.releases import BuildFailed, current_release_dir, rollback
from cms.publishing.search import IndexReader
from cms.publishing.verify import examine
from tests import test_publishing
from tests.support.helpers import make_model, make_playbook, make_story, make_training, sitemap_files, sitemap_text
from tests.test_publishing import read

site_dir, stories = test_publishing.site_dir, test_publishing.stories  # the fixtures of the publishing tests

pytestmark = pytest.mark.django_db

SECRET = "小年夜的饺子"  # the story the tests restrict; its tag 节日关怀 (jie-ri-guan-huai) is on no other story


def indexed_urls(release: Path) -> set[str]:
    """The URLs of the pages the release's search index can find."""
    return IndexReader(release).urls()


def assert_absent(story, title: str):
    live = current_release_dir()
    path = f"/stories/{story.slug}/"
    assert not (live / path.strip("/")).exists()
    assert not (live / f"api/v2/pages/{story.pk}").exists()
    for rel in (
        "index.html",
        "stories/index.html",
        "stories/feed.xml",
        "stories/street/taoranting/index.html",
        *sitemap_files(live),
        "api/v2/pages/index.json",
    ):
        text = read(rel)
        assert title not in text and path not in text, rel
    assert path not in indexed_urls(live)


def assert_present(story, title: str):
    live = current_release_dir()
    path = f"/stories/{story.slug}/"
    assert title in read(f"stories/{story.slug}/index.html")
    assert title in read(f"api/v2/pages/{story.pk}/index.json")
    for rel in ("stories/index.html", "stories/feed.xml", "api/v2/pages/index.json"):
        assert path in read(rel), rel
    assert path in sitemap_text(live)
    assert path in indexed_urls(live)


@pytest.mark.parametrize("kind", ["password", "login", "groups"])
def test_a_restricted_page_leaves_the_release_and_comes_back_when_the_restriction_goes(stories, site_dir, kind):
    build_site(full=True)
    story = stories["stories"][1]
    assert_present(story, SECRET)
    assert (current_release_dir() / "stories/tag/jie-ri-guan-huai/index.html").exists()

    restriction = PageViewRestriction.objects.create(
        page=story, restriction_type=kind, password="xiaoge-2023" if kind == "password" else ""
    )
    if kind == "groups":
        restriction.groups.add(Group.objects.get_or_create(name="编辑")[0])
    build_site()  # used to fail: 'Request' object has no attribute 'session'

    assert_absent(story, SECRET)
    # Its tag page goes with it (no other story has the tag); the other stories stay.
    assert not (current_release_dir() / "stories/tag/jie-ri-guan-huai").exists()
    assert "四年，一条街巷的移动探头" in read("stories/index.html")

    restriction.delete()
    build_site()
    assert_present(story, SECRET)
    assert SECRET in read("stories/tag/jie-ri-guan-huai/index.html")


def test_a_restriction_on_a_section_takes_its_pages_off_too(stories, site_dir):
    playbook, chapters = make_playbook(stories["home"])
    build_site(full=True)
    assert 'href="/playbook/"' in read("index.html")
    PageViewRestriction.objects.create(page=playbook, restriction_type="login")
    build_site()
    live = current_release_dir()
    assert not (live / "playbook").exists()
    for page in (playbook, *chapters):
        assert not (live / f"api/v2/pages/{page.pk}").exists()
        for rel in (*sitemap_files(live), "api/v2/pages/index.json", "search/index.html"):
            assert page.title not in read(rel), rel
    assert "/playbook/" not in sitemap_text(live)
    assert not any(url.startswith("/playbook/") for url in indexed_urls(live))
    assert 'href="/playbook/"' not in read("index.html"), "the main menu no longer links to the section"
    assert "四年，一条街巷的移动探头" in read("stories/index.html")


def test_restricting_and_opening_a_page_in_the_cms_triggers_a_build(
    stories, site_dir, settings, django_capture_on_commit_callbacks
):
    settings.SITE_AUTO_BUILD = True
    build_site(full=True)
    story = stories["stories"][1]
    with django_capture_on_commit_callbacks(execute=True):
        restriction = PageViewRestriction.objects.create(page=story, restriction_type="password", password="x1y2z3")
    assert BuildRequest.objects.filter(reason__contains=SECRET).exists()
    assert_absent(story, SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        restriction.delete()
    assert_present(story, SECRET)


def html_urls(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "html_url" and item is not None:
                yield item
            else:
                yield from html_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from html_urls(item)


def test_the_static_api_names_only_the_public_site(stories, site_dir, settings):
    home, street = stories["home"], stories["street"]
    make_playbook(home)
    make_training(home)
    make_model(home, [street])
    build_site(full=True)
    live = current_release_dir()
    base = settings.PUBLIC_BASE_URL
    other_hosts = {"localhost", "127.0.0.1", "testserver", urlsplit(settings.WAGTAILADMIN_BASE_URL).hostname}
    documents = sorted((live / "api").rglob("*.json"))
    assert len(documents) > 15
    seen = 0
    for path in documents:
        text = path.read_text()
        for host in other_hosts:
            assert host not in text, f"{path.relative_to(live)} names {host}"
        for url in html_urls(json.loads(text)):
            assert url.startswith(base + "/"), f"{path.relative_to(live)}: {url}"
            seen += 1
    assert seen > 30
    story = json.loads(read(f"api/v2/pages/{stories['stories'][0].pk}/index.json"))
    assert story["meta"]["parent"]["meta"]["html_url"] == f"{base}/stories/"


def test_the_release_check_refuses_an_api_document_that_points_at_a_development_host():
    doc = json.dumps({"id": 4, "meta": {"parent": {"meta": {"html_url": "http://localhost/stories/"}}}})
    _links, problems = examine("api/v2/pages/5/index.json", doc)
    assert problems == ["cms-host|api/v2/pages/5/index.json：含有指向后台或开发地址的网址 http://localhost"]
    public = json.dumps({"meta": {"html_url": "https://xiaoge.example.cn/stories/"}})
    assert examine("api/v2/pages/5/index.json", public) == ([], [])


def test_the_live_api_gives_the_parent_on_the_public_site(stories, client, settings):
    story = stories["stories"][0]
    response = client.get(f"/api/v2/pages/{story.pk}/")
    assert response.status_code == 200
    parent = response.json()["meta"]["parent"]
    assert parent["meta"]["html_url"] == f"{settings.PUBLIC_BASE_URL}/stories/"
    assert not re.search(r"https?://(localhost|testserver)", response.content.decode())


@pytest.mark.parametrize("change", ["unpublish", "restrict", "delete"])
def test_a_rollback_that_would_bring_back_a_page_no_longer_public_is_refused(stories, site_dir, change):
    build_site(full=True)
    story = stories["stories"][1]
    path = f"/stories/{story.slug}/"
    make_story(stories["index"], title="新的一篇", date=datetime.date(2023, 4, 1))
    build_site()
    if change == "unpublish":
        story.unpublish()
    elif change == "restrict":
        PageViewRestriction.objects.create(page=story, restriction_type="password", password="x1y2z3")
    else:
        story.delete()
    build_site()
    live = current_release_dir()
    assert not (live / path.strip("/")).exists()

    with pytest.raises(BuildFailed) as err:
        rollback()
    why = {"unpublish": "已取消发布", "restrict": "已设为私密（访问限制）", "delete": "已删除"}[change]
    assert err.value.problems == [f"《{SECRET}》（{path}）：{why}"]
    assert "拒绝回滚" in str(err.value)
    assert current_release_dir() == live, "the live site did not change"
    assert Release.objects.get(status=Release.STATUS_LIVE).name == live.name

    err_out = io.StringIO()
    with pytest.raises(CommandError, match="拒绝回滚"):
        call_command("site_rollback", stderr=err_out)
    assert f"《{SECRET}》（{path}）：{why}" in err_out.getvalue()
    assert current_release_dir() == live


def test_a_rollback_of_a_release_whose_pages_are_all_still_public_goes_ahead(stories, site_dir):
    build_site(full=True)
    first = current_release_dir()
    story = stories["stories"][1]
    story.unpublish()
    build_site()
    story.get_latest_revision().publish()  # published again: the releases after this are all public
    build_site()
    make_story(stories["index"], title="新的一篇", date=datetime.date(2023, 4, 1))
    build_site()
    out = io.StringIO()
    call_command("site_rollback", stdout=out)
    assert "已回滚" in out.getvalue()
    assert current_release_dir() != first  # the release before the live one
    assert "新的一篇" not in read("stories/index.html") and SECRET in read("stories/index.html")
