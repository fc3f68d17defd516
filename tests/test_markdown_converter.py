"""Wagtail's Markdown converter, pinned: what `body.wagtail_markdown` makes of a representative sample, both ways.

The converter (`wagtail.admin.rich_text.converters.markdown_db`) is a preview module of Wagtail 8 on
draftjs_exporter's Markdown reader, and the importer and exporter depend on exactly how it reads and writes
(cms/content_io/body.py). When an upgrade of Wagtail or draftjs_exporter changes it, this test fails: read
the difference, check the body's link handling (body_links.py) and the round trip (test_content_roundtrip.py),
then pin the new output here.
"""

import pytest

from cms.content_io.body import MarkdownUnreadable, wagtail_markdown

# Bold, italic, both; web, mail and page links (page links as the importer writes them, by sentinel id);
# backslash escapes and brackets that are text; a hard line break; both kinds of list; a code span, a
# would-be tag and an ampersand; an address with parentheses the converter misreads unless they are escaped.
SAMPLE = (
    "普通段落有**加粗**、*斜体*和***加粗斜体***，还有[网址](https"
    "://example.org/a_\\(b\\))、[邮件](mailto:offi"
    "ce@example.org)和[另一页](wagtail://page?id="
    "2000000000)。\n"
    "同一段的第二行：转义的 \\[方括号\\]、\\*星号\\* 和 \\_下划线\\_；没有转"
    "义的 [方括号] 也是文字。\n"
    "\n"
    "- 列表一项\n"
    "- 带**加粗**和[链接](https://example.org/x%20y"
    ")的第二项\n"
    "\n"
    "1. 第一步\n"
    "2. 第二步\n"
    "\n"
    "最后一段：`代码`、<不是标签> 和 & 符号；[没转义的括号](https:/"
    "/example.org/a_(b)) 读错了，所以正文先把地址里的括号转义。\n"
)

HTML = (
    "<p>普通段落有<b>加粗</b>、<i>斜体</i>和<b><i>加粗斜体</"
    'i></b>，还有<a href="https://example.org/a_'
    '(b)">网址</a>、<a href="mailto:office@examp'
    'le.org">邮件</a>和<a linktype="page" id="20'
    '00000000">另一页</a>。<br/>同一段的第二行：转义的 [方括号]'
    "、*星号* 和 _下划线_；没有转义的 [方括号] 也是文字。</p><ul><"
    'li>列表一项</li><li>带<b>加粗</b>和<a href="http'
    's://example.org/x%20y">链接</a>的第二项</li></'
    "ul><ol><li>第一步</li><li>第二步</li></ol><p>最"
    "后一段：<code>代码</code>、&lt;不是标签&gt; 和 &amp;"
    ' 符号；<a href="https://example.org/a_(b">没'
    "转义的括号</a>) 读错了，所以正文先把地址里的括号转义。</p>"
)

# From the same HTML, with the page link pointing at the root page (id 1), as the exporter reads it back.
MARKDOWN = (
    "普通段落有**加粗**、*斜体*和***加粗斜体***，还有[网址](https"
    "://example.org/a_\\(b\\))、[邮件](mailto:offi"
    "ce@example.org)和[另一页](wagtail://page?id="
    "1)。\\\n"
    "同一段的第二行：转义的 \\[方括号\\]、\\*星号\\* 和 \\_下划线\\_；没有转"
    "义的 \\[方括号\\] 也是文字。\n"
    "\n"
    "- 列表一项\n"
    "- 带**加粗**和[链接](https://example.org/x%20y"
    ")的第二项\n"
    "\n"
    "1. 第一步\n"
    "2. 第二步\n"
    "\n"
    "最后一段：代码、\\<不是标签> 和 & 符号；[没转义的括号](https://"
    "example.org/a_\\(b)) 读错了，所以正文先把地址里的括号转义。\n"
    "\n"
)


def test_markdown_to_database_html_is_pinned():
    assert wagtail_markdown(SAMPLE, to="html") == HTML


@pytest.mark.django_db
def test_database_html_to_markdown_is_pinned():
    assert wagtail_markdown(HTML.replace('id="2000000000"', 'id="1"'), to="markdown") == MARKDOWN


@pytest.mark.django_db
def test_what_it_writes_it_reads_back_the_same():
    """The round trip the export relies on: Markdown it wrote reads back as the same HTML (the code span,
    not a feature of the body, is dropped on the way out)."""
    html = wagtail_markdown(SAMPLE.replace("`代码`", "代码"), to="html").replace('id="2000000000"', 'id="1"')
    assert wagtail_markdown(wagtail_markdown(html, to="markdown"), to="html") == html


def test_a_page_link_without_its_id_is_unreadable():
    with pytest.raises(MarkdownUnreadable):
        wagtail_markdown("[页](wagtail://page)", to="html")
