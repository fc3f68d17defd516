"""content/ stays true: every quote is a real person's words as sources.yaml records them, every story
that names a real person cites its source, and an illustrative story names nobody real. The importer
refuses anything else, by file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cms.content_io.importer import run_import
from cms.core.models import Person, Source
from cms.stories.models import StoryPage
from tests.support.import_fixtures import good_tree, line_of, story, write_files

pytestmark = pytest.mark.django_db
CONTENT = Path(__file__).resolve().parent.parent / "content"
QUOTE = "和这片儿的居民都熟了，他们家里的人我基本都认识。"
BAD = "stories/bad.md"


def quote_block(text=QUOTE, who="刘阔，顺丰速运北京区陶然北岸经营分部快递员") -> str:
    return f"据报道：\n\n> {text}\n>\n> —— {who}\n"


def problems(content) -> list:
    report, _plan = run_import(content, publish=True)
    assert not report.ok, "refused"
    return report.rejected


def find(found, path, text):
    matches = [p for p in found if p.path == path and text in p.message]
    assert matches, [f"{p.path}:{p.line} {p.message}" for p in found]
    return matches[0]


def test_a_verbatim_quote_is_imported_with_its_speaker_and_source(tmp_path, tree):
    content = good_tree(tmp_path)
    write_files(content, {"stories/good.md": story(body=quote_block())})
    report, _ = run_import(content, publish=True)
    assert report.ok, report.rejected
    page = StoryPage.objects.get(slug="good")
    block = next(b for b in page.body if b.block_type == "quote")
    assert block.value["speaker"].name == "刘阔"
    assert block.value["source"].key == "cyd-2023-03-21"
    assert [link.source.key for link in page.source_links.all()] == ["cyd-2023-03-21"]
    assert Person.objects.get(slug="liu-kuo").named_in == Source.objects.get(key="cyd-2023-03-21")


def test_a_quote_with_words_the_source_does_not_have_is_refused_at_its_line(tmp_path, tree):
    content = good_tree(tmp_path)
    text = story(body=quote_block(QUOTE.replace("基本", "全都")))
    write_files(content, {BAD: text})
    found = find(problems(content), BAD, "不是 sources.yaml 记录的刘阔的原话")
    assert found.line == line_of(text, "> 和这片儿")


def test_a_quote_by_someone_not_in_people_yaml_is_refused(tmp_path, tree):
    content = good_tree(tmp_path)
    write_files(content, {BAD: story(body=quote_block("小哥比谁都熟悉这片地方。", "张辰，部长"))})
    find(problems(content), BAD, "引语的说话人 “张辰” 不在 people.yaml 里")


def test_a_quote_whose_source_the_page_does_not_cite_is_refused(tmp_path, tree):
    content = good_tree(tmp_path)
    write_files(content, {BAD: story(body=quote_block()).replace("sources: [cyd-2023-03-21]\n", "")})
    found = find(problems(content), BAD, "请把它写进这个页面的 sources")
    assert found.field == "sources"


def test_an_unknown_source_key_is_refused_naming_the_field(tmp_path, tree):
    content = good_tree(tmp_path)
    write_files(content, {BAD: story().replace("sources: [cyd-2023-03-21]", "sources: [no-such-report]")})
    assert find(problems(content), BAD, "没有代号为 “no-such-report” 的出处").field == "sources"


def test_an_illustrative_story_may_not_feature_or_quote_a_real_person(tmp_path, tree):
    content = good_tree(tmp_path)
    write_files(content, {BAD: story(body=quote_block(), extra="illustrative: true\npeople: [liu-kuo]\n")})
    found = problems(content)
    find(found, BAD, "情景示例不能出现真实人物 “liu-kuo”")
    find(found, BAD, "情景示例不能引用真实人物刘阔的话")


def test_a_story_naming_a_real_person_without_sources_is_not_published(tmp_path, tree):
    content = good_tree(tmp_path)
    write_files(content, {BAD: story().replace("sources: [cyd-2023-03-21]\n", "")})
    report, _ = run_import(content, publish=True)
    assert not report.ok
    assert any("页面提到真实人物（刘阔），但没有列出来源" in p.message for p in report.rejected)
    assert not StoryPage.objects.exists(), "nothing written"


def test_the_real_content_imports_and_publishes_with_every_quote_sourced(tmp_path, tree, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    report, _ = run_import(CONTENT, publish=True)
    assert report.ok, [f"{p.path}:{p.line} {p.message}" for p in report.rejected]
    quotes = [b for page in StoryPage.objects.live() for b in page.body if b.block_type == "quote"]
    assert quotes and all(b.value["source"] and b.value["speaker"] for b in quotes)
    from cms.core.models import Street

    assert all(street.source_id for street in Street.objects.all()), "each street's facts cite the report"


def test_every_quote_in_content_is_verbatim_in_sources_yaml():
    """Independent of the importer: read the files as a fact-checker would."""
    sources = yaml.safe_load((CONTENT / "sources.yaml").read_text(encoding="utf-8"))
    people = {p["slug"]: p["name"] for p in yaml.safe_load((CONTENT / "people.yaml").read_text(encoding="utf-8"))}
    said = {(people[q["person"]], re.sub(r"\s", "", q["text"])) for s in sources for q in s.get("quotes", [])}
    assert len(said) >= 14
    found = 0
    for path in CONTENT.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"((?:^>.*\n)+)", text, re.M):
            lines = [re.sub(r"^>\s?", "", line) for line in block.strip().split("\n")]
            lines = [line for line in lines if line.strip()]
            if not lines or not lines[-1].startswith("——"):
                continue
            name = re.split(r"[，,]", lines[-1].lstrip("— ").strip())[0]
            words = re.sub(r"\s", "", "".join(lines[:-1]))
            assert (name, words) in said, f"{path.relative_to(CONTENT)}: {name}: {words}"
            found += 1
    assert found >= 10


def test_people_in_content_are_named_only_because_a_source_names_them():
    people = yaml.safe_load((CONTENT / "people.yaml").read_text(encoding="utf-8"))
    keys = {s["key"] for s in yaml.safe_load((CONTENT / "sources.yaml").read_text(encoding="utf-8"))}
    assert {p["name"] for p in people} == {"刘阔", "李洋", "张辰", "张瞳", "刘久", "刘清"}
    for person in people:
        assert person.get("named_in") in keys, person["name"]
        assert str(person.get("consent_on_record", "false")).lower() == "false", "no consent record is claimed"


def test_the_organisations_own_address_in_site_yaml_is_not_refused_but_a_residents_is(tmp_path, tree):
    content = good_tree(tmp_path, site=True)
    office = "北京市西城区某某路1号院2号楼3单元101室"
    site = (content / "site.yaml").read_text(encoding="utf-8") + f"  office_address: {office}\n"
    write_files(content, {"site.yaml": site, "stories/good.md": story(body=f"联系我们：{office}。")})
    report, _ = run_import(content, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    assert StoryPage.objects.get(slug="good").live
    write_files(content, {BAD: story(body="王奶奶住在某某路1号院2号楼3单元502室。")})
    find(problems(content), BAD, "详细住址")
