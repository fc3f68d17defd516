"""The stories' side of the static build: what each listing and each story's page shows, for every story at
once in a few queries (a full build of 20,000 stories asks the database a handful of questions, not 20,000).

`StoryBuildMixin.bulk_related` is the one rule for a story's related stories: the static build, the
preview and `StoryPage.related_stories()` (the CMS's own rendering) all go through it.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence

from django.conf import settings
from django.db import models
from wagtail.models import Page

from cms.core.archive import build_archive
from cms.core.models import Street, Tag
from cms.core.publishing_protocol import BuildState, Versions

from .relations import StoryPageTag, StoryPerson, StoryRelatedPage

RELATED_COUNT = 3  # related stories under a story
# Stories just older than a story, in each of its tag and street groups, among which its related ones are
# chosen: enough for RELATED_COUNT whatever editors picked.
RELATED_WINDOW = 2 * RELATED_COUNT


def street_version(street: Street) -> tuple:
    return (
        street.pk,
        street.name,
        street.slug,
        street.district,
        street.city,
        street.setting,
        street.summary,
        json.dumps(street.key_figures.get_prep_value(), ensure_ascii=False, sort_keys=True),
    )


def listing_signatures(stories: models.QuerySet, intro: str, versions: Versions) -> dict[str, object]:
    """Every route of the stories' listing (front and archive pages of the index, of each tag and each
    street, the feed), with the ids and versions of what it shows."""
    per_page = settings.STORIES_PER_PAGE
    rows = list(stories.order_by("-date", "-pk").values_list("pk", "street_id"))
    ids = [pk for pk, _ in rows]
    tags: dict[int, list[int]] = {}
    for tag_id, story_id in StoryPageTag.objects.filter(content_object_id__in=ids).values_list(
        "tag_id", "content_object_id"
    ):
        tags.setdefault(tag_id, []).append(story_id)
    order = {pk: n for n, pk in enumerate(ids)}
    tag_slugs = dict(Tag.objects.filter(pk__in=tags).values_list("pk", "slug"))
    streets = {s.pk: s for s in Street.objects.filter(pk__in={sid for _, sid in rows if sid})}

    def card(pk):
        return (pk, versions.get(pk))

    routes: dict[str, object] = {}

    def listing(base: str, members: list[int], extra: object, front_extra: object = None):
        archive = build_archive(members, per_page)
        routes[base] = ([card(i) for i in archive.front], archive.newest_archive, extra, front_extra)
        for page in archive.pages:
            routes[f"{base}page/{page.number}/"] = ([card(i) for i in page.items], page.newer, page.older, extra)

    # Only the front page of the index shows the tag and street lists (with counts).
    aside = (sorted((tag_slugs[t], len(m)) for t, m in tags.items()), sorted(s.slug for s in streets.values()))
    listing("", ids, ("index", intro), aside)
    for tag_id, members in tags.items():
        members.sort(key=order.__getitem__)
        listing(f"tag/{tag_slugs[tag_id]}/", members, ("tag", tag_id))
    for street in streets.values():
        members = [pk for pk, sid in rows if sid == street.pk]
        listing(f"street/{street.slug}/", members, ("street", street_version(street)))
    routes["feed.xml"] = [card(i) for i in ids[:30]]
    return routes


class StoryBuildMixin:
    """StoryPage's part of the static build's interface (cms/core/publishing_protocol.py) and the bulk reads
    behind it. `cls` is the page class; `cls.listing_queryset()` its live public stories as listings show
    them."""

    @classmethod
    def live_index(cls, state: BuildState | None = None) -> dict:
        """Dates, streets, tags and editors' picks of every live story, read once per build.

        Queries filter by joins, not by lists of thousands of ids, which Django prepares one by one.
        """
        if state is not None and state.stories_index is not None:
            return state.stories_index
        live = {
            pk: (date, street_id)
            for pk, date, street_id in cls.listing_queryset().values_list("pk", "date", "street_id")
        }
        tags_of: dict[int, list[int]] = {}
        tag_names: dict[int, list[str]] = {}
        for story_id, tag_id, name in StoryPageTag.objects.filter(content_object__live=True).values_list(
            "content_object_id", "tag_id", "tag__name"
        ):
            if story_id in live:
                tags_of.setdefault(story_id, []).append(tag_id)
                tag_names.setdefault(story_id, []).append(name)
        picks: dict[int, list[int]] = {}
        for page_id, related_id in (
            StoryRelatedPage.objects.filter(page__live=True)
            .order_by("sort_order")
            .values_list("page_id", "related_page_id")
        ):
            picks.setdefault(page_id, []).append(related_id)
        index = {"live": live, "tags_of": tags_of, "tag_names": tag_names, "picks": picks}
        if state is not None:
            state.stories_index = index
        return index

    @classmethod
    def near_index(cls, page: Page) -> dict:
        """The part of live_index that one story's related stories depend on, in a few small queries: the
        story, and in each of its tag and street groups the RELATED_WINDOW live stories just older than it;
        its picks. bulk_related gives the same answer over it as over the whole index (a group's window is
        all it reads, and stories fetched for another group that also belong to this one are older than the
        window), so the CMS's own rendering of a story (preview, `related_stories()`) does not read every
        live story of the site."""
        stories = cls.listing_queryset()
        own = stories.filter(pk=page.pk).values_list("pk", "date", "street_id").first()
        index: dict = {"live": {}, "tags_of": {}, "tag_names": {}, "picks": {}}
        if own is None:  # not live: bulk_related gives a draft its picks only
            return index
        pk, date, street_id = own
        live = index["live"]
        live[pk] = (date, street_id)
        tag_ids = list(StoryPageTag.objects.filter(content_object_id=pk).values_list("tag_id", flat=True))
        older = stories.filter(models.Q(date__lt=date) | models.Q(date=date, pk__lt=pk)).order_by("-date", "-pk")
        if street_id:
            live.update(
                (i, (d, s))
                for i, d, s in older.filter(street_id=street_id).values_list("pk", "date", "street_id")[:RELATED_WINDOW]
            )
        # The tag groups in one query, newest first, read until every group has its window.
        room = dict.fromkeys(tag_ids, RELATED_WINDOW)
        rows = (
            StoryPageTag.objects.filter(tag_id__in=tag_ids, content_object_id__in=older.values("pk"))
            .order_by("-content_object__date", "-content_object_id")
            .values_list("content_object_id", "tag_id", "content_object__date", "content_object__street_id")
        )
        for story_id, tag_id, story_date, story_street in rows.iterator(chunk_size=4 * RELATED_WINDOW):
            if room[tag_id] > 0:
                room[tag_id] -= 1
                live[story_id] = (story_date, story_street)
            if not any(room.values()):
                break
        for story_id, tag_id in StoryPageTag.objects.filter(content_object_id__in=live, tag_id__in=tag_ids).values_list(
            "content_object_id", "tag_id"
        ):
            index["tags_of"].setdefault(story_id, []).append(tag_id)
        index["picks"][pk] = list(
            StoryRelatedPage.objects.filter(page_id=pk).order_by("sort_order").values_list("related_page_id", flat=True)
        )
        return index

    @classmethod
    def bulk_related(
        cls, pages: Sequence[Page], live_ids: set[int], state: BuildState | None = None
    ) -> dict[int, list[int]]:
        """The related stories of many stories at once, as ids, in a few queries: the editors' picks that are
        live and public (`live_ids`), in their order, then the newest live stories *older* than the story
        (by date, then id) that share a tag or its street; RELATED_COUNT in all. Only older stories are
        suggested, so publishing a new story never changes the pages of earlier ones. A story that is not
        live (a draft previewed) gets its picks only."""
        index = cls.live_index(state)
        live, tags_of, picks = index["live"], index["tags_of"], index["picks"]
        missing = [p.pk for p in pages if p.pk not in live]
        street_of = {pk: street for pk, (_date, street) in live.items()}
        if missing:  # drafts being previewed or prepared: not in the live index
            street_of.update(cls.objects.filter(pk__in=missing).values_list("pk", "street_id"))
            for page_id, related_id in (
                StoryRelatedPage.objects.filter(page_id__in=missing)
                .order_by("sort_order")
                .values_list("page_id", "related_page_id")
            ):
                picks = {**picks, page_id: [*picks.get(page_id, []), related_id]}
        members: dict[tuple, list[int]] = {}
        for story_id, tag_ids in tags_of.items():
            for tag_id in tag_ids:
                members.setdefault(("tag", tag_id), []).append(story_id)
        for pk, (_date, street_id) in live.items():
            if street_id:
                members.setdefault(("street", street_id), []).append(pk)

        def key(pk):
            return (live[pk][0], pk)

        for group in members.values():
            group.sort(key=key)  # oldest first
        group_keys = {name: [key(i) for i in group] for name, group in members.items()}
        out = {}
        for page in pages:
            chosen = [i for i in picks.get(page.pk, []) if i in live_ids][:RELATED_COUNT]
            if len(chosen) < RELATED_COUNT and page.pk in live:
                own = key(page.pk)
                names = [("tag", t) for t in tags_of.get(page.pk, [])]
                if street_of.get(page.pk):
                    names.append(("street", street_of[page.pk]))
                found: set[int] = set()
                for name in names:  # in each group, the few stories just older than this one
                    group = members.get(name, [])
                    end = bisect.bisect_left(group_keys[name], own)
                    found.update(i for i in group[max(0, end - RELATED_WINDOW) : end] if i not in chosen)
                chosen += sorted(found, key=key, reverse=True)[: RELATED_COUNT - len(chosen)]
            out[page.pk] = chosen
        return out

    @classmethod
    def static_signatures_bulk(cls, pages: Sequence[Page], versions: Versions, state: BuildState) -> dict[int, object]:
        """What each story's page depends on: its version, street, tags, people and related cards."""
        related = cls.bulk_related(pages, set(versions), state)
        state.related_stories = related
        index = cls.live_index(state)
        live, tag_names = index["live"], index["tag_names"]
        people: dict[int, list] = {}
        for page_id, *person in (
            StoryPerson.objects.filter(page__live=True)
            .order_by("sort_order")
            .values_list("page_id", "person__pk", "person__name", "person__role", "person__organisation")
        ):
            people.setdefault(page_id, []).append(person)
        streets = {s.pk: street_version(s) for s in Street.objects.all()}
        return {
            page.pk: (
                versions.get(page.pk),
                streets.get(live.get(page.pk, (None, None))[1]),
                sorted(tag_names.get(page.pk, [])),
                people.get(page.pk, []),
                [(i, versions.get(i)) for i in related[page.pk]],
            )
            for page in pages
        }

    @classmethod
    def build_queryset(cls) -> models.QuerySet:
        """Stories as the static build fetches them: everything the page shows, in a few queries."""
        return cls.objects.select_related("street", "hero_image", "listing_image", "social_image").prefetch_related(
            "tagged_items__tag",
            "featured_people__person",
            "source_links__source",
            "hero_image__renditions",
            "social_image__renditions",
        )

    @classmethod
    def prepare_build(cls, pages: list[Page], state: BuildState) -> None:
        """Give each story its related cards (`_prepared_related`), chosen in bulk (bulk_related), or kept
        from the signatures of the same build."""
        related = state.related_stories
        if related is None or any(p.pk not in related for p in pages):
            live_ids = set(Page.objects.live().public().values_list("pk", flat=True))
            related = cls.bulk_related(pages, live_ids, state)
        wanted = {i for page in pages for i in related.get(page.pk, [])}
        cards = cls.listing_queryset().in_bulk(wanted)
        others = wanted - cards.keys()
        if others:
            cards.update((p.pk, p) for p in Page.objects.filter(pk__in=others).specific(defer=True))
        for page in pages:
            page._prepared_related = [cards[i] for i in related[page.pk] if i in cards]
