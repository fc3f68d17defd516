"""Published stories in bulk for the benchmarks: the rows Wagtail's add_child() + save_revision().publish()
would leave (page, story, live revision, tags), written with bulk inserts, thousands a second.

Used by bench/publish_bench.py. Not made: the CMS's own search index and reference index entries, the log
entries of a publish, and the publish signals (no build is asked for: the benchmark builds itself). The
stories are as bench/publish_bench.py always made them (bench/sample.py's text and tags, three streets).
"""

from __future__ import annotations

import datetime
import random
import time

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from wagtail.models import Page, Revision

from bench.common import STREETS
from bench.sample import TAGS, body_text
from cms.core.models import Street, Tag
from cms.stories.models import StoryIndexPage, StoryPage, StoryPageTag

BATCH = 500


def streets() -> list[Street]:
    return [
        Street.objects.get_or_create(slug=slug, defaults={"name": name, "district": d})[0] for slug, name, d in STREETS
    ]


def tags() -> dict[str, Tag]:
    found = {t.name: t for t in Tag.objects.filter(name__in=TAGS)}
    for name in TAGS:
        if name not in found:
            found[name] = Tag.objects.create(name=name)  # its pinyin slug, as tags.add() makes it
    return found


def bulk_publish(count: int, *, seed: int = 7, progress=print) -> int:
    """Add published stories until the index holds `count` (numbered and dated as publish_bench made them)."""
    index = StoryIndexPage.objects.get()
    have = StoryPage.objects.count()
    if have >= count:
        return 0
    rng = random.Random(seed)
    street_list, tag_map = streets(), tags()
    story_type = ContentType.objects.get_for_model(StoryPage)
    page_type = ContentType.objects.get_for_model(Page)
    start = datetime.date.today() - datetime.timedelta(days=count + 10)
    t0 = time.monotonic()
    last = index.get_last_child()
    position = int(last.path[-Page.steplen :], 36) if last else 0
    for first in range(have, count, BATCH):
        numbers = range(first, min(first + BATCH, count))
        now = timezone.now()
        stories, story_tags = [], []
        for i in numbers:
            position += 1
            slug = f"story-{i + 1}"
            story = StoryPage(
                title=f"小哥的故事第{i + 1}篇",
                draft_title=f"小哥的故事第{i + 1}篇",
                slug=slug,
                summary="快递小哥参与社区治理的一个故事。",
                date=start + datetime.timedelta(days=i),
                street=street_list[i % 3],
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
            )
            stories.append(story)
            story_tags.append([tag_map[name] for name in rng.sample(TAGS, 3)])
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
            Page.objects.filter(pk=index.pk).update(numchild=position)
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
