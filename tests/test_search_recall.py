"""Recall of the public search on a release built from content/, as a new user gets it after `make run`.

Several hundred Chinese words of 2–6 characters are taken from the release's own page texts; each must find
every page whose text contains it (100 % recall), through the index's reader and through the real search
code in Chromium; the five words of the issue also through the search box, as typed. Precision is printed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from cms.core import analyzer
from cms.publishing.search import IndexReader, extract_record
from tests.support.browser import NEEDS_CHROMIUM, launch, serve

WORDS_OF_THE_ISSUE = ["外卖骑手", "网格员", "党支部", "陶然亭", "同心驿站"]
# Pages that only repeat other pages' teasers (tag and street listings, older stories, the print edition of
# the playbook), and the search page and 404 themselves: not indexed, by design.
UNINDEXED = re.compile(r"^(stories/(tag|street|page)/|playbook/print/|search/|404\.html)")


@pytest.fixture(scope="module")
def release(content_release) -> Path:
    """A release of content/, built as `make setup` builds it (tests/conftest.py, shared with the validators)."""
    return content_release


@pytest.fixture(scope="module")
def texts(release) -> dict[str, str]:
    """{URL: the page's own text, title first, normalized as the analyzer does}."""
    out = {}
    for path in sorted(release.rglob("*.html")):
        rel = path.relative_to(release).as_posix()
        record = extract_record("/" + rel.removesuffix("index.html"), path.read_text())
        if record:
            out[record["url"]] = analyzer.normalize(record["title"] + "\n" + record["text"])
    return out


def sample_words(texts: dict[str, str], count: int = 600) -> list[str]:
    """Chinese words of 2–6 characters cut from the pages' text at seeded random places, and the issue's."""
    rng = random.Random(2026)  # noqa: S311 - test data
    han_runs = sorted({run for text in texts.values() for run, han in analyzer.runs(text) if han and len(run) >= 2})
    words = set(WORDS_OF_THE_ISSUE)
    while len(words) < count:
        run = rng.choice(han_runs)
        size = rng.randint(2, min(6, len(run)))
        start = rng.randrange(len(run) - size + 1)
        words.add(run[start : start + size])
    return sorted(words)


def expected(texts: dict[str, str], word: str) -> set[str]:
    return {url for url, text in texts.items() if analyzer.normalize(word) in text}


def test_every_page_with_its_own_text_is_in_the_index(release, texts):
    html = {p.relative_to(release).as_posix() for p in release.rglob("*.html")}
    indexed = IndexReader(release).urls()
    assert indexed == set(texts), "the index holds exactly the pages that mark their own text"
    unindexed = {rel for rel in html if "/" + rel.removesuffix("index.html") not in indexed}
    assert unindexed and all(UNINDEXED.match(rel) for rel in unindexed), sorted(unindexed)
    for section in ("/", "/stories/", "/playbook/", "/playbook/changes/", "/model/", "/model/adoption/", "/training/"):
        assert section in indexed, section
    kinds = {"故事", "手册", "培训", "模式"}
    assert kinds <= {row[2] for row in _rows(release)}, "results are labelled by kind"


def _rows(release: Path) -> list[list[str]]:
    reader = IndexReader(release)
    return [reader.row(seg, doc) for seg in reader.entry["segments"] for doc in range(seg["n"])]


def test_every_word_finds_every_page_that_contains_it(release, texts, capsys):
    reader = IndexReader(release)
    words = sample_words(texts)
    missed, found_total, expected_total = {}, 0, 0
    for word in words:
        want = expected(texts, word)
        got = reader.find(word)
        if want - got:
            missed[word] = sorted(want - got)
        found_total += len(got)
        expected_total += len(want & got)
    recall, precision = 1 - len(missed) / len(words), expected_total / found_total
    with capsys.disabled():
        print(f"\n搜索召回：{len(words)} 个词，召回率 {recall:.1%}，精确率 {precision:.1%}")
    assert not missed, missed
    for word in WORDS_OF_THE_ISSUE:
        assert reader.find(word) == expected(texts, word) and expected(texts, word), word


@NEEDS_CHROMIUM
@pytest.mark.browser
def test_in_chromium_the_search_finds_every_page_and_the_box_shows_them_all(release, texts):
    playwright = pytest.importorskip("playwright.sync_api")
    words = sample_words(texts, 400)
    with serve(release) as url, playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.goto(f"{url}/search/")
        found = page.evaluate(
            """async (words) => {
                const m = await import(document.querySelector("script[type=module]").src);
                const out = {};
                for (const w of words) out[w] = await m.find(w);
                return out;
            }""",
            words,
        )
        missed = {w: sorted(expected(texts, w) - set(found[w])) for w in words if expected(texts, w) - set(found[w])}
        assert not missed, missed
        for word in words:
            assert len(found[word]) == len(set(found[word])), "each page once"

        # The search box, as a reader types (no Enter): all results, the count true, the query in the address.
        for word in WORDS_OF_THE_ISSUE:
            page.goto(f"{url}/search/")
            page.locator("#search-q").press_sequentially(word, delay=30)
            page.wait_for_function(
                "() => /找到 \\d+ 个结果/.test(document.querySelector('[data-search-status]').textContent)",
                timeout=15000,
            )
            want = expected(texts, word)
            status = page.locator("[data-search-status]").inner_text()
            assert status == f"找到 {len(found[word])} 个结果", status
            # More results load as the reader scrolls down (or taps the button).
            page.wait_for_function(
                """(n) => { window.scrollTo(0, document.body.scrollHeight);
                            return document.querySelectorAll('.search-result').length >= n; }""",
                arg=len(found[word]),
                polling=200,
                timeout=15000,
            )
            assert not page.locator("[data-search-more]").is_visible()
            links = page.locator(".search-result__title a").evaluate_all(
                "(as) => as.map((a) => a.getAttribute('href'))"
            )
            assert want <= set(links) and len(links) == len(found[word]), word
            assert page.url.endswith("?q=" + page.evaluate("(w) => encodeURIComponent(w)", word))
            excerpts = page.locator(".search-result__excerpt").all_inner_texts()
            assert excerpts and not any(e.startswith(("。", "，", ". ")) for e in excerpts)
            assert page.locator(".search-result__excerpt mark").count() > 0, "the match is highlighted"
            assert page.locator(".search-result__meta").first.inner_text().split(" · ")[0] in {
                "故事", "手册", "培训", "模式", "首页", "关于",
            }  # fmt: skip

        page.goto(f"{url}/search/?q=没有这个词语吧")
        page.wait_for_function("() => document.querySelector('[data-search-status]').textContent.includes('没有找到')")
        assert page.locator("[data-search-sections] a").count() >= 3, "a search that finds nothing offers the sections"
        browser.close()
