"""Published stories in bulk for the benchmarks: the rows Wagtail's add_child() + save_revision().publish()
would leave (page, story, live revision, tags, related page), written with bulk inserts, thousands a second,
on SQLite and on PostgreSQL.

Used by bench/publish_bench.py, bench/targets_bench.py and bench/editors_load.py. Not made: the CMS's own
search index and reference index entries (`manage.py update_index` and `rebuild_references_index` make
them), the log entries of a publish, and the publish signals (no build is asked for: the benchmark builds
itself). A revision holds the page's own fields, not its tags or related page (they are written after it):
a story opened in the page editor needs a revision saved by Wagtail (editors_load publishes its editors'
stories again through Wagtail). By default the stories are as bench/publish_bench.py always made them
(bench/sample.py's text and tags, three streets); bench/editors_load.py asks for its own slugs, streets and
tags and a related page each, the stories bench/common.generate_stories makes one by one.
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Sequence

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from wagtail.models import Page, Revision

from bench.common import STREETS
from bench.sample import TAGS, body_text
from cms.core.models import Street, Tag
from cms.stories.models import StoryIndexPage, StoryPage, StoryPageTag, StoryRelatedPage

BATCH = 500


def streets(spec: Sequence[tuple[str, str, str]] = STREETS) -> list[Street]:
    return [
        Street.objects.get_or_create(slug=slug, defaults={"name": name, "district": d})[0] for slug, name, d in spec
    ]


def tags(names: Sequence[str] = TAGS) -> dict[str, Tag]:
    found = {t.name: t for t in Tag.objects.filter(name__in=names)}
    for name in names:
        if name not in found:
            found[name] = Tag.objects.create(name=name)  # its pinyin slug, as tags.add() makes it
    return found


def bulk_publish(
    count: int,
    *,
    seed: int = 7,
    rng: random.Random | None = None,
    progress=print,
    slug_prefix: str = "story-",
    street_spec: Sequence[tuple[str, str, str]] = STREETS,
    tag_names: Sequence[str] = TAGS,
    related_chain: bool = False,
) -> int:
    """Add published stories until the index holds `count` whose slug starts with `slug_prefix` (numbered and
    dated as publish_bench made them: `<slug_prefix><n>`, one a day, the oldest first). Each takes the
    streets of `street_spec` in turn and three of `tag_names`, drawn with `rng` (seeded `seed` if not given)
    after its text, as generate_stories draws them; with `related_chain` each names the one before it as
    related. Returns how many were added."""
    index = StoryIndexPage.objects.get()
    have = StoryPage.objects.filter(slug__startswith=slug_prefix).count()
    if have >= count:
        return 0
    rng = rng or random.Random(seed)  # noqa: S311 - reproducible sample data
    tag_names = list(tag_names)
    street_list, tag_map = streets(street_spec), tags(tag_names)
    story_type = ContentType.objects.get_for_model(StoryPage)
    page_type = ContentType.objects.get_for_model(Page)
    start = datetime.date.today() - datetime.timedelta(days=count + 10)
    t0 = time.monotonic()
    last = index.get_last_child()
    position = int(last.path[-Page.steplen :], 36) if last else 0
    previous = StoryPage.objects.filter(slug=f"{slug_prefix}{have}").values_list("pk", flat=True).first()
    for first in range(have, count, BATCH):
        numbers = range(first, min(first + BATCH, count))
        now = timezone.now()
        stories, story_tags = [], []
        for i in numbers:
            position += 1
            slug = f"{slug_prefix}{i + 1}"
            story = StoryPage(
                title=f"小哥的故事第{i + 1}篇",
                draft_title=f"小哥的故事第{i + 1}篇",
                slug=slug,
                summary="快递小哥参与社区治理的一个故事。",
                date=start + datetime.timedelta(days=i),
                street=street_list[i % len(street_list)],
                body=body_text(rng),
                content_type=story_type,
                path=Page._get_path(index.path, index.depth + 1, position),
                depth=index.depth + 1,
                numchild=0,
                url_path=f"{index.url_path}{slug}/",
                locale_id=index.locale_id,
                live=True,
                has_unpublished_changes=False,
                first_published_at=now,
                last_published_at=now,
                latest_revision_created_at=now,  # as save_revision() sets it: the explorer's default order
            )
            stories.append(story)
            story_tags.append([tag_map[name] for name in rng.sample(tag_names, 3)])
        with transaction.atomic():
            insert(stories)
            revisions = Revision.objects.bulk_create(
                [
                    Revision(
                        content_type=story_type,
                        base_content_type=page_type,
                        object_id=str(s.pk),
                        created_at=now,
                        object_str=s.title,
                        content=s.serializable_data(),
                    )
                    for s in stories
                ],
                batch_size=BATCH,
            )
            for story, revision in zip(stories, revisions, strict=True):
                story.live_revision_id = story.latest_revision_id = revision.pk
            Page.objects.bulk_update(stories, ["live_revision", "latest_revision"], batch_size=BATCH)
            StoryPageTag.objects.bulk_create(
                [
                    StoryPageTag(content_object_id=s.pk, tag=t)
                    for s, ts in zip(stories, story_tags, strict=True)
                    for t in ts
                ],
                batch_size=BATCH,
            )
            if related_chain:
                related = []
                for story in stories:
                    if previous is not None:
                        related.append(StoryRelatedPage(page_id=story.pk, related_page_id=previous, sort_order=0))
                    previous = story.pk
                StoryRelatedPage.objects.bulk_create(related, batch_size=BATCH)
            Page.objects.filter(pk=index.pk).update(numchild=F("numchild") + len(stories))
        progress(f"  生成 {numbers.stop}/{count} 篇（{time.monotonic() - t0:.0f} 秒）")
    return count - have


def insert(stories: list[StoryPage]):
    """The page rows, then the story rows (Django's bulk_create does not take a model with a parent table)."""
    parents = [
        Page(**{f.attname: getattr(s, f.attname) for f in Page._meta.concrete_fields if f.attname != "id"})
        for s in stories
    ]
    Page.objects.bulk_create(parents, batch_size=BATCH)
    for story, parent in zip(stories, parents, strict=True):
        story.pk = story.id = story.page_ptr_id = parent.pk
        story._state.adding = False
    fields = StoryPage._meta.local_concrete_fields
    with connection.cursor():
        StoryPage._base_manager._insert(stories, fields=fields, using="default")
