"""Importing the data files (streets, people): bad entries are refused naming the file and the field, and a story may
only name streets and people that exist, people only with consent. See tests/support/import_fixtures.py (`refused`:
refused whole, nothing written) and the `content` fixture in tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.support.import_fixtures import (
    BAD,
    STREETS,
    add_bad_story,
    problem,
    refused,
    story,
    write_files,
)

pytestmark = pytest.mark.django_db


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
