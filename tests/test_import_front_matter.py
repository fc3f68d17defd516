"""Importing front matter written by anyone: broken or hostile YAML, fields of the wrong type, impossible dates,
missing or unknown fields, encodings and invisible characters are refused with the file, line or field. See
tests/support/import_fixtures.py (`refused`: refused whole, nothing written) and the `content` fixture in
tests/conftest.py."""

from __future__ import annotations

import pytest

from cms.content_io.importer import run_import
from cms.stories.models import StoryPage
from tests.support.import_fixtures import (
    BAD,
    add_bad_story,
    good_tree,
    line_of,
    problem,
    refused,
    story,
    write_files,
)

pytestmark = pytest.mark.django_db


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
