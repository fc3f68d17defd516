"""The static release: what it holds, how little a publish renders, what blocks it, and that the live site
never changes unless a verified release is swapped in."""

import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from cms.core.models import Tag
from cms.publishing.builder import build_site, process_requests
from cms.publishing.models import BuildRequest, Release
from cms.publishing.releases import BuildFailed, current_release_dir, rollback
from cms.publishing.search import IndexReader
from cms.publishing.worker import worker
from cms.stories.models import StoryPage
from tests.support.helpers import make_image, make_person, make_story, make_street, sitemap_files, sitemap_text

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def site_dir(tmp_path, settings):
    settings.SITE_DIR = tmp_path / "site"
    return settings.SITE_DIR


@pytest.fixture
def stories(tree, site_dir):
    home, index = tree
    street = make_street()
    person = make_person(street=street)
    image = make_image()
    made = [
        make_story(
            index,
            title="四年，一条街巷的移动探头",
            tags=["隐患上报"],
            people=[person],
            street=street,
            image=image,
            featured=True,
        ),
        make_story(index, title="小年夜的饺子", tags=["节日关怀"], street=street, date=datetime.date(2023, 1, 14)),
        make_story(index, title="写字楼里的骑士驿站", tags=["骑士驿站", "隐患上报"], date=datetime.date(2022, 12, 20)),
    ]
    return {"home": home, "index": index, "stories": made, "street": street, "image": image}


def read(rel: str) -> str:
    return (current_release_dir() / rel).read_text(encoding="utf-8")


def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def test_full_release_holds_every_public_route(stories, site_dir):
    result = build_site(full=True)
    live = current_release_dir()
    assert result.release.status == Release.STATUS_LIVE and live.parent == site_dir / "releases"
    for rel in [
        "index.html",
        "stories/index.html",
        "stories/feed.xml",
        "stories/tag/yin-huan-shang-bao/index.html",
        "stories/street/taoranting/index.html",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        "search/index.html",
        "searchindex/index.json",
        f"api/v2/pages/{stories['stories'][0].pk}/index.json",
        "api/v2/pages/index.json",
    ]:
        assert (live / rel).is_file(), rel
    story_html = read(f"stories/{stories['stories'][0].slug}/index.html")
    assert "刘阔每天骑着三轮车穿过胡同" in story_html
    assert "https://xiaoge.example.cn/stories/" in story_html and "testserver" not in story_html
    css = [p for p in (live / "static/css").iterdir() if p.suffix == ".css"]
    assert css and all(p.name != "site.css" for p in css), "static assets carry hashed names"
    assert (css[0].with_name(css[0].name + ".gz")).exists() and (css[0].with_name(css[0].name + ".br")).exists()
    media = list((live / "media").rglob("*.*"))
    assert media and all("original_images" not in str(p) for p in media), "only renditions, never originals"
    doc = json.loads(read(f"api/v2/pages/{stories['stories'][0].pk}/index.json"))
    assert doc["title"] == "四年，一条街巷的移动探头" and doc["meta"]["html_url"].startswith(
        "https://xiaoge.example.cn/"
    )
    assert "https://xiaoge.example.cn/stories/" in sitemap_text(live)


def test_release_passes_the_shared_release_check(stories, site_dir):
    build_site(full=True)
    checker = ROOT.parent / "shared" / "tools" / "check_release.py"
    if not checker.exists():
        pytest.skip("shared/tools/check_release.py is not beside the project")
    result = subprocess.run([sys.executable, str(checker), str(site_dir / "current")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_publishing_a_story_renders_only_what_shows_it(stories, site_dir):
    first = build_site(full=True)
    old = current_release_dir()
    new_story = make_story(stories["index"], title="开学季的志愿岗", tags=["志愿服务"], date=datetime.date(2023, 3, 30))
    result = build_site()
    new = current_release_dir()
    assert new != old
    assert result.rendered < first.rendered / 2
    assert "开学季的志愿岗" in read("stories/index.html")
    assert "开学季的志愿岗" in read("stories/feed.xml")
    assert "开学季的志愿岗" in read("index.html")
    assert (new / "stories/tag/zhi-yuan-fu-wu/index.html").exists()
    assert (new / f"stories/{new_story.slug}/index.html").exists()
    # An older story's page did not change: it is the same file, shared by hard link.
    older = f"stories/{stories['stories'][2].slug}/index.html"
    assert os.stat(old / older).st_ino == os.stat(new / older).st_ino


def test_unpublishing_removes_the_page_everywhere(stories, site_dir):
    build_site(full=True)
    gone = stories["stories"][1]
    gone.unpublish()
    build_site()
    live = current_release_dir()
    assert not (live / f"stories/{gone.slug}").exists()
    for rel in (
        "stories/index.html",
        "stories/feed.xml",
        *sitemap_files(live),
        "api/v2/pages/index.json",
        "index.html",
    ):
        assert "小年夜的饺子" not in read(rel) and f"/{gone.slug}/" not in read(rel), rel
    assert not (live / f"api/v2/pages/{gone.pk}/index.json").exists()


def test_nothing_changed_means_no_new_release(stories, site_dir):
    build_site(full=True)
    assert build_site().skipped


def test_an_id_number_blocks_the_release_and_says_where(stories, site_dir):
    build_site(full=True)
    live_before = tree_hash(current_release_dir())
    # Pages cannot be published with it (tests/test_editorial.py); a snippet is not a page, so the
    # release check is what stops it there.
    street = stories["street"]
    street.summary = "联系人身份证号 11010519491231002X，请勿外传。"
    street.save()
    with pytest.raises(BuildFailed) as err:
        build_site()
    report = "\n".join(err.value.problems)
    assert "身份证号码" in report and "stories/street/taoranting/" in report
    assert "11010519491231002X" not in report, "the report masks the number"
    assert tree_hash(current_release_dir()) == live_before
    assert Release.objects.first().status == Release.STATUS_FAILED


def test_a_broken_internal_link_blocks_the_release(stories, site_dir):
    build_site(full=True)
    make_story(stories["index"], title="坏链接", body=[("paragraph", '<p>见<a href="/no/such/page/">这里</a>。</p>')])
    with pytest.raises(BuildFailed) as err:
        build_site()
    assert any("/no/such/page/index.html" in p and "huai-lian-jie" in p for p in err.value.problems), err.value.problems


def test_rollback_makes_the_previous_release_live_in_under_a_second(stories, site_dir):
    build_site(full=True)
    first = current_release_dir()
    make_story(stories["index"], title="新的一篇", date=datetime.date(2023, 4, 1))
    build_site()
    assert current_release_dir() != first
    started = time.monotonic()
    rollback()
    assert time.monotonic() - started < 1
    assert current_release_dir() == first
    assert "新的一篇" not in read("stories/index.html")


def test_old_releases_are_pruned(stories, site_dir, settings):
    settings.SITE_RELEASES_KEEP = 2
    build_site(full=True)
    for n in range(3):
        make_story(stories["index"], title=f"第{n}篇新故事", date=datetime.date(2023, 4, n + 1))
        build_site()
    releases = site_dir / "releases"
    assert len([f for f in releases.iterdir() if not f.name.startswith(".trash-")]) == 2
    # Removed in the background (a large release is 150,000 files): gone soon, without holding up a build.
    for _ in range(100):
        if not list(releases.glob(".trash-*")):
            break
        time.sleep(0.1)
    assert sorted(f.name for f in releases.iterdir()) == sorted(
        Release.objects.exclude(status=Release.STATUS_PRUNED)
        .exclude(status=Release.STATUS_FAILED)
        .values_list("name", flat=True)
    )


def test_publish_in_the_cms_triggers_a_build(stories, site_dir, settings, django_capture_on_commit_callbacks):
    settings.SITE_AUTO_BUILD = True
    build_site(full=True)
    story = make_story(stories["index"], title="自动发布的故事", publish=False, date=datetime.date(2023, 5, 1))
    with django_capture_on_commit_callbacks(execute=True):
        story.get_latest_revision().publish()
    assert "自动发布的故事" in read("stories/index.html")


def test_editing_a_street_renders_its_pages_again(stories, site_dir):
    build_site(full=True)
    street = stories["street"]
    street.summary = "新的街道简介。"
    street.save()
    result = build_site()
    assert "新的街道简介" in read("stories/street/taoranting/index.html")
    assert result.rendered < 20


def test_killing_a_build_leaves_the_live_site_byte_identical(tmp_path):
    """A real build in another process, killed at several moments: site/current never changes."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SITE_DIR": str(tmp_path / "site"),
        "SITE_AUTO_BUILD": "false",
    }

    def manage(*args, **kw):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, **kw
        )

    for args in (["migrate", "-v0"], ["bootstrap_site", "--no-admin"], ["import_content", "--publish"], ["build_site"]):
        result = manage(*args)
        assert result.returncode == 0, result.stderr[-2000:]
    live = (tmp_path / "site" / "current").resolve()
    before = tree_hash(tmp_path / "site" / "current")
    for delay in (0.3, 0.9, 1.6, 2.4):
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "build_site", "--full"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.kill()
        proc.wait()
        current = (tmp_path / "site" / "current").resolve()
        if current != live:  # the build finished before the kill: that release was verified and swapped in
            live, before = current, tree_hash(tmp_path / "site" / "current")
            continue
        assert tree_hash(tmp_path / "site" / "current") == before
    assert manage("build_site").returncode == 0, "the next build recovers without manual repair"


def test_build_site_command_prints_a_summary(stories, site_dir, capsys):
    call_command("build_site")
    out = capsys.readouterr().out
    assert "已上线版本" in out and "个页面" in out and "秒" in out


def test_the_page_editor_says_whether_the_static_site_shows_the_latest_version(
    stories, site_dir, client, django_user_model
):
    admin = django_user_model.objects.create_superuser("reviewer", "r@example.org", "pw")
    client.force_login(admin)
    story = stories["stories"][0]
    html = client.get(f"/admin/pages/{story.pk}/edit/").content.decode()
    assert "最新发布的版本正在构建" in html
    build_site(full=True)
    html = client.get(f"/admin/pages/{story.pk}/edit/").content.decode()
    assert "静态网站：已显示最新发布的版本" in html
    releases = client.get("/admin/releases/").content.decode()
    assert Release.objects.first().name in releases
    assert client.get("/admin/releases/new/").status_code in (302, 403), "releases are made by builds only"


def test_deleting_a_story_and_renaming_a_tag_update_the_site(stories, site_dir):
    build_site(full=True)
    doomed = stories["stories"][2]
    doomed.delete()
    tag = Tag.objects.get(name="隐患上报")
    tag.name = "隐患随手拍"
    tag.save()
    result = build_site()
    live = current_release_dir()
    assert not (live / f"stories/{doomed.slug}").exists()
    assert "写字楼里的骑士驿站" not in read("stories/index.html")
    assert "隐患随手拍" in read(f"stories/{stories['stories'][0].slug}/index.html")
    assert "标签：隐患随手拍" in read(f"stories/tag/{tag.slug}/index.html")
    assert result.rendered < 25


def test_a_burst_of_requests_makes_one_build(stories, site_dir):
    for n in range(5):
        BuildRequest.objects.create(reason=f"发布第{n}篇")
    results = process_requests()
    assert len(results) == 1 and results[0].release.status == Release.STATUS_LIVE
    assert not BuildRequest.objects.filter(done=False).exists()
    assert "发布第0篇" in results[0].release.reason


SPARE_SCRIPT = r"""
import hashlib
from cms.publishing.builder import build_site, process_requests
from cms.publishing.releases import current_release_dir, spare_dir
from cms.publishing.models import BuildRequest
from cms.stories.models import StoryPage

def tree(folder, inodes=True):
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and rel.parts[0] != "searchindex":
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(rel)] = (digest, path.stat().st_ino) if inodes else digest
    return out

BuildRequest.objects.create(reason="idle")
process_requests()  # nothing to build; the idle worker prepares its spare copy of the live release
live = current_release_dir()
assert spare_dir(live).is_dir(), "spare copy prepared"
before = tree(live)
story = StoryPage.objects.live().order_by("-date", "-pk").first()
story.summary = "一句新的摘要。"
story.save_revision().publish()
BuildRequest.objects.create(reason="edit", pages=[story.pk])
[result] = process_requests()
assert "备用副本" in result.release.report, result.release.report
assert "签名：按 1 个改动的页面" in result.release.report, result.release.report
assert 4 <= result.rendered < 40, result.rendered
assert tree(live) == before, "the previous release is untouched: same bytes, same files"
incremental = current_release_dir()
assert incremental != live and spare_dir(incremental).is_dir()
assert "一句新的摘要" in (incremental / story.url_path.split("/", 2)[2] / "index.html").read_text()
build_site(full=True)
a, b = tree(incremental, inodes=False), tree(current_release_dir(), inodes=False)
assert a == b, ("incremental == full", sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))[:10])
print("SPARE-OK")
"""


def test_an_incremental_build_from_the_spare_copy_equals_a_full_build(tmp_path):
    """The worker's spare hard-link copy and the two-process render of a small build (file database, as in
    production): the previous release keeps every byte and inode, and the result equals a full build."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SITE_DIR": str(tmp_path / "site"),
        "SITE_AUTO_BUILD": "false",
    }
    for args in (
        ["migrate", "-v0"],
        ["bootstrap_site", "--no-admin"],
        ["import_content", "--publish"],
        ["build_site"],
        ["shell", "-c", SPARE_SCRIPT],
    ):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "SPARE-OK" in result.stdout


def test_a_build_killed_while_making_the_search_index_leaves_the_live_site_as_it_was(stories, site_dir, monkeypatch):
    """The search index is made inside the release before it goes live: killed there, nothing changes."""
    from cms.publishing import builder

    build_site(full=True)
    before = current_release_dir()
    make_story(stories["index"], title="搜索索引做到一半", tags=["隐患上报"], date=datetime.date(2023, 4, 1))

    def killed(out, *args, **kwargs):
        (out / "searchindex" / "c-half.bin").write_bytes(b"\x05")
        raise KeyboardInterrupt  # as a SIGKILL would stop it while it writes the index

    monkeypatch.setattr(builder, "update_index", killed)
    with pytest.raises(KeyboardInterrupt):
        build_site()
    assert current_release_dir() == before and "搜索索引做到一半" not in read("stories/index.html")
    assert IndexReader(before).find("搜索索引") == set()
    monkeypatch.undo()
    build_site()
    assert "搜索索引做到一半" in read("stories/index.html")
    assert IndexReader(current_release_dir()).find("搜索索引做到一半") == {
        f"/stories/{StoryPage.objects.get(title='搜索索引做到一半').slug}/"
    }


def test_a_compaction_killed_halfway_is_done_by_the_next_build(stories, site_dir, monkeypatch):
    """Past the delta's limit, the publish goes live with the delta and a second release folds it into a new
    base. Killed while it does, the live search still works, and the next build finishes the job."""
    from cms.publishing import builder, compaction
    from cms.publishing.search import index

    build_site(full=True)
    monkeypatch.setattr(index, "DELTA_LIMIT", 0)
    story = make_story(stories["index"], title="合并索引做到一半", date=datetime.date(2023, 4, 1))
    real = builder.update_index

    def killed_when_compacting(out, docs, previous, put, *, compact, **kwargs):
        if previous is None and compact:
            raise KeyboardInterrupt
        return real(out, docs, previous, put, compact=compact, **kwargs)

    monkeypatch.setattr(builder, "update_index", killed_when_compacting)  # the publish's delta
    monkeypatch.setattr(compaction, "update_index", killed_when_compacting)  # the new base, after the publish
    with pytest.raises(KeyboardInterrupt):
        build_site()
    page_release = current_release_dir()
    url = f"/stories/{story.slug}/"
    assert IndexReader(page_release).find("合并索引") == {url}, "live, with the story in the delta"
    assert json.loads((page_release / "searchindex/index.json").read_text())["segments"][1]["n"] == 1
    monkeypatch.setattr(builder, "update_index", real)
    monkeypatch.setattr(compaction, "update_index", real)
    result = build_site()  # nothing changed, but the compaction never went live
    live = Release.objects.get(status=Release.STATUS_LIVE)
    assert live.content_of is not None and live.content_of.name == page_release.name
    assert result.release is not None and current_release_dir().name == live.name
    entry = json.loads((current_release_dir() / "searchindex/index.json").read_text())
    assert entry["segments"][1]["n"] == 0 and not entry["segments"][0]["dead"], "all in the new base"
    assert IndexReader(current_release_dir()).find("合并索引") == {url}
    assert build_site().skipped, "and then nothing more to do"


def test_search_records_no_kept_release_uses_are_removed_when_the_index_is_folded(
    stories, site_dir, monkeypatch, settings
):
    from cms.publishing.search import index

    settings.SITE_RELEASES_KEEP = 1
    build_site(full=True)
    story = stories["stories"][0]
    for n in range(3):
        story.title = f"改了第{n}次的标题"
        story.save_revision().publish()
        build_site()
    records = {p.stem for p in (site_dir / "search-records").rglob("*.json")}
    assert len(records) >= len(search_docs_of_live()) + 3, "old versions are kept until the index is folded"
    monkeypatch.setattr(index, "DELTA_LIMIT", 0)
    story.title = "最后的标题"
    story.save_revision().publish()
    build_site()
    records = {p.stem for p in (site_dir / "search-records").rglob("*.json")}
    assert records == set(search_docs_of_live().values())
    assert IndexReader(current_release_dir()).find("最后的标题") == {f"/stories/{story.slug}/"}


def search_docs_of_live() -> dict:
    from cms.publishing.releases import load_manifest, search_docs

    return search_docs(load_manifest(current_release_dir().name)["files"])


def test_a_full_disk_after_the_swap_leaves_the_release_live(stories, site_dir, monkeypatch):
    from cms.publishing import builder

    build_site(full=True)
    make_story(stories["index"], title="磁盘满了也已上线", date=datetime.date(2023, 4, 2))

    def full_disk(name, manifest):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(builder, "save_manifest", full_disk)
    result = build_site()
    assert result.release.status == Release.STATUS_LIVE and "没有写入" in result.release.report
    assert "磁盘满了也已上线" in read("stories/index.html")
    monkeypatch.undo()
    # Space again: the next build writes the manifest it kept, and needs to render nothing.
    assert build_site().skipped
    live = current_release_dir().name
    assert (site_dir / "manifests" / f"{live}.json").exists()
    # And the publish after that is incremental, as if the disk had never been full.
    make_story(stories["index"], title="空间回来以后", date=datetime.date(2023, 4, 3))
    result = build_site()
    assert not result.release.full and 0 < result.rendered < 40, result.rendered
    assert "空间回来以后" in read("stories/index.html")


def test_a_full_disk_that_stays_full_still_builds_incrementally(stories, site_dir, monkeypatch):
    """With the manifest still unwritten, the next build works from the one kept in memory: a build without
    a manifest would render every file anew and need a release's worth of free space."""
    from cms.publishing import builder

    build_site(full=True)
    make_story(stories["index"], title="第一次磁盘满", date=datetime.date(2023, 4, 2))

    def full_disk(name, manifest):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(builder, "save_manifest", full_disk)
    build_site()
    make_story(stories["index"], title="第二次磁盘满", date=datetime.date(2023, 4, 3))
    result = build_site()
    assert not result.release.full and 0 < result.rendered < 40, result.rendered
    assert "第二次磁盘满" in read("stories/index.html") and "第一次磁盘满" in read("stories/index.html")


def test_a_half_written_manifest_is_cleared_away(stories, site_dir):
    build_site(full=True)
    part = site_dir / "manifests" / "20200101-000000-000000.part"
    part.write_text('{"files": {')
    make_story(stories["index"], title="清理半截清单", date=datetime.date(2023, 4, 2))
    build_site()
    assert not part.exists()


def _sitemap_urls_by_file(release: Path) -> dict[str, list[str]]:
    return {
        rel: re.findall(r"<loc>https://xiaoge\.example\.cn([^<]+)</loc>", (release / rel).read_text())
        for rel in sitemap_files(release)[1:]
    }


def _assert_sitemap_signatures_as_a_full_reading_gives():
    from cms.publishing import routes

    kept = worker.signatures[1]
    assert kept.incremental
    fresh = routes.collect(routes.site_root(), kept.extra)
    assert {u: r.signature for u, r in fresh.routes.items() if "sitemap" in u} == {
        u: r.signature for u, r in kept.routes.items() if "sitemap" in u
    }, "the incremental pass's sitemap signatures are those of a full reading"


def test_the_sitemap_is_split_into_files_and_a_publish_renders_only_the_one_that_lists_the_page(
    stories, site_dir, monkeypatch
):
    """/sitemap.xml is an index of sitemap files, each holding the URLs of its buckets. Lowered from 5,000 URLs
    per file to 4, this small site takes several files; an edit renders again only the file that lists the
    page, the incremental signatures equal a full reading's, and when the number of files grows the old
    files leave the release."""
    from cms.publishing import builder, routes

    monkeypatch.setattr(routes, "SITEMAP_CHUNK", 4)
    # The idle worker's own check would replace the incremental pass with a full reading: compared here instead.
    monkeypatch.setattr(builder, "check_signatures", lambda: None)
    build_site(full=True)
    old = current_release_dir()
    by_file = _sitemap_urls_by_file(old)
    listed = [url for urls in by_file.values() for url in urls]
    assert len(by_file) >= 2 and all(by_file.values()), by_file
    every_page = sorted(r.url for r in routes.collect(routes.site_root()).routes.values() if routes.in_sitemap(r))
    assert sorted(listed) == every_page, "each page URL in exactly one file"
    assert all(name.startswith("sitemap-") and "/" not in name for name in by_file), "at the site's root"

    story = stories["stories"][1]
    story.summary = "一句新的摘要。"
    story.save_revision().publish()
    BuildRequest.objects.create(reason="edit", pages=[story.pk])
    [result] = process_requests()
    assert "签名：按 1 个改动的页面" in result.release.report, result.release.report
    new = current_release_dir()
    holder = next(rel for rel, urls in by_file.items() if story.url in urls)
    rendered_again = [rel for rel in by_file if os.stat(old / rel).st_ino != os.stat(new / rel).st_ino]
    assert rendered_again == [holder]
    _assert_sitemap_signatures_as_a_full_reading_gives()

    gone = stories["stories"][2]
    gone.unpublish()
    BuildRequest.objects.create(reason="unpublish", pages=[gone.pk])
    process_requests()
    _assert_sitemap_signatures_as_a_full_reading_gives()
    every_page = sorted(r.url for r in routes.collect(routes.site_root()).routes.values() if routes.in_sitemap(r))
    assert gone.url not in every_page and "/stories/tag/qi-shi-yi-zhan/" not in every_page, "its tag page went too"
    assert sorted(url for urls in _sitemap_urls_by_file(current_release_dir()).values() for url in urls) == every_page

    monkeypatch.setattr(routes, "SITEMAP_CHUNK", 1)  # as if the site had doubled
    story.summary = "又一句摘要。"
    story.save_revision().publish()
    BuildRequest.objects.create(reason="edit", pages=[story.pk])
    process_requests()
    grown = _sitemap_urls_by_file(current_release_dir())
    assert len(grown) > len(by_file) and not set(grown) & set(by_file), (sorted(grown), sorted(by_file))
    assert not any((current_release_dir() / rel).exists() for rel in by_file), "the old files left the release"
    assert sorted(url for urls in grown.values() for url in urls) == every_page


def test_a_publish_compares_only_the_routes_it_touched_and_agrees_with_comparing_every_route(
    stories, site_dir, monkeypatch
):
    """A pass in sync with the live release, brought up to date for the pages a request names, knows which
    URLs it touched: the build compares only those with the manifest (not every route of a large site), keeps
    each asset's users from the last build, and reads search records only for the files it touched. Each step
    here is checked against comparing every route, and the manifest against a full build's."""
    from cms.publishing import builder
    from cms.publishing.releases import load_manifest

    used = []
    real = builder.changes_among

    def checked(routes, prev_files, touched):
        result = real(routes, prev_files, touched)
        everything = builder.changed_routes(routes, prev_files, False)
        removed = set(prev_files) - {r.file for r in routes.values()}
        assert result is not None
        assert sorted(r.url for r in result[0]) == sorted(r.url for r in everything) and result[1] == removed
        used.append(len(touched))
        return result

    monkeypatch.setattr(builder, "changes_among", checked)

    def publish(pages):
        BuildRequest.objects.create(reason="test", pages=[p.pk for p in pages])
        process_requests()
        manifest = load_manifest(current_release_dir().name)
        union = sorted({a for meta in manifest["files"].values() for a in meta.get("assets", [])})
        assert manifest["assets"] == union, "the asset counts give the union of every file's assets"

    build_site(full=True)
    new = make_story(
        stories["index"], title="开学季的志愿岗", tags=["志愿服务"], date=datetime.date(2023, 3, 30), image=make_image()
    )
    publish([new])
    assert "开学季的志愿岗" in read("stories/index.html")
    with_image = set(load_manifest(current_release_dir().name)["assets"])
    edited = stories["stories"][0]
    edited.summary = "一句新的摘要。"
    edited.save_revision().publish()
    publish([edited])
    assert "一句新的摘要。" in read(f"stories/{edited.slug}/index.html")
    gone = stories["stories"][2]  # the only story tagged 骑士驿站: its tag page goes with it
    gone.unpublish()
    publish([gone])
    assert not (current_release_dir() / "stories/tag/qi-shi-yi-zhan").exists()
    new.unpublish()  # its image's renditions are used by no page any more
    publish([new])
    assert set(load_manifest(current_release_dir().name)["assets"]) < with_image
    assert len(used) == 4 and all(n < 60 for n in used), used

    incremental = load_manifest(current_release_dir().name)
    build_site(full=True)
    full = load_manifest(current_release_dir().name)
    assert {rel: meta["sig"] for rel, meta in incremental["files"].items()} == {
        rel: meta["sig"] for rel, meta in full["files"].items()
    }
    assert incremental["assets"] == full["assets"]
