"""The import as a whole: every bad file reported in one run, the command's summary and exit, a database without the
page tree, new and existing sections, importing the same tree twice, dry runs, block lengths. See
tests/support/import_fixtures.py (`refused`: refused whole, nothing written) and the `content` fixture in
tests/conftest.py."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from wagtail.models import Revision

from cms.content_io.importer import run_import
from cms.stories.models import StoryPage
from tests.support.import_fixtures import (
    BAD,
    GOOD_TITLE,
    add_bad_story,
    counts,
    good_tree,
    hero,
    jpeg_bytes,
    problem,
    refused,
    story,
    write_files,
)

pytestmark = pytest.mark.django_db


# == many problems at once ========================================================================
def test_every_bad_file_is_reported_not_only_the_first(content):
    add_bad_story(content, story(body="<script>alert(1)</script>"))
    write_files(
        content,
        {
            "stories/gbk.md": story("编码不对").encode("gbk"),
            "stories/dates.md": story(date="2023-02-30", extra="featured: NO\n"),
            "streets.yaml": "- name: 陶然亭街道\n",
        },
    )
    report = refused(content)
    problem(report, BAD, "<script>")
    problem(report, "stories/gbk.md", "GBK")
    problem(report, "stories/dates.md", "没有这一天")
    problem(report, "stories/dates.md", "只能是 true 或 false")
    problem(report, "streets.yaml#1", "缺少必填字段")
    assert "拒绝 4 个文件（5 个问题）" in report.summary()


# == the management command =======================================================================
@pytest.mark.parametrize(
    ("files", "said"),
    [
        ({BAD: "<script>alert(1)</script>"}, "缺少开头的 front matter"),
        ({BAD: story(body='<iframe src="x"></iframe>')}, "<iframe>"),
        ({"people.yaml": "- &a {name: x}\n- *a\n"}, "锚点"),
    ],
)
def test_the_command_stops_with_a_summary_and_never_a_traceback(content, capsys, files, said):
    write_files(content, files)
    before = counts()
    with pytest.raises(CommandError) as raised:
        call_command("import_content", str(content), "--publish")
    assert "拒绝 1 个文件" in str(raised.value) and "没有写入任何内容" in str(raised.value)
    assert said in capsys.readouterr().err
    assert counts() == before
    assert StoryPage.objects.get(slug="good").title == GOOD_TITLE


def test_the_command_refuses_a_path_that_is_not_a_folder(tree, tmp_path):
    with pytest.raises(CommandError, match="拒绝 1 个文件"):
        call_command("import_content", str(tmp_path / "nowhere"))


def test_the_command_writes_a_good_tree(tree, tmp_path, capsys):
    call_command("import_content", str(good_tree(tmp_path)), "--publish")
    assert "新建" in capsys.readouterr().out
    assert StoryPage.objects.live().count() == 2


# == a database without the page tree =============================================================
def test_stories_without_a_home_page_are_refused_not_crashed(tmp_path, db):
    # A fresh database has only Wagtail's placeholder page: there is no home page to put stories under.
    root = good_tree(tmp_path)
    before = counts()
    report, _ = run_import(root, publish=True)
    assert not report.ok
    assert counts() == before
    problem(report, "stories/_index.md", "首页")


def test_a_new_section_under_an_existing_home_page_is_created(tmp_path, tree):
    _home, index = tree
    index.delete()
    root = good_tree(tmp_path)
    write_files(root, {"stories/2023-chunjie.md": story("春节")})  # sorts before _index.md
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    assert StoryPage.objects.live().count() == 3


def test_stories_go_into_the_existing_section_when_its_index_file_is_absent(tmp_path, tree):
    _home, index = tree
    root = good_tree(tmp_path)
    (root / "stories/_index.md").unlink()
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    assert StoryPage.objects.child_of(index).count() == 2


# == idempotency ==================================================================================
def test_importing_the_same_tree_twice_changes_nothing(tmp_path, tree):
    root = good_tree(tmp_path)
    write_files(root, {"stories/images/real.jpg": jpeg_bytes()})
    write_files(root, {"stories/good.md": story(extra=hero("images/real.jpg"), body="![三轮车](images/real.jpg)")})
    first, _ = run_import(root, publish=True)
    assert first.ok and "stories/good.md" in first.created
    revisions, rows = Revision.objects.count(), counts()
    second, _ = run_import(root, publish=True)
    assert second.ok
    assert (second.created, second.updated) == ([], [])
    assert Revision.objects.count() == revisions and counts() == rows


def test_changing_one_story_makes_one_new_revision_of_that_page_only(tmp_path, tree):
    root = good_tree(tmp_path)
    run_import(root, publish=True)
    good, other = StoryPage.objects.get(slug="good"), StoryPage.objects.get(slug="other")
    good_revisions, other_revisions = good.revisions.count(), other.revisions.count()
    write_files(root, {"stories/good.md": story(body="改过的正文。")})
    report, _ = run_import(root, publish=True)
    assert report.ok
    assert report.updated == ["stories/good.md"] and report.created == []
    assert good.revisions.count() == good_revisions + 1
    assert other.revisions.count() == other_revisions
    assert "改过的正文" in str(StoryPage.objects.get(pk=good.pk).body.raw_data)


def test_a_dry_run_reports_the_changes_and_writes_nothing(tmp_path, tree):
    root = good_tree(tmp_path)
    run_import(root, publish=True)
    write_files(root, {"stories/good.md": story("改过的标题"), "stories/new.md": story("新故事")})
    before = counts()
    report, plan = run_import(root, publish=True, dry_run=True)
    assert report.ok
    assert report.updated == ["stories/good.md"] and report.created == ["stories/new.md"]
    assert plan["stories/other.md"] == "unchanged"
    assert counts() == before
    assert StoryPage.objects.get(slug="good").title == GOOD_TITLE


@pytest.mark.parametrize(
    "body, reason",
    [
        ("## " + "长" * 121, "小标题太长"),
        ("> " + "话" * 601 + "\n>\n> —— 张辰，部长", "引语太长"),
        ('![替代文字](images/a.jpg "' + "说" * 256 + '")', "图片说明太长"),
    ],
    ids=["heading", "quote", "caption"],
)
def test_block_fields_longer_than_the_admin_allows_are_refused(tree, tmp_path, body, reason):
    """The admin could not save such a page again, so the import names the line instead of storing it."""
    from PIL import Image as PILImage

    root = tmp_path / "content"
    (root / "stories" / "images").mkdir(parents=True)
    PILImage.new("RGB", (40, 30), "#0b4f8a").save(root / "stories" / "images" / "a.jpg")
    (root / "stories" / "_index.md").write_text("---\ntitle: 故事\n---\n", encoding="utf-8")
    (root / "stories" / "long.md").write_text(
        f"---\ntitle: 太长\ndate: 2023-03-01\nsummary: 摘要\n---\n\n{body}\n", encoding="utf-8"
    )
    report, _ = run_import(root)
    assert not report.ok
    problem = report.rejected[0]
    assert problem.path == "stories/long.md" and problem.line == 7 and reason in problem.message
