"""bench/bulk_stories.py writes the rows Wagtail's add_child() + save_revision().publish() leaves, in bulk: the
stories must be the ones bench/common.generate_stories publishes one by one (bench/editors_load.py uses one
for the other), on SQLite and on PostgreSQL (run with DATABASE_URL, as .ci/run does)."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command
from wagtail.models import Page, ReferenceIndex

from bench.bulk_stories import bulk_publish
from bench.common import generate_stories
from bench.sample import TAGS
from cms.stories.models import StoryIndexPage, StoryPage

STREETS = (("bench-a", "陶然亭街道（测试）", "西城区"), ("bench-b", "建外街道（测试）", "朝阳区"))
COUNT = 7


def described(story: StoryPage) -> dict:
    """What a story says and how it is published, without what differs by construction (ids, times)."""
    related = [link.related_page.specific.slug.split("-")[-1] for link in story.related_links.all()]
    return {
        "number": story.slug.split("-")[-1],
        "title": story.title,
        "draft_title": story.draft_title,
        "summary": story.summary,
        "date": story.date,
        "street": story.street.slug,
        "tags": sorted(tag.name for tag in story.tags.all()),
        "body": [
            (block.block_type, block.value.source if block.block_type == "paragraph" else dict(block.value))
            for block in story.body
        ],
        "related": related,
        "depth": story.depth,
        "url_path": story.url_path.replace(story.slug, "<slug>"),
        "live": story.live,
        "has_unpublished_changes": story.has_unpublished_changes,
        "live_is_latest": story.live_revision_id == story.latest_revision_id is not None,
        "revision_title": story.live_revision.content["title"],
        "latest_revision_created_at": story.latest_revision_created_at == story.latest_revision.created_at,
        "published": story.first_published_at is not None and story.last_published_at is not None,
    }


def sample_rng() -> random.Random:
    return random.Random(7)  # noqa: S311 - reproducible sample data, as the benchmarks seed it


def stories(prefix: str) -> list[dict]:
    pages = StoryPage.objects.filter(slug__startswith=prefix).select_related("street", "live_revision")
    return sorted((described(s) for s in pages), key=lambda d: int(d["number"]))


@pytest.mark.django_db
def test_bulk_stories_are_the_stories_published_one_by_one(tree):
    tags = TAGS[:10]
    generate_stories(
        COUNT, rng=sample_rng(), streets=STREETS, tags=tags, slug_prefix="one-", related_chain=True, setup=False
    )
    made = bulk_publish(
        COUNT,
        rng=sample_rng(),
        progress=lambda message: None,
        slug_prefix="bulk-",
        street_spec=STREETS,
        tag_names=tags,
        related_chain=True,
    )

    assert made == COUNT
    one_by_one, bulk = stories("one-"), stories("bulk-")
    assert len(bulk) == COUNT
    for a, b in zip(one_by_one, bulk, strict=True):
        assert a == b
    # The explorer's default order (latest revision first) puts a bulk story where Wagtail's own would be.
    assert not StoryPage.objects.filter(latest_revision_created_at__isnull=True).exists()


@pytest.mark.django_db
def test_bulk_stories_join_a_tree_that_already_has_stories(tree):
    """The count is of the stories with the prefix; the index's numchild stays the number of its children,
    even when a story before them was deleted (a gap in the tree's paths)."""
    generate_stories(3, slug_prefix="content-", setup=False)
    StoryPage.objects.get(slug="content-2").delete()

    assert bulk_publish(5, progress=lambda message: None) == 5
    assert bulk_publish(6, progress=lambda message: None) == 1  # adds up to the count, as publish_bench resumes

    index = StoryIndexPage.objects.get()
    assert index.numchild == index.get_children().count() == 8
    assert [len(problems) for problems in Page.find_problems()] == [0, 0, 0, 0, 0]
    assert [s.slug for s in StoryPage.objects.order_by("path")] == [
        "content-1",
        "content-3",
        *(f"story-{n}" for n in range(1, 7)),
    ]


@pytest.mark.django_db
def test_bulk_stories_are_found_by_the_admin_search_and_the_reference_index(tree, admin_client):
    """What `update_index` and `rebuild_references_index` make of them: the admin's page search finds a bulk
    story by a word of its body, and a story's usage lists the story that names it as related."""
    bulk_publish(4, progress=lambda message: None, related_chain=True, slug_prefix="bulk-")
    call_command("update_index", verbosity=0)
    call_command("rebuild_references_index", verbosity=0)
    first, second = (StoryPage.objects.get(slug=f"bulk-{n}") for n in (1, 2))

    response = admin_client.get("/admin/pages/search/", {"q": first.title})
    assert response.status_code == 200
    assert f"/admin/pages/{first.pk}/edit/" in response.content.decode()
    assert ReferenceIndex.get_references_to(first).filter(object_id=str(second.pk)).exists()
    response = admin_client.get(f"/admin/pages/{first.pk}/usage/")
    assert f"/admin/pages/{second.pk}/edit/" in response.content.decode()
