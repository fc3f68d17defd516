"""The one Chinese analyzer (cms/core/analyzer.py) and its browser twin (static/js/analyzer.js).

A typed word finds every text that contains it: every substring of two characters or more of a text's
Chinese, whatever surrounds it, and any Latin word or number in it. The browser cuts text and queries
exactly as Python does (checked on generated text through Node's V8, the engine of Chromium).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms.core import analyzer

ROOT = Path(__file__).resolve().parent.parent
ANALYZER_JS = ROOT / "site_templates" / "static" / "js" / "analyzer.js"

HAN_TEXT = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E40), min_size=1, max_size=30)
# Text as editors write it: Chinese, quotes, punctuation, full-width and ASCII letters and digits, spaces.
ALPHABET = (
    list("快递员外卖骑手网格党支部陶然亭同心驿站的了一")
    + list("“”‘’「」《》（）()·，。！？；：、 \n\t-—…")
    + list("AEDaed123ＡＥＤ１２３ＸｙｚÉéß_")
    + ["\U00020000", "〇", "①", "\u3000", "\u0301", "Ⅻ", "²"]
)


def test_full_width_letters_and_digits_and_case_are_the_same_word():
    assert analyzer.terms("ＡＥＤ使用") == analyzer.terms("aed使用")
    assert analyzer.parse_query("ＡＥＤ").as_dict() == analyzer.parse_query("aed").as_dict()


def test_quotes_and_brackets_join_what_they_separate():
    assert analyzer.terms("“同心”驿站") == analyzer.terms("同心驿站")
    assert analyzer.matches(analyzer.parse_query("同心驿站"), "整合为“同心”驿站。")
    assert analyzer.matches(analyzer.parse_query("陶然小哥"), "“陶然小哥”品牌")


def test_punctuation_and_spaces_separate_words():
    assert "手驿" not in analyzer.terms("骑手。驿站")
    assert analyzer.runs("外卖，骑手 ok") == [("外卖", True), ("骑手", True), ("ok", False)]


def test_chinese_runs_become_pairs_and_a_single_character_stays():
    assert analyzer.terms("外卖骑手") == {"外卖": 1, "卖骑": 1, "骑手": 1, "手": 1}
    assert analyzer.terms("和") == {"和": 1}
    plan = analyzer.parse_query("外卖骑手 aed 骑")
    assert plan.required == ["外卖", "卖骑", "骑手", "aed"]
    assert plan.prefixes == ["骑"]
    assert plan.phrases == [["\x01外卖骑", "\x01卖骑手"]]


def test_a_query_needs_every_term_and_words_with_spaces_are_and():
    text = "陶然亭街道的快递员"
    assert analyzer.matches(analyzer.parse_query("陶然亭 快递员"), text)
    assert not analyzer.matches(analyzer.parse_query("陶然亭 网格员"), text)
    assert not analyzer.matches(analyzer.parse_query("网格员"), text)


def test_the_last_latin_word_is_a_prefix_being_typed_but_a_number_is_whole():
    assert analyzer.matches(analyzer.parse_query("ae"), "用AED急救")
    assert not analyzer.matches(analyzer.parse_query("ae 急救"), "用AED急救")
    assert not analyzer.matches(analyzer.parse_query("12"), "拨打120")
    assert analyzer.matches(analyzer.parse_query("120"), "拨打120")


@given(HAN_TEXT, HAN_TEXT, HAN_TEXT, st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_substring_of_two_characters_or_more_finds_its_text(before, middle, after, data):
    text = f"{before}，{middle}“{after}”。"
    start = data.draw(st.integers(0, len(middle) - 1))
    end = data.draw(st.integers(start + 1, len(middle)))
    word = middle[start:end]
    plan = analyzer.parse_query(word)
    assert analyzer.matches(plan, text), (word, text)


def test_every_substring_of_the_content_finds_its_page():
    """Every substring (2–6 characters) of every Chinese run of the real content finds the file it is in."""
    checked = 0
    for path in sorted((ROOT / "content").rglob("*.md"))[:40]:
        text = path.read_text()
        held = analyzer.terms(text)
        for run, han in analyzer.runs(text):
            if not han:
                continue
            for size in range(2, 7):
                for i in range(0, len(run) - size + 1, 3):
                    plan = analyzer.parse_query(run[i : i + size])
                    assert all(t in held for t in plan.required), (path, run[i : i + size])
                    checked += 1
    assert checked > 5000


# -- the browser's twin ---------------------------------------------------------------------------

NODE_SCRIPT = """
import { readFileSync } from "node:fs";
const m = await import(process.argv[1]);
const inputs = JSON.parse(readFileSync(0, "utf8"));
const out = inputs.map((t) => ({
  runs: m.runs(t),
  terms: Object.fromEntries(m.terms(t)),
  query: m.parseQuery(t),
}));
process.stdout.write(JSON.stringify(out));
"""


def run_js(inputs: list[str]) -> list[dict]:
    result = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_SCRIPT, str(ANALYZER_JS)],
        input=json.dumps(inputs),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def python_view(text: str) -> dict:
    return {
        "runs": [[run, han] for run, han in analyzer.runs(text)],
        "terms": dict(analyzer.terms(text)),
        "query": analyzer.parse_query(text).as_dict(),
    }


@pytest.mark.skipif(not shutil.which("node"), reason="Node.js is not installed (.ci/run installs npm)")
def test_the_browser_analyzer_cuts_text_and_queries_exactly_as_python():
    samples = [
        "“同心”驿站里有ＡＥＤ和12个外卖骑手。",
        "陶然亭 党支部",
        "骑",
        "Ｅｘｐｒｅｓｓ快递ß",
        "①号楼〇〇七\U00020000字",
        "",
    ]
    rng = random.Random(17)  # noqa: S311 - test data
    samples += ["".join(rng.choices(ALPHABET, k=rng.randrange(40))) for _ in range(500)]
    for text, js in zip(samples, run_js(samples), strict=True):
        assert js == python_view(text), text
