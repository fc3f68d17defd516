"""A publish brings the previous build's signatures up to date instead of reading the whole site
(`routes.collect` with the pages it changed): after any sequence of publishes and unpublishes, every route's
signature and every story's related stories are what reading everything gives."""

import datetime
import random

import pytest
from wagtail.models import Page

from cms.home.models import InformationPage
from cms.publishing.builder import process_requests
from cms.publishing.models import BuildRequest, Release
from cms.publishing.routes import collect, site_root
from cms.stories.models import StoryPage, StoryRelatedPage
from tests.support.helpers import make_story, make_street, random_step

pytestmark = pytest.mark.django_db

# Two stories a day now and then (ties by id); a story may move between days or to a day before the others.
DATES = [datetime.date(2023, 1, d) for d in (2, 3, 9, 9, 20, 21)]
TAGS = ["驿站", "关爱老人", "隐患上报", "培训"]


def signatures(sig) -> dict[str, str]:
    return {url: route.signature for url, route in sig.routes.items()}


def same_as_reading_everything(sig):
    full = collect(site_root(), "test")
    assert signatures(sig) == signatures(full)
    assert {url: r.file for url, r in sig.routes.items()} == {url: r.file for url, r in full.routes.items()}
    assert sig.versions == full.versions and sig.paths == full.paths
    live = set(StoryPage.objects.live().values_list("pk", flat=True))
    assert {pk: ids for pk, ids in sig.state.related_stories.items() if pk in live} == full.state.related_stories
    return full


class Editor:
    """Random editors' work: new stories, edits of date, tags, street and picks, unpublishing, publishing
    again."""

    def __init__(self, index, rng: random.Random):
        self.index, self.rng = index, rng
        self.streets = [make_street(), make_street(name="回龙观街道", slug="huilongguan", district="昌平区")]
        self.made = 0

    def story_fields(self) -> dict:
        rng = self.rng
        return {
            "date": rng.choice(DATES),
            "tags": rng.sample(TAGS, rng.randint(0, 2)),
            "street": rng.choice([None, *self.streets]),
        }

    def pickable(self) -> list[Page]:
        return list(Page.objects.filter(depth__gte=3).order_by("pk"))

    def new_story(self) -> int:
        self.made += 1
        pages = self.pickable()
        related = self.rng.sample(pages, min(len(pages), self.rng.randint(0, 2))) if self.rng.random() < 0.3 else ()
        story = make_story(self.index, title=f"第{self.made}篇", related=related, sources=[], **self.story_fields())
        return story.pk

    def edit(self) -> int | None:
        stories = list(StoryPage.objects.order_by("pk"))
        if not stories:
            return None
        story = self.rng.choice(stories)
        fields = self.story_fields()
        kind = self.rng.choice(["date", "tags", "street", "picks", "title"])
        if kind == "date":
            story.date = fields["date"]
        elif kind == "tags":
            story.tags.set(fields["tags"])
        elif kind == "street":
            story.street = fields["street"]
        elif kind == "picks":
            pages = [p for p in self.pickable() if p.pk != story.pk]
            story.related_links = [StoryRelatedPage(related_page=p) for p in self.rng.sample(pages, min(len(pages), 2))]
        else:
            story.title += "（修改）"
        story.save_revision().publish()
        return story.pk

    def step(self) -> set[int]:
        return random_step(self.rng, self.new_story, self.edit)


@pytest.mark.parametrize("seed", range(6))
def test_a_publish_updates_the_signatures_as_reading_everything_would(tree, settings, seed):
    settings.STORIES_PER_PAGE = 2  # archive pages from the third story on, in every listing
    _home, index = tree
    editor = Editor(index, random.Random(seed))  # noqa: S311 - reproducible test data
    for _ in range(6):
        editor.new_story()
    sig = collect(site_root(), "test")
    incremental = 0
    for _ in range(25):
        changed = editor.step()
        previous_routes = dict(sig.routes)
        sig = collect(site_root(), "test", sig, changed)
        incremental += sig.incremental
        same_as_reading_everything(sig)
        assert changed or sig.routes == previous_routes
    assert incremental >= 20, "most publishes update the previous pass"


def test_several_pages_changed_at_once(tree, settings):
    """A burst: the build after several publishes and unpublishes (one BuildRequest each) updates once."""
    settings.STORIES_PER_PAGE = 2
    _home, index = tree
    editor = Editor(index, random.Random(11))  # noqa: S311 - reproducible test data
    for _ in range(8):
        editor.new_story()
    sig = collect(site_root(), "test")
    for _ in range(5):
        changed = set()
        for _ in range(4):
            changed |= editor.step()
        sig = collect(site_root(), "test", sig, changed)
        assert sig.incremental
        same_as_reading_everything(sig)


def test_a_change_of_the_menu_reads_everything(tree):
    """A page at the top of the tree is in every page's menu: the pass reads everything again."""
    home, index = tree
    make_story(index, title="一篇", sources=[])
    sig = collect(site_root(), "test")
    page = InformationPage(title="关于本站", slug="about", summary="关于。", body=[])
    home.add_child(instance=page)
    page.save_revision().publish()
    sig = collect(site_root(), "test", sig, {page.pk})
    assert not sig.incremental
    same_as_reading_everything(sig)


def test_a_forgotten_change_is_what_the_pass_misses(tree, settings):
    """The test above can fail: a pass told nothing about a published story differs from reading everything
    (the change set is what makes the update right)."""
    settings.STORIES_PER_PAGE = 2
    _home, index = tree
    for k in range(4):
        make_story(index, title=f"第{k}篇", date=DATES[k], tags=["驿站"], sources=[])
    sig = collect(site_root(), "test")
    story = make_story(index, title="漏掉的一篇", date=DATES[-1], tags=["驿站"], sources=[])
    sig = collect(site_root(), "test", sig, set())
    assert sig.incremental
    with pytest.raises(AssertionError):
        same_as_reading_everything(sig)
    assert f"{index.url_path[len(site_root().root_page.url_path) - 1 :]}{story.slug}/" not in sig.routes


@pytest.fixture
def site_dir(tmp_path, settings):
    settings.SITE_DIR = tmp_path / "site"
    return settings.SITE_DIR


def test_the_worker_builds_a_publish_from_its_last_pass(tree, site_dir, settings):
    """Through the worker: publish requests name their pages, the build updates the last pass (its report
    says so), the story is live, and a request without pages (a street edited) reads everything."""
    settings.SITE_AUTO_BUILD = True
    _home, index = tree
    street = make_street()
    for k in range(3):
        make_story(index, title=f"第{k}篇", street=street, sources=[])
    BuildRequest.objects.all().delete()
    BuildRequest.objects.create(reason="首次构建")
    [first] = process_requests()
    assert "签名：按" not in first.release.report
    story = make_story(index, title="新发布的一篇", sources=[])
    assert list(BuildRequest.objects.filter(done=False).values_list("pages", flat=True)) == [[story.pk]]
    [second] = process_requests()
    assert "签名：按 1 个改动的页面" in second.release.report, second.release.report
    assert (site_dir / "current" / story.url_path.split("/", 2)[2] / "index.html").exists()
    story.unpublish()
    [third] = process_requests()
    assert "签名：按 1 个改动的页面" in third.release.report
    assert not (site_dir / "current" / story.url_path.split("/", 2)[2] / "index.html").exists()
    street.summary = "街道的介绍改了。"
    street.save()
    [fourth] = process_requests()
    assert "签名：按" not in fourth.release.report
    assert Release.objects.filter(status=Release.STATUS_LIVE).get() == fourth.release


def test_the_idle_worker_catches_a_change_no_request_named(tree, site_dir, settings):
    """A story retitled with no request naming it (a script with the automatic build off): the publish build
    after it does not know of it, but the idle worker's check reads everything, finds the difference and
    builds it before it is idle."""
    _home, index = tree
    stories = [make_story(index, title=f"第{k}篇", sources=[]) for k in range(3)]
    BuildRequest.objects.all().delete()
    BuildRequest.objects.create(reason="首次构建")
    process_requests()
    settings.SITE_AUTO_BUILD = False
    forgotten = stories[0].specific
    forgotten.title = "没有人通知构建的新标题"
    forgotten.save_revision().publish()
    settings.SITE_AUTO_BUILD = True
    told = make_story(index, title="通知了构建的一篇", sources=[])
    results = process_requests()
    assert "签名：按 1 个改动的页面" in results[0].release.report
    assert len(results) == 2, [r.release.reason for r in results]
    assert results[1].release.reason.startswith("核对签名：")
    current = site_dir / "current"
    assert "没有人通知构建的新标题" in (current / forgotten.url_path.split("/", 2)[2] / "index.html").read_text()
    assert (current / told.url_path.split("/", 2)[2] / "index.html").exists()
    assert process_requests() == []  # the check, run again, finds nothing


def test_a_pass_that_misses_a_linked_page_is_built_again_from_a_full_reading(tree, site_dir, settings):
    """A story published with no request naming it is on the home page the next publish renders, yet not in
    the pass: the release check stops that build (the live site is unchanged), and the worker builds again
    from a full reading at once, so the publish that was asked for goes live with both."""
    _home, index = tree
    for k in range(3):
        make_story(index, title=f"第{k}篇", sources=[])
    BuildRequest.objects.all().delete()
    BuildRequest.objects.create(reason="首次构建")
    process_requests()
    settings.SITE_AUTO_BUILD = False
    forgotten = make_story(index, title="没有人通知构建的一篇", sources=[])
    settings.SITE_AUTO_BUILD = True
    told = make_story(index, title="通知了构建的一篇", sources=[])
    results = process_requests()
    assert [r.release.reason.endswith("（完整读取后重建）") for r in results] == [True]
    assert "签名：按" not in results[0].release.report
    failed = Release.objects.get(status=Release.STATUS_FAILED)
    assert "没有人通知构建的一篇" in failed.report or "mei-you-ren" in failed.report
    current = site_dir / "current"
    for story in (forgotten, told):
        assert (current / story.url_path.split("/", 2)[2] / "index.html").exists(), story.title
