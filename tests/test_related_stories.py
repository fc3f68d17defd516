"""One rule for a story's related stories: what the CMS renders (`related_stories()`), what the static build
chooses in bulk (`bulk_related()`) and the rule as written below, on generated sites."""

import datetime
import random

import pytest
from django.db import connection
from django.db.models import Q
from wagtail.models import Page

from cms.stories.models import StoryPage, StoryPageTag, StoryRelatedPage
from tests.support.helpers import make_story, make_street

pytestmark = pytest.mark.django_db

DATES = [datetime.date(2023, 1, d) for d in (3, 9, 9, 20)]  # two stories a day now and then: ties by id
TAGS = ["驿站", "关爱老人", "隐患上报", "培训"]


def expected(story: StoryPage, live_ids: set[int]) -> list[int]:
    """The rule: the editors' picks that are live and public, in their order; then, for a live story, the
    newest live stories older than it (by date, then id) that share a tag or its street; three in all."""
    picks = [
        i
        for i in StoryRelatedPage.objects.filter(page=story)
        .order_by("sort_order", "pk")
        .values_list("related_page_id", flat=True)
        if i in live_ids
    ][:3]
    if len(picks) == 3 or not story.live:
        return picks
    shared = Q(tagged_items__tag__in=StoryPageTag.objects.filter(content_object=story).values("tag"))
    if story.street_id:
        shared |= Q(street_id=story.street_id)
    older = Q(date__lt=story.date) | Q(date=story.date, pk__lt=story.pk)
    similar = (
        StoryPage.objects.live()
        .public()
        .filter(older)
        .filter(shared)
        .exclude(pk__in=picks)
        .distinct()
        .order_by("-date", "-pk")
        .values_list("pk", flat=True)
    )
    return picks + list(similar[: 3 - len(picks)])


def generate(index, rng: random.Random, n: int = 14) -> list[StoryPage]:
    streets = [make_street(), make_street(name="回龙观街道", slug="huilongguan", district="昌平区")]
    pages: list[Page] = [index]  # picks may name any page, not only stories
    stories = []
    for k in range(n):
        story = make_story(
            index,
            title=f"生成的故事{k}",
            date=rng.choice(DATES),
            tags=rng.sample(TAGS, rng.randint(0, 2)),
            street=rng.choice([None, *streets]),
            related=rng.sample(pages, rng.randint(0, min(4, len(pages)))) if rng.random() < 0.4 else (),
            publish=rng.random() < 0.85,
            sources=[],
        )
        pages.append(story)
        stories.append(story)
    return stories


@pytest.mark.parametrize("seed", range(4))
def test_related_stories_and_bulk_related_agree_with_the_rule(tree, seed):
    _home, index = tree
    stories = generate(index, random.Random(seed))  # noqa: S311 - reproducible test data
    live_ids = set(Page.objects.live().public().values_list("pk", flat=True))
    fresh = list(StoryPage.objects.filter(pk__in=[s.pk for s in stories]))
    bulk = StoryPage.bulk_related(fresh, live_ids)
    suggested = 0
    for story in fresh:
        rule = expected(story, live_ids)
        assert bulk[story.pk] == rule, story.title
        assert [p.pk for p in StoryPage.objects.get(pk=story.pk).related_stories()] == rule, story.title
        suggested += len(rule)
    assert suggested, "the generated site has related stories to compare"


def test_picks_without_positions_keep_the_order_they_were_added_in(tree):
    """Picks added outside the admin's form (a script, the benchmark's generator) have no sort_order. Their
    order is then the order they were added in, whatever the database returns rows with equal sort keys in:
    PostgreSQL returns a row rewritten by an UPDATE after the others, which made a story's related cards
    (and its signature) differ between two reads of the same data."""
    _home, index = tree
    picked = [make_story(index, title=f"被挑选的{k}", sources=[]) for k in range(3)]
    story = make_story(index, title="挑选了三篇", related=picked, sources=[])
    rows = list(StoryRelatedPage.objects.filter(page=story).order_by("pk"))
    assert [r.sort_order for r in rows] == [None, None, None]
    StoryRelatedPage.objects.filter(pk=rows[0].pk).update(related_page_id=picked[0].pk)  # rewrites the row
    if connection.vendor == "postgresql":  # read the table in its physical order, as plans on larger tables do
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off")
    want = [p.pk for p in picked]
    assert StoryPage.read_index({story.pk}).picks[story.pk] == want
    assert StoryPage.bulk_related([story], set(want))[story.pk] == want
    fresh = StoryPage.objects.get(pk=story.pk)
    assert [p.pk for p in fresh.related_stories()] == want
    assert [row.related_page_id for row in fresh.related_links.all()] == want  # what templates and forms list
