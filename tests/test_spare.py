"""An incremental build's folder recycled from a release old enough to be pruned (cms/publishing/spare.py),
instead of a `cp -al` of the live release: after any sequence of publishes it holds the live release file for
file, and no release that stays is changed through a shared link."""

import datetime
import hashlib
import random
from pathlib import Path

import pytest

from cms.publishing.builder import Builder, build_site, process_requests
from cms.publishing.files import linked_copy
from cms.publishing.models import BuildRequest, Release
from cms.publishing.releases import current_release_dir, load_manifest, site_dir, spare_dir
from cms.publishing.search import index as search_index
from cms.publishing.spare import bring_up_to_date
from cms.stories.models import StoryPage
from tests.support.helpers import make_image, make_story, random_step

pytestmark = pytest.mark.django_db


def files_of(folder: Path, inodes: bool = False) -> dict[str, object]:
    """Every file under folder (the search index too): its bytes' digest, and its inode if asked."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(folder))] = (digest, path.stat().st_ino) if inodes else digest
    return out


def differences(a: dict, b: dict) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))[:10]


class Editors:
    """Random work on the site: new stories (with a picture or not), edits, pictures changed or taken away,
    stories unpublished and published again."""

    def __init__(self, index, rng: random.Random):
        self.index, self.rng, self.made = index, rng, 0
        self.images = [make_image(title=f"图{k}", color=c) for k, c in enumerate(("#0b4f8a", "#8a0b4f"))]

    def new(self) -> int:
        self.made += 1
        story = make_story(
            self.index,
            title=f"第{self.made}篇",
            date=datetime.date(2023, 1, 1 + self.rng.randrange(20)),
            tags=self.rng.sample(["驿站", "培训", "隐患上报"], self.rng.randint(0, 2)),
            image=self.rng.choice([None, *self.images]),
            sources=[],
        )
        return story.pk

    def edit(self) -> int | None:
        stories = list(StoryPage.objects.order_by("pk"))
        if not stories:
            return None
        story = self.rng.choice(stories)
        if self.rng.random() < 0.5:
            story.hero_image = self.rng.choice([None, *self.images])
        self.made += 1
        story.summary = f"第{self.made}次改过的摘要。"
        story.save_revision().publish()
        return story.pk

    def step(self) -> set[int]:
        return random_step(self.rng, self.new, self.edit)


@pytest.fixture
def site(tmp_path, settings):
    settings.SITE_DIR = tmp_path / "site"
    return settings.SITE_DIR


@pytest.mark.parametrize("seed", range(3))
def test_any_old_release_brought_up_to_date_holds_the_live_release(tree, site, settings, monkeypatch, seed):
    """Every release a sequence of builds left (compactions of the search index among them), copied and
    brought up to date from its manifest and the live one's, equals the live release: same files, same
    bytes, the search index, the pictures and the top folder's unlisted files included."""
    settings.SITE_RELEASES_KEEP = 100
    monkeypatch.setattr(search_index, "DELTA_LIMIT", 3)  # new bases of the search index along the way
    _home, index = tree
    editors = Editors(index, random.Random(seed))  # noqa: S311 - reproducible test data
    for _ in range(4):
        editors.new()
    build_site(full=True)
    for _ in range(7):
        for _ in range(2):
            editors.step()
        build_site()
    live = current_release_dir()
    want = files_of(live)
    old = [r.name for r in Release.objects.filter(status=Release.STATUS_SUPERSEDED).order_by("pk")]
    assert len(old) >= 6
    for name in old:
        folder = site_dir() / "releases" / name
        before = files_of(folder, inodes=True)
        copy = site_dir() / "releases" / f"copy-{name}"
        linked_copy(folder, copy)
        (copy / "sw-old.js").write_text("// 不再发布的文件")  # a file at a fixed URL no longer in the release
        bring_up_to_date(copy, load_manifest(name), live, load_manifest(live.name))
        got = files_of(copy)
        assert got == want, (name, differences(got, want))
        assert files_of(folder, inodes=True) == before, f"{name} changed through a shared link"


def test_a_stream_of_publishes_recycles_old_releases_and_equals_a_full_build(tree, site, settings):
    """Publishes one after the other, with no idle moment between them (as under ten editors): each build
    after the first few takes the folder of a release beyond SITE_RELEASES_KEEP instead of copying the live
    one; the kept releases keep every byte and inode; the result is what a full build makes; the idle worker
    then makes its spare copy the same way."""
    settings.SITE_RELEASES_KEEP = 2
    _home, index = tree
    editors = Editors(index, random.Random(7))  # noqa: S311 - reproducible test data
    for _ in range(4):
        editors.new()
    build_site(full=True)
    reports = []
    for _ in range(8):
        changed = editors.step()
        kept = {r.name: files_of(site_dir() / "releases" / r.name, inodes=True) for r in kept_releases()}
        result = Builder(reason="发布", changed=changed, housekeeping=False).run()
        reports.append(result.release.report)
        for name, before in kept.items():
            if (site_dir() / "releases" / name).is_dir():
                assert files_of(site_dir() / "releases" / name, inodes=True) == before, f"kept release {name} changed"
    recycled = [r for r in reports if "旧版本文件夹改了" in r]
    assert len(recycled) >= 5, reports
    assert Release.objects.filter(status=Release.STATUS_PRUNED).count() >= len(recycled)
    live = current_release_dir()
    incremental = files_of(live)
    BuildRequest.objects.create(reason="空闲")
    process_requests()  # nothing to build: the idle worker makes its spare copy from an old release
    assert files_of(spare_dir(live)) == incremental
    build_site(full=True)
    full = files_of(current_release_dir())
    without_search = {k: v for k, v in incremental.items() if not k.startswith("searchindex/")}
    assert without_search == {k: v for k, v in full.items() if not k.startswith("searchindex/")}, differences(
        without_search, full
    )


def kept_releases() -> list[Release]:
    return list(Release.objects.filter(status__in=[Release.STATUS_LIVE, Release.STATUS_SUPERSEDED]))


def test_a_file_whose_twins_changed_loses_the_old_twins(tmp_path, settings):
    """Same bytes, other twins (a file no longer worth compressing, say): the recycled folder has the live
    release's twins, not the old release's."""
    settings.SITE_EXTRA_FILES = []
    live, old = tmp_path / "live", tmp_path / "old"
    for folder in (live, old):
        (folder / "a").mkdir(parents=True)
        (folder / "a" / "index.html").write_text("页面")
    (old / "a" / "index.html.gz").write_bytes(b"old twin")
    (live / "a" / "index.html.br").write_bytes(b"new twin")
    entry = {"sha": "1", "size": 6}
    bring_up_to_date(old, {"files": {"a/index.html": {**entry, "twins": [".gz"]}}}, live,
                     {"files": {"a/index.html": {**entry, "twins": [".br"]}}})  # fmt: skip
    assert files_of(old) == files_of(live)
