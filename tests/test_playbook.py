"""The playbook and the governance model as an official of another district reads them."""

import datetime
import io
import re

import pytest
from django.core.checks import run_checks
from django.utils import timezone

from cms.playbook import pdf
from cms.playbook.models import PlaybookChange, PlaybookChapterForm, PlaybookChapterPage
from cms.publishing.builder import build_site, current_release_dir
from tests.support.helpers import make_model, make_playbook, make_story, make_street

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(tree):
    home, index = tree
    street = make_street(name="回龙观街道", slug="huilongguan", district="昌平区")
    story = make_story(index, title="小年夜的饺子", street=street)
    draft = make_story(index, title="还没发布的故事", street=street, publish=False)
    playbook, chapters = make_playbook(home, chapters=3)
    second = chapters[1]
    second.cases = [
        ("case", {"street": street, "text": "路客联盟有 498 名成员。", "figures": [], "stories": [story, draft]})
    ]
    second.templates = []
    second.save_revision().publish()
    return {"home": home, "playbook": playbook, "chapters": chapters, "story": story, "draft": draft, "street": street}


def _embedded_font_families(data: bytes) -> set[str]:
    """The families of the fonts embedded in a PDF, as its font descriptors name them."""
    from pypdf import PdfReader

    families = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            for part in font.get("/DescendantFonts", [font]):
                descriptor = part.get_object().get("/FontDescriptor")
                descriptor = descriptor.get_object() if descriptor is not None else {}
                if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                    families.add(str(descriptor.get("/FontFamily")))
    return families


@pytest.fixture
def no_font(monkeypatch):
    monkeypatch.setattr(pdf, "chinese_font", lambda: None)


def test_a_chapter_shows_its_place_in_the_steps_and_the_way_on(client, book):
    html = client.get(book["chapters"][1].url).content.decode()
    assert "第 2 步，共 3 步" in html
    # The whole list on every chapter, the current one marked.
    for n in (1, 2, 3):
        assert f"第{n}章的标题" in html
    assert '<span aria-current="page">第2章的标题</span>' in html
    assert 'rel="prev"' in html and book["chapters"][0].url in html
    assert 'rel="next"' in html and book["chapters"][2].url in html
    last = client.get(book["chapters"][2].url).content.decode()
    assert 'rel="next"' not in last and "打印整本手册" in last


def test_a_chapter_has_purpose_steps_checklist_pitfalls_and_cases(client, book):
    html = client.get(book["chapters"][1].url).content.decode()
    assert "第2章的目的。" in html and "第二段目的。" in html
    assert "第2章第一步" in html and "街道党群工作部门" in html and "约2周（参考值）" in html and "站点名单" in html
    assert "<p>说明第一段。</p>" in html and "<p>说明第二段。</p>" in html
    # The checklist can be ticked without JavaScript: real checkboxes with labels.
    boxes = re.findall(r'<input type="checkbox" id="(check-[^"]+)"', html)
    assert len(boxes) == 2 and all(f'<label for="{b}">' in html for b in boxes)
    assert "第2章清单一" in html and "不会发送到任何地方" in html
    assert "小哥没有时间" in html and "按工作时长调查排班。" in html
    assert "回龙观街道" in html and "路客联盟有 498 名成员。" in html
    # A case links the live story, never the draft.
    assert "小年夜的饺子" in html and book["story"].url in html
    assert "还没发布的故事" not in html


def test_the_index_lists_chapters_in_order_with_the_edition(client, book):
    html = client.get(book["playbook"].url).content.decode()
    positions = [html.index(f"第{n}章的标题") for n in (1, 2, 3)]
    assert positions == sorted(positions)
    assert "第 1 版" in html and "修订记录" in html and "从第 1 步开始" in html


def test_change_notes_make_the_history_and_editions(client, book):
    chapter = book["chapters"][0]
    # The launch: every chapter's first note falls into edition 1.
    assert set(PlaybookChange.objects.values_list("edition", flat=True)) == {1}
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    minor = PlaybookChange.record(chapter, None, "minor", "改正一处错别字", when=tomorrow)
    assert minor.edition == 1
    major = PlaybookChange.record(chapter, None, "major", "新增“工作时长调查”一步", when=tomorrow)
    assert major.edition == 2
    same_day = PlaybookChange.record(book["chapters"][1], None, "major", "补充回龙观的案例", when=tomorrow)
    assert same_day.edition == 2, "a day's major changes make one edition"
    repeated = PlaybookChange.record(book["chapters"][1], None, "major", "补充回龙观的案例", when=tomorrow)
    assert repeated is None, "a note carried over to the next revision is not a new change"
    html = client.get(book["playbook"].url + "changes/").content.decode()
    assert "第 2 版" in html and "第 1 版" in html
    assert html.index("第 2 版") < html.index("第 1 版"), "newest edition first"
    assert "新增“工作时长调查”一步" in html and "改正一处错别字" in html and "重要修订" in html
    assert "第 2 版" in client.get(book["playbook"].url).content.decode()


def test_publishing_a_chapter_with_a_note_records_it_once(book):
    chapter = PlaybookChapterPage.objects.get(pk=book["chapters"][2].pk)
    chapter.change_note, chapter.change_kind = "补充经费来源", "minor"
    revision = chapter.save_revision()
    revision.publish()
    revision.publish()  # published again (e.g. a rollback to it): still one entry
    assert PlaybookChange.objects.filter(note="补充经费来源").count() == 1
    # The editor starts from an empty note next time.
    form_class = PlaybookChapterPage.get_edit_handler().get_form_class()
    assert issubclass(form_class, PlaybookChapterForm)
    form = form_class(instance=chapter.get_latest_revision_as_object(), for_user=None)
    assert form.initial["change_note"] == "" and form.initial["change_kind"] == ""


def test_the_print_page_holds_the_whole_playbook(client, book):
    html = client.get(book["playbook"].url + "print/").content.decode()
    for n in (1, 2, 3):
        assert f"第 {n} 步：第{n}章的标题" in html and f"第{n}章第一步" in html and f"第{n}章清单一" in html
    assert 'type="checkbox"' not in html, "printed checklists are boxes on paper"


@pytest.mark.skipif(pdf.chinese_font() is None, reason="no Chinese font on this machine (fonts-noto-cjk)")
def test_the_pdf_is_made_in_a_chinese_font(client, book):
    response = client.get(book["playbook"].url + "xiaoge-playbook.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = response.content
    assert data.startswith(b"%PDF") and len(data) > 10_000
    # The Chinese font is embedded (a subset of it), so the text renders, not boxes. Read with a PDF
    # parser: a regex over stream bytes lost any stream whose compressed data ended in a CR byte.
    assert pdf.chinese_font() in _embedded_font_families(data)
    assert 'href="/playbook/xiaoge-playbook.pdf"' in client.get(book["playbook"].url).content.decode()


def test_without_a_chinese_font_there_is_no_pdf_and_no_link(client, book, no_font):
    assert client.get(book["playbook"].url + "xiaoge-playbook.pdf").status_code == 404
    html = client.get(book["playbook"].url).content.decode()
    assert "xiaoge-playbook.pdf" not in html and "下载 PDF" not in html
    warnings = [m for m in run_checks() if m.id == "playbook.W001"]
    assert warnings and "fonts-noto-cjk" in warnings[0].msg


def test_the_release_holds_the_playbook_and_model(book, settings, tmp_path):
    settings.SITE_DIR = tmp_path / "site"
    make_model(book["home"], streets=[book["street"]])
    build_site(full=True)
    live = current_release_dir()
    for rel in [
        "playbook/index.html",
        "playbook/changes/index.html",
        "playbook/print/index.html",
        "playbook/chapter-1/index.html",
        "model/index.html",
        "model/adoption/index.html",
        "model/street/huilongguan/index.html",
    ]:
        assert (live / rel).is_file(), rel
    if pdf.chinese_font():
        assert (live / "playbook/xiaoge-playbook.pdf").read_bytes().startswith(b"%PDF")
    # Publishing one chapter renders the playbook again, not the stories.
    chapter = PlaybookChapterPage.objects.get(pk=book["chapters"][0].pk)
    chapter.summary = "改过的摘要。"
    chapter.save_revision().publish()
    build_site()
    assert "改过的摘要。" in (current_release_dir() / "playbook/index.html").read_text()
    story = f"stories/{book['story'].slug}/index.html"
    assert (live / story).stat().st_ino == (current_release_dir() / story).stat().st_ino, "stories were not rendered"


def test_a_release_without_a_font_has_no_pdf_and_no_link(book, settings, tmp_path, no_font):
    settings.SITE_DIR = tmp_path / "site"
    build_site(full=True)
    live = current_release_dir()
    assert not (live / "playbook/xiaoge-playbook.pdf").exists()
    assert "xiaoge-playbook.pdf" not in (live / "playbook/index.html").read_text()


def _text(html: str) -> str:
    """What a reader sees of some HTML: its text, tags removed, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_the_changes_page_calls_a_chapters_first_publication_so(client, book):
    """Three chapters published for the first time (their note: 首次发布, kind major): not revisions."""
    url = book["playbook"].url + "changes/"
    items = [_text(i) for i in re.findall(r'<li class="change">(.*?)</li>', client.get(url).content.decode(), re.S)]
    assert len(items) == 3
    for item in items:
        assert "首次发布" in item and "重要修订" not in item, item
        assert item.count("首次发布") == 1, "the note that only says 首次发布 is not repeated after the badge"
    chapter = PlaybookChapterPage.objects.get(pk=book["chapters"][0].pk)
    chapter.change_note, chapter.change_kind = "补充回龙观的案例", "major"
    chapter.save_revision().publish()
    newest = _text(re.search(r'<li class="change">(.*?)</li>', client.get(url).content.decode(), re.S).group(1))
    assert "重要修订" in newest and "补充回龙观的案例" in newest and "首次发布" not in newest
    # A new chapter added later, with a note of its own: 首次发布, and its note.
    playbook = book["playbook"]
    later = PlaybookChapterPage(
        title="新增的一章", slug="chapter-new", summary="摘要。", purpose="目的。",
        steps=[("step", {"title": "一步", "who": "街道", "time": "1天", "cost": "无", "needs": "无", "detail": ""})],
        change_note="新增“合作商户”一章", change_kind="major",
    )  # fmt: skip
    playbook.add_child(instance=later)
    later.save_revision().publish()
    html = client.get(url).content.decode()
    entry = next(_text(i) for i in re.findall(r'<li class="change">(.*?)</li>', html, re.S) if "新增的一章" in i)
    assert "首次发布" in entry and "新增“合作商户”一章" in entry and "重要修订" not in entry


def test_the_playbook_and_the_model_say_what_the_other_is_for_and_link_each_other(client, book):
    model, components = make_model(book["home"], streets=[book["street"]])
    station, chapter = components[1], book["chapters"][1]
    station.playbook_chapter = chapter
    station.save_revision().publish()
    playbook = _text(client.get(book["playbook"].url).content.decode().split("</header>")[1])
    assert f'<a href="{model.url}">' in client.get(book["playbook"].url).content.decode()
    assert "这本手册讲每项做法怎样一步步建立" in playbook and "哪些街道在运行，请看 治理模式" in playbook
    model_html = client.get(model.url).content.decode()
    assert f'<a href="{book["playbook"].url}">政策手册</a>' in model_html
    assert "治理模式讲各项做法是什么、怎样互相配合、哪些街道在运行" in _text(model_html)
    # The component and its chapter: each links the other.
    assert chapter.url in client.get(station.url).content.decode()
    chapter_html = client.get(chapter.url).content.decode()
    assert f'<a href="{station.url}">《骑士驿站》</a>' in chapter_html
    assert "它在治理模式中对应的组件是 《骑士驿站》" in _text(chapter_html)
    # A chapter no component points to says nothing about the model.
    assert "对应的组件" not in client.get(book["chapters"][0].url).content.decode()


@pytest.mark.skipif(pdf.chinese_font() is None, reason="no Chinese font on this machine (fonts-noto-cjk)")
def test_the_pdf_has_a_cover_contents_with_page_numbers_and_the_templates_addresses(client, book):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from pypdf import PdfReader

    from cms.documents.models import CustomDocument

    document = CustomDocument.objects.create(
        title="台账模板", file=SimpleUploadedFile("taizhang-moban.csv", "姓名,站点\n".encode())
    )
    chapter = PlaybookChapterPage.objects.get(pk=book["chapters"][2].pk)
    chapter.body = [
        ("heading", {"text": "为什么值得做", "level": "h2"}),
        ("paragraph", "<p>正文一段。</p>"),
        ("callout", {"tone": "info", "title": "起步不求全", "body": "<p>先从一两件事做起。</p>"}),
    ]
    chapter.templates = [("template", {"document": document, "title": "新就业群体台账模板", "description": "表头"})]
    chapter.save_revision().publish()

    # The print page: a chapter's body headings rank below the chapter's sections, never above them.
    html = client.get(book["playbook"].url + "print/").content.decode()
    assert "<h3>为什么值得做</h3>" in html and 'id="purpose-' in html and "<h2>为什么值得做</h2>" not in html
    assert "https://xiaoge.example.cn" + document.url in html

    reader = PdfReader(io.BytesIO(client.get(book["playbook"].url + "xiaoge-playbook.pdf").content))
    pages = [re.sub(r"[ \t]+", " ", page.extract_text()) for page in reader.pages]
    cover, contents = pages[0], pages[1]
    opened = timezone.localtime(PlaybookChange.objects.order_by("published_at").first().published_at)
    assert "政策手册" in cover and "第 1 版" in cover
    assert f"本版自{opened.year}年{opened.month}月{opened.day}日起" in cover
    assert "https://xiaoge.example.cn/playbook/" in cover and "页，共" not in cover, "the cover has no page number"
    assert "本站的运营方还没有公布联系方式" in cover, "until the operator fills in a contact, the cover says so"
    # The contents give each chapter's page, and that page holds the chapter.
    for n in (1, 2, 3):
        found = re.search(rf"第 ?{n} ?步\s*第{n}章的标题[ .…·]*(\d+)", contents)
        assert found, contents
        assert f"第 {n} 步：第{n}章的标题" in pages[int(found.group(1)) - 1]
    appendix = re.search(r"附：模板一览[ .…·]*(\d+)", contents)
    assert appendix
    listed = pages[int(appendix.group(1)) - 1]
    assert "新就业群体台账模板" in listed and "https://xiaoge.example.cn" + document.url in listed.replace("\n", "")
    # Every page after the cover is numbered in the footer, with the title and edition.
    total = len(pages)
    for number, text in enumerate(pages[1:], 2):
        assert f"第 {number} 页，共 {total} 页" in text, number
        assert "政策手册" in text and "第 1 版" in text

    # The callout is a tinted box: its page is painted in a colour that no page without a callout uses.
    def colours(page):
        return set(re.findall(r"[\d.]+ [\d.]+ [\d.]+ rg", page.get_contents().get_data().decode("latin-1")))

    with_callout = [p for p in reader.pages if "起步不求全" in p.extract_text()]
    others = set().union(*(colours(p) for p in reader.pages if p not in with_callout))
    assert len(with_callout) == 1 and colours(with_callout[0]) - others
