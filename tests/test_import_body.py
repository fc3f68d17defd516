"""Importing a body written by anyone: raw HTML and script links are refused at their line, links between pages are
checked, and a body that would take too long to convert or nests too deep is refused quickly. See
tests/support/import_fixtures.py (`refused`: refused whole, nothing written) and the `content` fixture in
tests/conftest.py."""

from __future__ import annotations

import time

import pytest
from django.core.management import CommandError, call_command

from cms.content_io.importer import run_import
from cms.stories.models import StoryPage
from tests.support.import_fixtures import (
    BAD,
    QUICK,
    add_bad_story,
    good_tree,
    line_of,
    problem,
    refused,
    story,
    write_files,
)

pytestmark = pytest.mark.django_db


# == raw HTML and dangerous links in the body =====================================================
@pytest.mark.parametrize(
    ("markdown", "reason"),
    [
        ("<script>alert(1)</script>", "<script>"),
        ("<SCRIPT>alert(1)</SCRIPT>", "<SCRIPT>"),
        ('<iframe src="https://example.org"></iframe>', "<iframe>"),
        ('<form action="https://example.org"><input name="q"></form>', "<form>"),
        ('<span onclick="alert(1)">点我</span>', "<span>"),
        ("<!-- 编辑备注：别发布 -->", "HTML 注释"),
        ('文字中间 <img src=x onerror="alert(1)"> 也不行', "<img>"),
    ],
)
def test_raw_html_in_the_body_is_refused_at_its_line(content, markdown, reason):
    text = add_bad_story(content, story(body=f"第一段。\n\n{markdown}"))
    found = problem(refused(content), BAD, reason)
    assert "不支持" in found.message
    assert found.line == line_of(text, markdown)


@pytest.mark.parametrize(
    "body",
    [
        "第一段。\n\n\n\n第二段。\n\n\n<script>alert(1)</script>",
        "第一段。\n\n::: callout warning 注意\n\n\n<script>alert(1)</script>\n:::",
        "## 标题\n\n- 一\n- 二\n\n\n\n<script>alert(1)</script>",
    ],
    ids=["after-blank-lines", "in-a-callout", "after-a-list"],
)
def test_the_line_of_raw_html_is_right_after_blank_lines(content, body):
    text = add_bad_story(content, story(body=body))
    assert problem(refused(content), BAD, "<script>").line == line_of(text, "<script>")


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "  javascript:alert(1)",
        "<javascript:alert(1)>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "VBScript:msgbox(1)",
    ],
)
def test_links_with_script_or_data_urls_are_refused(content, target):
    text = add_bad_story(content, story(body=f"第一段。\n\n请[点这里]({target})领取。"))
    found = problem(refused(content), BAD, "不允许的链接地址")
    assert found.line == line_of(text, "请[点这里]")


@pytest.mark.parametrize("target", ["jav&#x61;script:alert(1)", "javascript&colon;alert(1)", "java\tscript:alert(1)"])
def test_disguised_script_urls_are_refused_too(content, target):
    # Browsers decode entities and drop tabs inside URLs; here none of these is a web address or a page.
    add_bad_story(content, story(body=f"[点这里]({target})"))
    problem(refused(content), BAD, "既不是网址也不是 .md 页面")


def test_imported_markdown_opens_in_the_page_editor_without_scripts(tmp_path, tree, client, django_user_model):
    body = (
        "普通段落可以有**加粗**、*斜体*和[链接](https://example.org/)。\n\n"
        "- 第一项\n- 第二项\n\n1. 甲\n2. 乙\n\n"
        "看起来像标签的文字 &lt;script&gt; 只是文字。"
    )
    root = good_tree(tmp_path)
    write_files(root, {"stories/good.md": story(body=body)})
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    page = StoryPage.objects.get(slug="good")
    stored = page.body.raw_data[0]["value"]
    assert "<b>加粗</b>" in stored and "<i>斜体</i>" in stored
    assert "<ul>" in stored and "<ol>" in stored and 'href="https://example.org/"' in stored
    assert "<script" not in str(page.body.raw_data).lower()
    assert "<script" not in str(page.latest_revision.content).lower()
    client.force_login(django_user_model.objects.create_superuser("editor", "editor@example.org", "pw"))
    assert client.get(f"/admin/pages/{page.pk}/edit/").status_code == 200


# == links between pages ==========================================================================
def test_a_link_to_a_missing_page_is_refused_naming_the_target(content):
    add_bad_story(content, story(body="见[另一篇](missing.md)。"))
    problem(refused(content), BAD, "链接到不存在的页面 stories/missing.md")


@pytest.mark.parametrize(
    ("target", "reason"),
    [("../../outside.md", "指向 content/ 以外"), ("/stories/other.md", "要写成相对路径"), ("other", "既不是网址")],
)
def test_page_links_that_leave_the_tree_are_refused(content, target, reason):
    add_bad_story(content, story(body=f"见[另一篇]({target})。"))
    problem(refused(content), BAD, reason)


def test_a_link_to_another_file_becomes_a_page_link(tmp_path, tree):
    root = good_tree(tmp_path)
    write_files(root, {"stories/good.md": story(body="见[小年夜](other.md)。", extra="related: [other.md]\n")})
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    page, other = StoryPage.objects.get(slug="good"), StoryPage.objects.get(slug="other")
    stored = page.body.raw_data[0]["value"]
    assert 'linktype="page"' in stored and f'id="{other.pk}"' in stored
    assert [link.related_page_id for link in page.related_links.all()] == [other.pk]


def test_a_related_page_that_does_not_exist_is_refused(content):
    add_bad_story(content, story(extra="related: [other.md, nope.md]\n"))
    found = problem(refused(content), BAD, "链接到不存在的页面 stories/nope.md")
    assert found.field == "related"


# == time budget and deep nesting =================================================================
def test_markdown_that_takes_too_long_to_convert_is_refused(content):
    add_bad_story(content, story(body="*a" * 20000))
    started = time.monotonic()
    found = problem(refused(content, budget=0.5), BAD, "秒")
    assert "0.5 秒" in found.message
    assert time.monotonic() - started < QUICK


def test_a_deeply_nested_list_is_refused_quickly(content):
    add_bad_story(content, story(body="\n".join("  " * i + "- x" for i in range(500))))
    started = time.monotonic()
    problem(refused(content), BAD, "嵌套层次太深")
    assert time.monotonic() - started < QUICK


def test_deeply_nested_quotes_inside_a_paragraph_are_flattened_quickly_with_a_warning(content):
    text = add_bad_story(content, story(body="第一段。\n" + "\n".join("> " * i + "x" for i in range(1, 400))))
    started = time.monotonic()
    report, _ = run_import(content, publish=True, dry_run=True)
    assert time.monotonic() - started < QUICK
    assert report.ok, [str(p) for p in report.rejected]
    [warning] = [w for w in report.warnings if w.path == BAD]
    assert "<blockquote> 已去掉" in warning.message and warning.line == line_of(text, "第一段")


def test_the_command_passes_its_time_budget_on(content, capsys):
    add_bad_story(content, story(body="*a" * 20000))
    started = time.monotonic()
    with pytest.raises(CommandError, match="拒绝 1 个文件"):
        call_command("import_content", str(content), "--publish", "--time-budget", "0.5")
    assert time.monotonic() - started < QUICK
    assert "正文转换超过 0.5 秒仍未完成" in capsys.readouterr().err
