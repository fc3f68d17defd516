"""What a writer gets back from import_content: every problem of a file in one run, each with its line and
field; Markdown links as a writer writes them (titles, <…> destinations, reference-style links); a search
description short enough for a meta description, in the import and in the admin."""

from __future__ import annotations

import pytest
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from cms.content_io.importer import run_import
from cms.stories.models import StoryIndexPage, StoryPage
from tests.support.import_fixtures import BAD, add_bad_story, good_tree, line_of, problem, refused, story, write_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(tmp_path, tree):
    """A good tree, imported once (as drafts: what is checked here comes before publishing); then good.md
    gets a new title that must not be written (`refused` checks that it was not)."""
    root = good_tree(tmp_path)
    report, _ = run_import(root)
    assert report.ok, [str(p) for p in report.rejected]
    write_files(root, {"stories/good.md": story("改过的标题")})
    return root


def imported(root, rel="stories/good.md") -> StoryPage:
    report, _ = run_import(root)
    assert report.ok, [str(p) for p in report.rejected]
    return StoryPage.objects.get(slug=rel.rsplit("/", 1)[1][:-3])


def stored(page: StoryPage) -> str:
    return "".join(str(block["value"]) for block in page.body.raw_data)


# == every problem of a file, in one run ===========================================================
SEVEN_BAD_LINKS = """\
第一段，[脚本](javascript:alert(1))。

第二段，[数据](data:text/html;base64,PHNjcmlwdD4=)。

第三段，[不是页面](other.txt)，同一段里还有[锚点](#top)。

第四段，[外面](../../outside.md)。

第五段，[绝对路径](/stories/other.md)。

第六段，[不存在](missing.md)。

## 小标题

<iframe src="https://example.org"></iframe>

# 一级标题
"""


def test_a_file_with_many_problems_reports_every_one_with_its_line(content):
    text = add_bad_story(
        content, story(body=SEVEN_BAD_LINKS, extra="featured: NO\nsearch_description: " + "长" * 201 + "\n")
    )
    report = refused(content)
    mine = [p for p in report.rejected if p.path == BAD]
    expected = [
        ("不允许的链接地址 javascript:alert(1)", "[脚本]"),
        ("不允许的链接地址 data:text/html", "[数据]"),
        ("链接 other.txt 既不是网址也不是 .md 页面", "[不是页面]"),
        ("不支持页内锚点链接", "[不是页面]"),
        ("链接 ../../outside.md 指向 content/ 以外", "[外面]"),
        ("页面链接 /stories/other.md 要写成相对路径的 .md 文件", "[绝对路径]"),
        ("链接到不存在的页面 stories/missing.md", "[不存在]"),
        ("HTML 标签 <iframe>", "<iframe"),
        ("正文里不要用一级标题", "# 一级标题"),
        ("只能是 true 或 false", "featured:"),
        ("太长了：201 个字，最多 200 个", "search_description:"),
    ]
    for reason, where in expected:
        assert problem(report, BAD, reason).line == line_of(text, where), reason
    assert len(mine) == len(expected), "\n".join(map(str, mine))
    assert problem(report, BAD, "只能是 true").field == "featured"
    assert problem(report, BAD, "最多 200 个").field == "search_description"
    lines = [p.line for p in mine]
    assert lines == sorted(lines), "a file's problems are listed together, in the order of its lines"


def test_a_file_with_hundreds_of_problems_lists_a_hundred_and_counts_the_rest(content):
    add_bad_story(content, story(body="\n\n".join(f"第{n}段，[脚本](javascript:alert({n}))。" for n in range(150))))
    mine = [p for p in refused(content).rejected if p.path == BAD]
    assert len(mine) == 101
    assert all("不允许的链接地址" in p.message for p in mine[:100])
    assert mine[100].message == "还有 50 个问题没有列出：请先修正上面的问题"


def test_problems_in_blocks_after_a_bad_block_are_reported_too(content):
    body = (
        "::: figure\nvalue: 498\n:::\n\n"  # no label
        "> 没有说话人的引语\n\n"
        "::: gallery 组图\n![一](images/a.jpg)\n:::\n\n"  # one image only
        "::: callout warning 注意\n见[这里](javascript:void(0))。\n:::\n\n"
        "::: nosuch\n内容\n:::\n"
    )
    text = add_bad_story(content, story(body=body))
    report = refused(content)
    assert problem(report, BAD, "::: figure 缺少 label").line == line_of(text, "::: figure")
    assert problem(report, BAD, "引语的最后一行要写说话人").line == line_of(text, "> 没有说话人")
    assert problem(report, BAD, "组图至少要两张图片").line == line_of(text, "::: gallery")
    assert problem(report, BAD, "不允许的链接地址 javascript:void(0)").line == line_of(text, "见[这里]")
    assert problem(report, BAD, "不认识的区块 ::: nosuch").line == line_of(text, "::: nosuch")


def test_every_bad_item_of_a_list_field_is_reported(tmp_path, tree):
    root = good_tree(tmp_path)
    chapter = (
        "---\ntitle: 一章\norder: 1\nsummary: 摘要。\npurpose: 目的。\nsteps:\n"
        "  - {title: 第一步, who: 街道, time: 1天, cost: 无}\n"  # no needs
        "  - {title: 第二步, who: 街道, time: 1天, cost: 无, needs: 无, when: 明天}\n"  # unknown field
        "---\n"
    )
    text = write_files(root, {"playbook/_index.md": "---\ntitle: 手册\nintro: 导语。\n---\n", "playbook/a.md": chapter})
    report, _ = run_import(text)
    assert not report.ok
    assert problem(report, "playbook/a.md", "缺少必填字段").field == "steps[1].needs"
    assert problem(report, "playbook/a.md", "不认识的字段").field == "steps[2].when"


def test_a_missing_street_and_a_missing_related_page_are_reported_with_their_lines(content):
    text = add_bad_story(content, story(extra="related: [nope.md]\n").replace("street: taoranting", "street: nowhere"))
    report = refused(content)
    found = problem(report, BAD, "没有网址名为 “nowhere” 的街道")
    assert (found.field, found.line) == ("street", line_of(text, "street:"))
    found = problem(report, BAD, "链接到不存在的页面 stories/nope.md")
    assert (found.field, found.line) == ("related", line_of(text, "related:"))


# == links with a title ===========================================================================
@pytest.mark.parametrize(
    ("markdown", "href"),
    [
        ('[官网](https://example.org/a "街道官网")', "https://example.org/a"),
        ("[官网](https://example.org/a '街道官网')", "https://example.org/a"),
        ("[官网](https://example.org/a (街道官网))", "https://example.org/a"),
        ('[官网](  https://example.org/a   "街道官网"  )', "https://example.org/a"),
        ('[官网](<https://example.org/a b> "街道官网")', "https://example.org/a%20b"),
        ("[官网](https://example.org/wiki/A_(B))", "https://example.org/wiki/A_(B)"),
        (r"[官网](https://example.org/a\)b)", "https://example.org/a)b"),
    ],
    ids=["double-quotes", "single-quotes", "parentheses", "spaces", "angle-brackets", "balanced-parens", "escape"],
)
def test_a_link_title_never_ends_up_in_the_address(tmp_path, tree, markdown, href):
    root = good_tree(tmp_path)
    write_files(root, {"stories/good.md": story(body=f"请看{markdown}的说明。")})
    html = stored(imported(root))
    assert f'<a href="{href}">官网</a>' in html
    assert "街道官网" not in html
    assert "的说明。" in html


def test_a_page_link_with_a_title_becomes_a_page_link(tmp_path, tree):
    root = good_tree(tmp_path)
    write_files(root, {"stories/good.md": story(body='见[小年夜](other.md "另一篇故事")。')})
    html = stored(imported(root))
    other = StoryPage.objects.get(slug="other")
    assert f'<a id="{other.pk}" linktype="page">小年夜</a>' in html
    assert "另一篇故事" not in html


@pytest.mark.parametrize(
    "markdown",
    ['[官网](https://example.org/a "没有结束的说明)', "[官网](https://example.org/a 说明没有引号)"],
    ids=["unclosed-title", "unquoted-title"],
)
def test_a_link_that_cannot_be_read_is_refused_at_its_line(content, markdown):
    text = add_bad_story(content, story(body=f"第一段。\n\n请看{markdown}。"))
    found = problem(refused(content), BAD, "链接的写法无法识别")
    assert found.line == line_of(text, "请看")


# == reference-style links ========================================================================
def test_reference_style_links_become_links_and_their_definitions_disappear(tmp_path, tree):
    root = good_tree(tmp_path)
    body = (
        "见[小年夜][jiaozi]，还有[街道官网][]和[Example]。\n\n"
        "第二段再提一次[饺子][JiaoZi]。\n\n"
        "[jiaozi]: other.md\n"
        '[街道官网]: https://example.org/jiedao "街道官网首页"\n'
        "[example]: <https://example.org/a b>\n"
    )
    write_files(root, {"stories/good.md": story(body=body)})
    page = imported(root)
    html = stored(page)
    other = StoryPage.objects.get(slug="other")
    assert f'<a id="{other.pk}" linktype="page">小年夜</a>' in html
    assert f'<a id="{other.pk}" linktype="page">饺子</a>' in html
    assert '<a href="https://example.org/jiedao">街道官网</a>' in html
    assert '<a href="https://example.org/a%20b">Example</a>' in html
    assert "[" not in html and "]:" not in html and "街道官网首页" not in html
    assert len(page.body.raw_data) == 1  # the definitions left no empty paragraph behind


def test_square_brackets_that_are_not_links_stay_as_text(tmp_path, tree):
    root = good_tree(tmp_path)
    write_files(root, {"stories/good.md": story(body="[注] 数据来自街道，见[小年夜](other.md)。[1]")})
    html = stored(imported(root))
    assert html.startswith("<p>[注] 数据来自街道，见<a id=") and html.endswith("小年夜</a>。[1]</p>")


@pytest.mark.parametrize(
    ("definition", "reason"),
    [
        ("[ref]: javascript:alert(1)", "不允许的链接地址 javascript:alert(1)"),
        ("[ref]: ../../outside.md", "链接 ../../outside.md 指向 content/ 以外"),
        ("[ref]: /stories/other.md", "要写成相对路径的 .md 文件"),
        ("[ref]: other.txt", "既不是网址也不是 .md 页面"),
        ("[ref]: missing.md", "链接到不存在的页面 stories/missing.md"),
    ],
)
def test_a_bad_reference_definition_is_refused_at_its_line(content, definition, reason):
    text = add_bad_story(content, story(body=f"见[这里][ref]，又见[那里][ref]。\n\n{definition}\n"))
    report = refused(content)
    found = problem(report, BAD, reason)
    assert found.line == line_of(text, "[ref]:")
    assert len([p for p in report.rejected if p.path == BAD]) == 1, "reported once, however often it is used"


def test_a_reference_without_a_definition_is_refused_at_its_line(content):
    text = add_bad_story(content, story(body="第一段。\n\n见[这里][nowhere]。\n"))
    found = problem(refused(content), BAD, "链接引用 [nowhere] 没有定义")
    assert found.line == line_of(text, "见[这里]")


def test_a_reference_defined_twice_is_refused_at_the_second_definition(content):
    text = add_bad_story(content, story(body="见[这里][a]。\n\n[a]: other.md\n[A]: good.md\n"))
    found = problem(refused(content), BAD, "链接定义 [A] 重复")
    assert found.line == line_of(text, "[A]:") and f"第 {line_of(text, '[a]:')} 行" in found.message


def test_an_unused_definition_is_a_warning(tmp_path, tree):
    root = good_tree(tmp_path)
    text = story(body="正文。\n\n[unused]: https://example.org\n")
    write_files(root, {"stories/good.md": text})
    report, _ = run_import(root)
    assert report.ok
    [warning] = [w for w in report.warnings if w.path == "stories/good.md"]
    assert "链接定义 [unused] 没有被用到" in warning.message and warning.line == line_of(text, "[unused]:")


# == search descriptions ==========================================================================
def test_a_search_description_of_200_characters_is_imported(tmp_path, tree):
    root = good_tree(tmp_path)
    write_files(root, {"stories/good.md": story(extra="search_description: " + "述" * 200 + "\n")})
    assert imported(root).search_description == "述" * 200


@pytest.mark.parametrize("where", ["stories/bad.md", "stories/_index.md", "site.yaml"])
def test_a_long_search_description_is_refused_naming_file_line_field_and_length(content, where):
    long = "述" * 100_000
    if where == "site.yaml":
        text = f"home:\n  title: 小哥\n  search_description: {long}\n"
        write_files(content, {"site.yaml": text})
    elif where == "stories/_index.md":
        text = f"---\ntitle: 故事\nslug: stories\nsearch_description: {long}\n---\n\n导语。\n"
        write_files(content, {where: text})
    else:
        text = add_bad_story(content, story(extra=f"search_description: {long}\n"))
    found = problem(refused(content), where, "太长了：100000 个字，最多 200 个")
    assert (found.field, found.line) == ("search_description", line_of(text, "search_description:"))


@pytest.fixture
def admin_client(client, django_user_model, tree):
    client.force_login(django_user_model.objects.create_superuser("editor", "editor@example.org", "pw"))
    return client


def edit_index(admin_client, index: StoryIndexPage, description: str):
    data = nested_form_data(
        {
            "title": index.title,
            "slug": index.slug,
            "intro": index.intro,
            "seo_title": "",
            "search_description": description,
            "listing_title": "",
            "listing_summary": "",
            "social_text": "",
            "comments": inline_formset([]),
        }
    )
    return admin_client.post(f"/admin/pages/{index.pk}/edit/", data)


def test_the_admin_refuses_a_long_search_description_in_chinese(admin_client, tree):
    index = tree[1]
    response = edit_index(admin_client, index, "述" * 201)
    assert response.status_code == 200
    html = response.content.decode()
    assert "搜索描述太长了：201 个字，最多 200 个" in html
    index.refresh_from_db()
    assert index.search_description == ""
    response = edit_index(admin_client, index, "述" * 200)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert StoryIndexPage.objects.get(pk=index.pk).get_latest_revision_as_object().search_description == "述" * 200


def test_every_page_type_limits_its_search_description(tree, django_user_model):
    from django.core.exceptions import ValidationError
    from wagtail.models import get_page_models

    user = django_user_model.objects.create_superuser("admin", "admin@example.org", "pw")
    checked = []
    for model in get_page_models():
        if model._meta.app_label == "wagtailcore":
            continue
        form = model.get_edit_handler().get_form_class()(instance=model(), parent_page=tree[0], for_user=user)
        field = form.fields["search_description"]
        assert field.clean("述" * 200) == "述" * 200
        with pytest.raises(ValidationError, match="搜索描述太长了：201 个字，最多 200 个"):
            field.clean("述" * 201)
        checked.append(model.__name__)
    assert {"HomePage", "StoryPage", "LessonPage", "PlaybookChapterPage", "InformationPage"} <= set(checked)
