"""Importing the files of content/: slugs and file names that clash or do not fit, images outside the tree or not
images at all, symlinks, folders named like files, hidden and underscore folders. See
tests/support/import_fixtures.py (`refused`: refused whole, nothing written) and the `content` fixture in
tests/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cms.content_io.importer import run_import
from cms.stories.models import StoryPage
from tests.support.import_fixtures import (
    BAD,
    add_bad_story,
    good_tree,
    hero,
    jpeg_bytes,
    line_of,
    problem,
    refused,
    story,
    write_files,
)

pytestmark = pytest.mark.django_db


# == slugs ========================================================================================
def test_two_stories_with_the_same_slug_are_refused(content):
    write_files(content, {"stories/a.md": story("甲", extra="slug: same-slug\n")})
    write_files(content, {"stories/b.md": story("乙", extra="slug: same-slug\n")})
    found = problem(refused(content), "stories/b.md", "与 stories/a.md 重复")
    assert found.field == "slug"


def test_file_names_differing_only_in_case_clash(content):
    # Upper-case letters are not allowed in a written slug (see test_bad_slugs_are_refused), but a slug made
    # from a file name is lower-cased, so `A.md` and `a.md` (possible on case-sensitive file systems) would
    # both become /stories/a/: the second is refused.
    write_files(content, {"stories/A.md": story("大写"), "stories/a.md": story("小写")})
    found = problem(refused(content), "stories/a.md", "网址名 “a” 与 stories/A.md 重复（不区分大小写）")
    assert found.field == "slug"


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ('""', "网址名是空的"),
        ('"   "', "网址名是空的"),
        ("a" * 81, "网址名太长：81 个字符"),
        ("a/b", "不能含有路径分隔符"),
        ("../../etc", "不能含有路径分隔符"),
        ("..", "只能用小写字母、数字和连字符"),
        ("Foo", "只能用小写字母、数字和连字符"),
        ("foo_bar", "只能用小写字母、数字和连字符"),
        ("陶然亭", "只能用小写字母、数字和连字符"),
    ],
)
def test_bad_slugs_are_refused(content, slug, reason):
    text = add_bad_story(content, story(extra=f"slug: {slug}\n"))
    found = problem(refused(content), BAD, reason)
    assert (found.field, found.line) == ("slug", line_of(text, "slug:"))


def test_long_file_names_are_cut_to_a_slug_of_80_and_may_then_clash(content):
    # A slug made from a file name is cut at 80 characters (at a hyphen where there is one), so two long
    # names that differ only after that would share a URL: the second is refused.
    first, second = "stories/" + "a" * 81 + ".md", "stories/" + "a" * 80 + "b.md"
    write_files(content, {first: story("甲"), second: story("乙")})
    found = problem(refused(content), second, f"网址名 “{'a' * 80}” 与 {first} 重复")
    assert found.field == "slug"


# == images =======================================================================================
@pytest.fixture
def images(content, tmp_path) -> Path:
    """A real image inside the tree, a symlink to it, one just outside content/, and a .jpg that is not an image.

    The symlink alone makes every import with this fixture fail; each test checks its own problem.
    """
    (tmp_path / "outside.jpg").write_bytes(jpeg_bytes())
    write_files(content, {"stories/images/real.jpg": jpeg_bytes(), "stories/images/fake.jpg": "我不是图片"})
    os.symlink(content / "stories/images/real.jpg", content / "stories/images/link.jpg")
    return content


IMAGE_CASES = [
    ("../../outside.jpg", "在 content/ 以外"),  # stories/../../ is the folder that holds content/
    ("images/../../../outside.jpg", "在 content/ 以外"),
    ("/etc/passwd", "是绝对路径"),
    ("C:\\Windows\\win.ini", "是绝对路径"),
    ("https://example.org/x.jpg", "是远程地址"),
    ("//example.org/x.jpg", "是远程地址"),
    ("file:///etc/passwd", "是远程地址"),
    ("images/missing.jpg", "找不到图片文件"),
    ("images/link.jpg", "是符号链接"),
    ("images/fake.jpg", "不是有效的图片文件"),
    ("images", "找不到图片文件"),
]


@pytest.mark.parametrize(("path", "reason"), IMAGE_CASES)
def test_bad_hero_images_are_refused(images, path, reason):
    text = add_bad_story(images, story(extra=hero(path)))
    found = problem(refused(images), BAD, reason)
    assert (found.field, found.line) == ("hero_image", line_of(text, "hero_image:"))


@pytest.mark.parametrize(("path", "reason"), IMAGE_CASES)
def test_bad_images_in_the_body_are_refused_at_their_line(images, path, reason):
    text = add_bad_story(images, story(body=f'第一段。\n\n![胡同里的三轮车]({path} "说明")'))
    found = problem(refused(images), BAD, reason)
    assert found.line == line_of(text, "![")


@pytest.mark.parametrize(("key", "limit"), [("caption", 255), ("credit", 120)])
def test_a_hero_caption_or_credit_too_long_for_the_page_is_refused_naming_the_file(images, key, limit):
    text = add_bad_story(images, story(extra=hero("images/real.jpg") + f"  {key}: {'字' * (limit + 1)}\n"))
    found = problem(refused(images), BAD, f"题图的 {key} 太长了：{limit + 1} 个字")
    assert (found.field, found.line) == ("hero_image", line_of(text, "hero_image:"))


def test_a_symlinked_image_is_refused_even_when_no_story_uses_it(images):
    add_bad_story(images, story(extra=hero("images/real.jpg")))
    problem(refused(images), "stories/images/link.jpg", "是符号链接")


# == files ========================================================================================
def test_a_symlinked_markdown_file_is_refused(content, tmp_path):
    (tmp_path / "elsewhere.md").write_text(story("别处的故事"), encoding="utf-8")
    os.symlink(tmp_path / "elsewhere.md", content / "stories/linked.md")
    problem(refused(content), "stories/linked.md", "是符号链接")


def test_a_symlinked_folder_is_refused(content, tmp_path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret/leak.md").write_text(story("泄露"), encoding="utf-8")
    os.symlink(tmp_path / "secret", content / "stories/images")
    problem(refused(content), "stories/images", "是符号链接")


def test_a_folder_named_like_a_markdown_file_is_refused(content):
    (content / "stories/x.md").mkdir()
    problem(refused(content), "stories/x.md", "是一个文件夹，却以 .md 结尾")


def test_folders_starting_with_an_underscore_are_ignored(tmp_path, tree):
    # content/README.md: files and folders whose names start with "_" (except _index.md) are not pages.
    root = good_tree(tmp_path)
    write_files(root, {"stories/_drafts/half.md": "还没写完", "_templates/story.md": "---\ntitle:\n---\n"})
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    assert "stories/_drafts/（以 _ 开头）" in report.ignored and "_templates/（以 _ 开头）" in report.ignored
    assert StoryPage.objects.count() == 2


def test_a_file_name_that_is_not_utf8_is_refused_and_printable(content, capsys):
    # Zip files made on Chinese Windows store names in GBK: 陶然亭.md arrives as bytes that are not UTF-8.
    (content / "stories").joinpath(os.fsdecode("陶然亭".encode("gbk") + b".md")).write_text(story(), "utf-8")
    report = refused(content)
    [found] = report.rejected
    assert "文件名不是 UTF-8 编码" in found.message
    assert found.path.startswith(r"stories/\xcc\xd5") and found.path.endswith(".md")
    assert found.path.encode("utf-8")  # printable, storable
    with pytest.raises(CommandError, match="拒绝 1 个文件"):
        call_command("import_content", str(content), "--publish")
    assert "文件名不是 UTF-8 编码" in capsys.readouterr().err


def test_hidden_files_and_folders_are_ignored_and_reported(tmp_path, tree):
    root = good_tree(tmp_path)
    write_files(
        root,
        {
            "stories/.draft.md": "<script>这不是合法的文件</script>",
            ".git/config": "[core]\n",
            ".git/HEAD.md": "---\n!!python/object:x\n",
        },
    )
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    assert "stories/.draft.md（隐藏文件）" in report.ignored
    assert ".git/（隐藏文件夹）" in report.ignored
    assert "stories/.draft.md" not in report.created
    assert not StoryPage.objects.filter(slug__in=["draft", "head"]).exists()
    assert sorted(StoryPage.objects.values_list("slug", flat=True)) == ["good", "other"]
