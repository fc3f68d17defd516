"""A full build's database queries do not grow with the number of pages: each page type's pages are fetched
with one query plan (build_queryset, prepare_build, their streams' snippets in bulk), and each page's JSON
document is serialized from the page the renderer fetched, not by the API view fetching it again."""

from __future__ import annotations

import datetime
import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms.core.models import Person, Street
from cms.images.models import CustomImage
from cms.publishing.builder import build_site
from tests.support.helpers import make_image, make_person, make_story, make_street

pytestmark = pytest.mark.django_db

TAGS = ["隐患上报", "骑士驿站", "路客联盟", "关爱老人", "培训", "志愿服务"]


def make_stories(index, numbers: range):
    """Stories with what a real one has: tags, a street, people, a quote with its source, some with a hero
    image, some with an editor's related pick."""
    if not numbers.start:
        make_street(), make_street(name="回龙观街道", slug="huilongguan", district="昌平区")
        make_street(name="建外街道", slug="jianwai", district="朝阳区")
        make_person(street=Street.objects.get(slug="taoranting")), make_image()
    streets = list(Street.objects.order_by("pk"))
    person, image = Person.objects.get(name="刘阔"), CustomImage.objects.get()
    made = [None]
    for i in numbers:
        made.append(
            make_story(
                index,
                title=f"第{i + 1}个故事",
                tags=[TAGS[i % len(TAGS)], TAGS[(i * 7 + 1) % len(TAGS)]],
                people=[person] if i % 2 else [],
                street=streets[i % 3],
                image=image if i % 4 == 0 else None,
                date=datetime.date(2020, 1, 1) + datetime.timedelta(days=i),
                related=made[-1:] if i % 5 == 0 and made[-1] else (),
            )
        )
    return made


def shape(sql: str) -> str:
    """A query without its values: the same query for another page has the same shape."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "N", sql)
    return re.sub(r"\((?:N|\?|%s)(?:, (?:N|\?|%s))*\)", "(…)", sql)


def full_build_queries(index, numbers: range) -> tuple[int, Counter]:
    make_stories(index, numbers)
    with CaptureQueriesContext(connection) as ctx:
        result = build_site(full=True)
    assert result.release.pages > numbers.stop
    return len(ctx.captured_queries), Counter(shape(q["sql"]) for q in ctx.captured_queries)


@pytest.fixture
def site_dir(tmp_path, settings):
    settings.SITE_DIR = tmp_path / "site"
    return settings.SITE_DIR


def test_a_full_build_makes_as_many_queries_for_200_stories_as_for_20(site_dir, tree):
    _home, index = tree
    small, small_shapes = full_build_queries(index, range(20))
    # The same site with 180 stories more: the second full build renders 10 times the stories.
    large, large_shapes = full_build_queries(index, range(20, 200))
    print(f"queries of a full build: {small} with 20 stories, {large} with 200")
    grown = {s[:200]: (small_shapes[s], n) for s, n in large_shapes.items() if n > small_shapes[s] + 2}
    assert large - small <= 40, f"{small} queries for 20 stories, {large} for 200; grown: {grown}"
