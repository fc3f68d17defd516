"""Importing content/ written by anyone: a bad file is refused with its name, line or field and the reason,
the other files' problems are still reported, nothing at all is written, and nothing crashes or hangs.

Most tests start from a good tree that has already been imported once and then edit `good.md`'s title, so
that a refused import would have something to overwrite: the title must still be the old one afterwards.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from wagtail.models import Revision

from cms.content_io.importer import Report, run_import
from cms.stories.models import StoryPage
from tests.import_fixtures import GOOD_TITLE, STREETS, counts, good_tree, jpeg_bytes, line_of, story, write_files

pytestmark = pytest.mark.django_db

BAD = "stories/bad.md"
QUICK = 20  # seconds: every refusal below must come well within this, however hostile the file


# == helpers ======================================================================================
@pytest.fixture
def content(tmp_path, tree) -> Path:
    """A good tree, imported and published once; then good.md gets a new title that must not be written."""
    root = good_tree(tmp_path)
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    write_files(root, {"stories/good.md": story("改过的标题")})
    return root


def refused(root: Path, **kwargs) -> Report:
    """Import root, expect a refusal, and check that the database is exactly as it was."""
    before = counts()
    started = time.monotonic()
    report, plan = run_import(root, publish=True, **kwargs)
    assert time.monotonic() - started < QUICK
    assert not report.ok, "the import should have been refused"
    assert plan == {}
    assert (report.created, report.updated, report.unchanged) == ([], [], [])
    assert counts() == before
    assert StoryPage.objects.get(slug="good").title == GOOD_TITLE
    return report


def problem(report: Report, path: str, reason: str):
    """The problem reported for `path` whose message contains `reason`."""
    found = [p for p in report.rejected if p.path == path and reason in p.message]
    assert found, f"no problem for {path} mentioning {reason!r}; reported:\n" + "\n".join(map(str, report.rejected))
    return found[0]


def add_bad_story(root: Path, text: str | bytes) -> str | bytes:
    write_files(root, {BAD: text})
    return text


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


# == front matter =================================================================================
@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ("title: 没有开头\n---\n\n正文。\n", "缺少开头的 front matter", 1),
        ("---\ntitle: 没有结尾\ndate: 2023-03-02\n\n正文。\n", "front matter 没有结束", 1),
        ("---\n- 一项\n- 两项\n---\n\n正文。\n", "必须是“键: 值”的映射", 2),
        ("---\n只是一句话\n---\n\n正文。\n", "必须是“键: 值”的映射", 2),
        ("---\n---\n\n正文。\n", "front matter 是空的", 2),
        ("---\n\n---\n\n正文。\n", "front matter 是空的", 2),
    ],
    ids=["no-opening", "unclosed", "a-list", "a-string", "empty", "blank"],
)
def test_broken_front_matter_is_refused(content, text, reason, line):
    add_bad_story(content, text)
    assert problem(refused(content), BAD, reason).line == line


def test_duplicate_keys_are_refused_at_the_second_one(content):
    text = add_bad_story(content, story(extra="title: 另一个标题\n"))
    found = problem(refused(content), BAD, "重复的键 “title”")
    assert "第 2 行" in found.message
    assert found.line == line_of(text, "title: 另一个标题")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ('featured: !!python/object/apply:os.system ["touch {pwned}"]\n', "不支持 YAML 标签"),
        ('featured: !!python/object/apply:subprocess.call [["touch", "{pwned}"]]\n', "不支持 YAML 标签"),
        ("featured: !custom x\n", "不支持 YAML 标签 !custom"),
        ("tags: !!set {{a: null}}\n", "不支持 YAML 标签"),
    ],
)
def test_yaml_tags_are_refused_and_never_run(content, tmp_path, extra, reason):
    pwned = tmp_path / "pwned"
    text = add_bad_story(content, story(extra=extra.format(pwned=pwned)))
    found = problem(refused(content), BAD, reason)
    assert found.line == line_of(text, extra.split(":")[0] + ":")
    assert not pwned.exists()


def billion_laughs() -> str:
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for n in range(1, 10):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        bomb += f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]\n"
    return bomb + "tags: *j\n"


def test_a_billion_laughs_alias_bomb_is_refused_quickly(content):
    text = add_bad_story(content, story(extra=billion_laughs()))
    found = problem(refused(content), BAD, "不支持 YAML 锚点")
    assert found.line == line_of(text, "a: &a")


def test_a_yaml_alias_is_refused_at_its_line(content):
    write_files(content, {"people.yaml": "- slug: liu-kuo\n  name: 刘阔\n  role: 快递员\n  street: *s\n"})
    found = problem(refused(content), "people.yaml", "不支持 YAML 别名")
    assert found.line == 4


@pytest.mark.parametrize(
    ("yaml", "at"),
    [
        ("? [a, b]\n: c", "? [a, b]"),
        ("[a]: b", "[a]: b"),
        ("x: {[a]: b}", "x: {"),
        ("tags:\n  ? {a: b}\n  : c", "  ? {"),
    ],
)
def test_a_list_or_mapping_used_as_a_key_is_refused_not_crashed(content, yaml, at):
    text = add_bad_story(content, story(extra=f"{yaml}\n"))
    found = problem(refused(content), BAD, "键只能是文字")
    assert found.line == line_of(text, at)


@pytest.mark.parametrize(
    ("escape", "name"), [(r"\0", "NUL"), (r"\a", "U+0007"), (r"\e", "U+001B"), (r"\x08", "U+0008")]
)
def test_control_characters_written_as_yaml_escapes_are_refused(content, escape, name):
    text = add_bad_story(content, story(f'"标题{escape}"'))
    found = problem(refused(content), BAD, f"含有控制字符 {name}")
    assert found.line == line_of(text, "title:")


@pytest.mark.parametrize("where", ["front matter", "people.yaml"])
def test_deeply_nested_yaml_is_refused_not_crashed(content, where):
    nested = "[" * 5000 + "]" * 5000
    if where == "people.yaml":
        write_files(content, {"people.yaml": f"- slug: liu-kuo\n  name: {nested}\n"})
        problem(refused(content), "people.yaml", "YAML 嵌套层次太深")
    else:
        add_bad_story(content, story(extra=f"tags: {nested}\n"))
        problem(refused(content), BAD, "YAML 嵌套层次太深")


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ("featured: NO\n", "featured", "只能是 true 或 false（现在是 “NO”）"),
        ("featured: yes\n", "featured", "只能是 true 或 false（现在是 “yes”）"),
        ("tags: {a: b}\n", "tags", "应是文字列表"),
        ("people: [[liu-kuo]]\n", "people", "应是文字列表"),
        ("hero_image: images/x.jpg\n", "hero_image", "题图要写成映射"),
        ("seo_title: [一, 二]\n", "seo_title", "应是一段文字，而不是列表"),
    ],
)
def test_fields_of_the_wrong_type_are_refused_naming_the_field(content, extra, field, reason):
    text = add_bad_story(content, story(extra=extra))
    found = problem(refused(content), BAD, reason)
    assert (found.field, found.line) == (field, line_of(text, f"{field}:"))


@pytest.mark.parametrize(
    ("date", "reason"),
    [("2023-02-30", "没有这一天"), ("23-3-1", "日期要写成 YYYY-MM-DD"), ("2023年3月1日", "日期要写成 YYYY-MM-DD")],
)
def test_impossible_or_misspelt_dates_are_refused(content, date, reason):
    text = add_bad_story(content, story(date=date))
    found = problem(refused(content), BAD, reason)
    assert (found.field, found.line) == ("date", line_of(text, "date:"))


def test_a_title_given_as_a_list_is_refused(content):
    add_bad_story(content, "---\ntitle: [一, 二]\ndate: 2023-03-02\nsummary: 摘要。\n---\n\n正文。\n")
    found = problem(refused(content), BAD, "应是一段文字，而不是列表")
    assert (found.field, found.line) == ("title", 2)


@pytest.mark.parametrize("missing", ["title", "date", "summary"])
def test_missing_required_fields_are_refused(content, missing):
    lines = [line for line in story().split("\n") if not line.startswith(f"{missing}:")]
    add_bad_story(content, "\n".join(lines))
    assert problem(refused(content), BAD, "缺少必填字段").field == missing


def test_an_unknown_field_is_refused_and_the_known_ones_are_listed(content):
    text = add_bad_story(content, story(extra="auther: 刘阔\n"))
    found = problem(refused(content), BAD, "不认识的字段")
    assert "title" in found.message
    assert (found.field, found.line) == ("auther", line_of(text, "auther:"))


def test_a_number_with_a_leading_zero_in_site_yaml_is_refused_at_its_line(content):
    text = "home:\n  title: 小哥\n  lead: 导语。\n  latest_count: 0123\n"
    write_files(content, {"site.yaml": text})
    found = problem(refused(content), "site.yaml", "不带前导零")
    assert (found.field, found.line) == ("latest_count", line_of(text, "latest_count"))


# == encodings and invisible characters ===========================================================
def test_utf8_with_bom_and_crlf_is_accepted(tmp_path, tree):
    root = good_tree(tmp_path)
    text = story("带 BOM 的标题", "第一段。\n\n第二段。").replace("\n", "\r\n")
    write_files(root, {"stories/bom.md": "\ufeff".encode() + text.encode()})
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    page = StoryPage.objects.get(slug="bom")
    assert page.title == "带 BOM 的标题"
    assert "\r" not in str(page.body.raw_data)


def test_a_gbk_file_is_refused_with_a_hint_to_save_as_utf8(content):
    add_bad_story(content, story("用 GBK 保存的故事").encode("gbk"))
    found = problem(refused(content), BAD, "不是 UTF-8")
    assert "GBK" in found.message and found.line == 2


def test_a_latin1_file_is_refused_as_not_utf8(content):
    data = "---\ntitle: Café crème ÿ\ndate: 2023-03-02\nsummary: Déjà vu.\n---\n\nÇa va.\n".encode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb18030")
    add_bad_story(content, data)
    found = problem(refused(content), BAD, "不是 UTF-8 编码的文本")
    assert "GBK" not in found.message and found.line == 2


@pytest.mark.parametrize(("char", "name"), [("\x00", "NUL"), ("\x07", "U+0007"), ("\x1b", "U+001B")])
def test_control_characters_are_refused_at_their_line(content, char, name):
    text = add_bad_story(content, story(body=f"第一段。\n\n第二段{char}有控制字符。"))
    found = problem(refused(content), BAD, f"含有控制字符 {name}")
    assert found.line == line_of(text, char)


@pytest.mark.parametrize("char", ["\u202e", "\u200b"], ids=["bidi-override", "zero-width-space"])
@pytest.mark.parametrize("field", ["title", "slug"])
def test_invisible_characters_in_titles_and_slugs_are_refused(content, char, field):
    extra = f"slug: bad{char}slug\n" if field == "slug" else ""
    title = f"标题{char}藏字" if field == "title" else "正常标题"
    text = add_bad_story(content, story(title, extra=extra))
    found = problem(refused(content), BAD, f"含有不可见字符 U+{ord(char):04X}")
    assert (found.field, found.line) == (field, line_of(text, f"{field}:"))


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
def hero(path: str) -> str:
    return f"hero_image:\n  file: {path}\n  alt: 胡同里的三轮车\n"


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


# == snippets =====================================================================================
def test_a_person_without_consent_cannot_appear_in_a_story(content):
    add_bad_story(content, story(extra="people: [liu-kuo, wang-wu]\n"))
    found = problem(refused(content), BAD, "人物 “wang-wu” 既没有同意署名的记录，也没有公开报道的出处")
    assert found.field == "people"


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ("people: [nobody]\n", "people", "没有网址名为 “nobody” 的人物"),
        ("street: nowhere\n", "street", "没有网址名为 “nowhere” 的街道"),
    ],
)
def test_a_story_naming_an_unknown_street_or_person_is_refused(content, extra, field, reason):
    text = story(extra=extra)
    if field == "street":
        text = text.replace("street: taoranting\n", "")
    add_bad_story(content, text)
    assert problem(refused(content), BAD, reason).field == field


@pytest.mark.parametrize(
    "streets",
    ["slug: taoranting\nname: 陶然亭街道\n", "陶然亭街道\n", "- 陶然亭街道\n", "- [a, b]\n"],
    ids=["a-mapping", "a-string", "a-list-of-strings", "a-list-of-lists"],
)
def test_streets_yaml_that_is_not_a_list_of_mappings_is_refused(content, streets):
    write_files(content, {"streets.yaml": streets})
    found = problem(refused(content), "streets.yaml", "应是列表")
    assert found.line == 1


def test_a_street_whose_name_gives_no_slug_is_refused(content):
    write_files(content, {"streets.yaml": STREETS + "- name: ！！\n  district: 西城区\n"})
    found = problem(refused(content), "streets.yaml#2", "无法从名称生成网址名")
    assert found.field == "slug"


def test_two_streets_with_the_same_name_are_refused(content):
    write_files(content, {"streets.yaml": STREETS + "- slug: other\n  name: 陶然亭街道\n  district: 西城区\n"})
    found = problem(refused(content), "streets.yaml#2", "街道名称 “陶然亭街道” 与第 1 项重复")
    assert found.field == "name"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("slug: " + "a" * 61 + "\n  name: 王府井街道", "太长了：61 个字，最多 60 个"),
        ("name: 王府井街道\n  slug: ''", "网址名是空的"),
    ],
    ids=["too-long", "empty"],
)
def test_street_slugs_that_do_not_fit_are_refused(content, entry, reason):
    write_files(content, {"streets.yaml": STREETS + f"- {entry}\n  district: 东城区\n"})
    assert problem(refused(content), "streets.yaml#2", reason).field == "slug"


def test_a_bad_person_entry_is_refused_naming_the_file_and_the_field(content):
    write_files(content, {"people.yaml": "- slug: li-si\n  name: 李四\n  consent_on_record: maybe\n"})
    report = refused(content)
    assert problem(report, "people.yaml#1", "只能是 true 或 false").field == "consent_on_record"
    assert problem(report, "people.yaml#1", "缺少必填字段").field == "role"


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
