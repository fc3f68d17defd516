"""The static search index (cms/publishing/search/): what a page gives it, and that a publish's delta
answers every query exactly as a full index of the same pages would, whatever the sequence of edits."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms.core import analyzer
from cms.publishing import search
from cms.publishing.files import put_file

PAGE = """<!DOCTYPE html><html><head><title>不算</title><script>var x = "脚本里的字";</script></head><body>
<nav>导航里的字</nav>
<article data-search-body data-search-kind="故事" data-search-section="陶然亭街道">
  <h1 data-search-title>刘阔的<em>四年</em></h1>
  <p>据中国青年报报道，顺丰快递员刘阔在陶然亭一带工作了4年。</p><p>第二段</p>
  <img src="/a.jpg" alt="驿站里的充电柜">
  <footer data-search-ignore><a href="/tag/">隐患上报</a></footer>
  <button>保存</button>
</article>
<aside>相关故事的标题</aside>
</body></html>"""


def test_a_record_is_the_pages_own_text_and_nothing_else():
    record = search.extract_record("/stories/liu/", PAGE)
    assert record["url"] == "/stories/liu/" and record["title"] == "刘阔的四年"
    assert record["kind"] == "故事" and record["section"] == "陶然亭街道"
    text = record["text"]
    assert "顺丰快递员刘阔" in text and "驿站里的充电柜" in text, "body text and image descriptions"
    assert "工作了4年。\n第二段" in text, "blocks stay apart: their words do not run together"
    for absent in ("脚本里的字", "导航里的字", "隐患上报", "保存", "相关故事", "不算"):
        assert absent not in text, absent


def test_a_page_without_a_search_region_has_no_record():
    assert search.extract_record("/stories/tag/x/", "<html><body><main><h1>标签</h1></main></body></html>") is None


WORDS = ["外卖骑手", "网格员", "党支部", "陶然亭", "同心驿站", "快递员", "隐患", "独居老人", "AED", "驿站"]
TEXTS = st.lists(st.sampled_from([*WORDS, "，", "。", "的", "在", "和", "“", "”", " "]), min_size=1, max_size=12).map(
    "".join
)
# A sequence of publishes: each adds, changes or removes one page (by its number, of ten).
EDITS = st.lists(st.tuples(st.integers(0, 9), st.one_of(st.none(), TEXTS)), min_size=1, max_size=25)


def record(i: int, text: str) -> dict:
    return {"url": f"/stories/s{i}/", "title": f"故事{i}", "kind": "故事", "section": "", "text": text}


@pytest.fixture
def site(tmp_path, settings):
    settings.SITE_DIR = tmp_path / "site"
    return tmp_path


@given(
    initial=st.lists(TEXTS, min_size=0, max_size=10),
    edits=EDITS,
    limit=st.sampled_from([0, 3, 300]),
    told=st.booleans(),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_after_any_sequence_of_publishes_the_index_answers_as_a_full_index_would(site, initial, edits, limit, told):
    """told: the update is told which file changed, as the builder tells it (its work then does not grow with
    the site); otherwise it compares every file."""
    out = site / "release"
    out.mkdir(exist_ok=True)
    pages = {i: text for i, text in enumerate(initial)}
    docs = lambda: {f"stories/s{i}/index.html": search.store_record(record(i, t)) for i, t in pages.items()}  # noqa: E731
    state = search.update_index(out, docs(), None, put_file, compact=True).state
    for number, text in edits:
        if text is None:
            pages.pop(number, None)
        else:
            pages[number] = text
        touched = {f"stories/s{number}/index.html"} if told else None
        result = search.update_index(out, docs(), state, put_file, compact=False, touched=touched)
        state = result.state
        if len(pages) > limit and result.needs_compaction:  # what the worker does after such a publish
            state = search.update_index(out, docs(), None, put_file, compact=True).state
        reader = search.IndexReader(out)
        assert reader.urls() == {f"/stories/s{i}/" for i in pages}
        for word in [*WORDS, "故事", "骑", "ae"]:
            plan = analyzer.parse_query(word)
            want = {f"/stories/s{i}/" for i, t in pages.items() if analyzer.matches(plan, f"故事{i}\n{t}")}
            assert reader.find(word) == want, (word, pages)
        names = {p.name for p in (out / search.INDEX_DIR).iterdir()}
        used = reader.files()
        assert used <= names, "every file the entry names is there"
        assert {n.removesuffix(".br").removesuffix(".gz") for n in names} == used, "no leftovers"


def test_a_lost_record_is_made_again_from_the_release(site):
    out = site / "release"
    page = out / "stories/liu/index.html"
    page.parent.mkdir(parents=True)
    page.write_text(PAGE)
    key = search.store_record(search.extract_record("/stories/liu/", PAGE))
    for path in (site / "site" / "search-records").rglob("*.json"):
        path.unlink()
    search.update_index(out, {"stories/liu/index.html": key}, None, put_file, compact=True)
    assert search.IndexReader(out).find("顺丰快递员") == {"/stories/liu/"}
