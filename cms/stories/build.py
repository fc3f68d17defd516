"""The stories' side of the static build: what each listing and each story's page shows, for every story at
once in a few queries (a full build of 20,000 stories asks the database a handful of questions, not 20,000).

`StoryBuildMixin.bulk_related` is the one rule for a story's related stories: the static build, the
preview and `StoryPage.related_stories()` (the CMS's own rendering) all go through it.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from wagtail.models import Page

from cms.core.models import ROW_ORDER, Street, Tag
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


ALL = ("all", 0)  # the group of every live story: the listing of the stories' index


@dataclass
class StoriesIndex:
    """Dates, streets, tags, people and editors' picks of every live story, and each group a story's
    related stories and the listings are chosen from (its tags, its street, all stories), sorted.

    A full build reads it in a few queries; a publish brings the previous build's index up to date for the
    stories it changed (`update`), in a few small queries, so its cost does not grow with the site."""

    live: dict[int, tuple]  # story id -> (date, street id)
    tags_of: dict[int, list[int]]
    tag_names: dict[int, list[str]]
    picks: dict[int, list[int]]  # story id -> the ids of the pages its editors picked, in order
    people: dict[int, list] = field(default_factory=dict)
    # ("tag", id) / ("street", id) / ALL -> [(date, story id)], oldest first
    groups: dict[tuple, list[tuple]] = field(default_factory=dict)
    picked_by: dict[int, set[int]] = field(default_factory=dict)  # page id -> the stories that pick it

    def group_names(self, pk: int) -> list[tuple]:
        """The related-story groups of a live story: its tags and its street."""
        names = [("tag", t) for t in self.tags_of.get(pk, [])]
        street = self.live[pk][1] if pk in self.live else None
        if street:
            names.append(("street", street))
        return names

    def index_groups(self):
        """Every group, sorted, and who picks what: from live, tags_of and picks."""
        groups: dict[tuple, list[tuple]] = {}
        for pk, (date, _street) in self.live.items():
            key = (date, pk)
            groups.setdefault(ALL, []).append(key)
            for name in self.group_names(pk):
                groups.setdefault(name, []).append(key)
        for group in groups.values():
            group.sort()
        self.groups = groups
        self.picked_by = {}
        for page_id, related in self.picks.items():
            for related_id in related:
                self.picked_by.setdefault(related_id, set()).add(page_id)

    def update(self, changed: set[int], fresh: StoriesIndex) -> tuple[set[int], dict[tuple, int]]:
        """Put `fresh`'s entries (an index read for the `changed` stories only) in place of theirs.

        Returns the live stories whose related stories or signature may differ, and for each group whose
        members changed the lowest position (oldest first) touched, below which its archive pages are
        unchanged. A story S is affected by a change of X when S is X, picks X, or is among the
        RELATED_WINDOW stories just newer than X in a group X leaves or joins (S's window of older stories in
        that group may hold X before or after): the others' windows hold the same stories as before.
        """
        affected: set[int] = set(changed)
        low: dict[tuple, int] = {}

        def touch(name: tuple, group: list[tuple], position: int):
            low[name] = min(low.get(name, position), position)
            if name != ALL:  # the stories whose window of older stories reaches this position
                affected.update(pk for _date, pk in group[position : position + RELATED_WINDOW])

        for pk in changed:  # out, at their old places
            if pk in self.live:
                key = (self.live[pk][0], pk)
                for name in [*self.group_names(pk), ALL]:
                    group = self.groups[name]
                    position = bisect.bisect_left(group, key)
                    del group[position]
                    touch(name, group, position)
                    if not group:
                        del self.groups[name]
                for related_id in self.picks.get(pk, []):
                    self.picked_by.get(related_id, set()).discard(pk)
            for table in (self.live, self.tags_of, self.tag_names, self.picks, self.people):
                table.pop(pk, None)
        for pk in changed:  # in, at their new places
            if pk not in fresh.live:
                continue
            self.live[pk] = fresh.live[pk]
            for table, source in (
                (self.tags_of, fresh.tags_of),
                (self.tag_names, fresh.tag_names),
                (self.picks, fresh.picks),
                (self.people, fresh.people),
            ):
                if pk in source:
                    table[pk] = source[pk]
            key = (self.live[pk][0], pk)
            for name in [*self.group_names(pk), ALL]:
                group = self.groups.setdefault(name, [])
                position = bisect.bisect_left(group, key)
                group.insert(position, key)
                touch(name, group, position + 1)
                low[name] = min(low[name], position)
            for related_id in self.picks.get(pk, []):
                self.picked_by.setdefault(related_id, set()).add(pk)
        for pk in changed:
            affected.update(self.picked_by.get(pk, ()))
        return affected & self.live.keys(), low


def listing_signatures(index: StoriesIndex, intro: str, versions: Versions, state: BuildState) -> dict[str, object]:
    """Every route of the stories' listing (front and archive pages of the index, of each tag and each
    street, the feed), with the ids and versions of what it shows.

    A publish recomputes only the listings its stories left or joined, and in each only the archive pages
    from the lowest position it touched (archive pages are numbered from the oldest: those below it hold
    the same stories as before); every other listing keeps the objects of the previous build, which
    routes.collect_routes recognises without encoding them again."""
    per_page = settings.STORIES_PER_PAGE
    tag_ids = {name[1] for name in index.groups if name[0] == "tag"}
    tag_slugs = dict(Tag.objects.filter(pk__in=tag_ids).values_list("pk", "slug"))
    streets = {s.pk: s for s in Street.objects.filter(pk__in={name[1] for name in index.groups if name[0] == "street"})}
    context = (intro, tag_slugs, {pk: street_version(s) for pk, s in streets.items()})
    previous = state.listings if state.listings and state.listings["context"] == context else None
    low = (state.stories_changes or {}).get("low") if previous is not None else None
    listings: dict[tuple, dict[str, object]] = {}

    def card(pk):
        return (pk, versions.get(pk))

    def listing(name: tuple, base: str, extra: object, front_extra: object = None):
        oldest_first = index.groups.get(name, [])
        total, done = len(oldest_first), previous["listings"].get(name) if previous else None
        head = total % per_page or (per_page if total else 0)
        count = (total - head) // per_page
        if done is not None and low is not None and name not in low:
            listings[name] = done
            return
        routes: dict[str, object] = {}
        first = 1
        if done is not None and low is not None:
            old_count = done["count"]
            first = max(1, min(low[name] // per_page + 1, old_count, count))
            routes.update((k, v) for k, v in done["routes"].items() if k != base and _number(k, base) < first)
        for k in range(first, count + 1):
            chunk = [card(pk) for _date, pk in reversed(oldest_first[(k - 1) * per_page : k * per_page])]
            routes[f"{base}page/{k}/"] = (chunk, k + 1 if k < count else 0, k - 1 if k > 1 else None, extra)
        front = [
            card(pk) for _date, pk in reversed(oldest_first[total - per_page :] if total > per_page else oldest_first)
        ]
        routes[base] = (front, count or None, extra, front_extra)
        listings[name] = {"count": count, "routes": routes}

    # Only the front page of the index shows the tag and street lists (with counts).
    aside = (
        sorted((tag_slugs[name[1]], len(group)) for name, group in index.groups.items() if name[0] == "tag"),
        sorted(streets[name[1]].slug for name in index.groups if name[0] == "street"),
    )
    listing(ALL, "", ("index", intro), aside)
    for name in index.groups:
        if name[0] == "tag":
            listing(name, f"tag/{tag_slugs[name[1]]}/", ("tag", name[1]))
        elif name[0] == "street":
            listing(name, f"street/{streets[name[1]].slug}/", ("street", context[2][name[1]]))
    state.listings = {"context": context, "listings": listings}
    routes: dict[str, object] = {}
    for done in listings.values():
        routes.update(done["routes"])
    routes["feed.xml"] = [card(pk) for _date, pk in reversed(index.groups.get(ALL, [])[-30:])]
    return routes


def _number(route: str, base: str) -> int:
    """The archive page's number of a listing's route ("tag/x/page/12/" -> 12)."""
    return int(route[len(base) :].split("/")[1])


class StoryBuildMixin:
    """StoryPage's part of the static build's interface (cms/core/publishing_protocol.py) and the bulk reads
    behind it. `cls` is the page class; `cls.listing_queryset()` its live public stories as listings show
    them."""

    @classmethod
    def read_index(cls, pks: set[int] | None = None) -> StoriesIndex:
        """The index of every live story, or of the stories `pks` only, in four queries.

        Queries filter by joins, not by lists of thousands of ids, which Django prepares one by one."""

        def only(queryset, field):
            return queryset if pks is None else queryset.filter(**{f"{field}__in": pks})

        live = {
            pk: (date, street_id)
            for pk, date, street_id in only(cls.listing_queryset(), "pk").values_list("pk", "date", "street_id")
        }
        tags_of: dict[int, list[int]] = {}
        tag_names: dict[int, list[str]] = {}
        for story_id, tag_id, name in only(
            StoryPageTag.objects.filter(content_object__live=True), "content_object_id"
        ).values_list("content_object_id", "tag_id", "tag__name"):
            if story_id in live:
                tags_of.setdefault(story_id, []).append(tag_id)
                tag_names.setdefault(story_id, []).append(name)
        picks: dict[int, list[int]] = {}
        for page_id, related_id in (
            only(StoryRelatedPage.objects.filter(page__live=True), "page_id")
            .order_by(*ROW_ORDER)
            .values_list("page_id", "related_page_id")
        ):
            picks.setdefault(page_id, []).append(related_id)
        people: dict[int, list] = {}
        for page_id, *person in (
            only(StoryPerson.objects.filter(page__live=True), "page_id")
            .order_by(*ROW_ORDER)
            .values_list("page_id", "person__pk", "person__name", "person__role", "person__organisation")
        ):
            people.setdefault(page_id, []).append(person)
        return StoriesIndex(live, tags_of, tag_names, picks, people)

    @classmethod
    def live_index(cls, state: BuildState | None = None) -> StoriesIndex:
        """The index of every live story, read once per build; in a publish after a build (state.changed),
        the previous build's index brought up to date for the changed pages."""
        if state is not None and state.stories_index is not None:
            if state.changed is not None and state.stories_changes is None:
                changed = set(state.changed)
                affected, low = state.stories_index.update(changed, cls.read_index(changed))
                state.stories_changes = {"affected": affected, "low": low}
            return state.stories_index
        index = cls.read_index()
        index.index_groups()
        if state is not None:
            state.stories_index = index
        return index

    @classmethod
    def signatures_affected(cls, changed: set[int], state: BuildState) -> set[int]:
        """The stories whose signature may differ after `changed` were published or unpublished."""
        cls.live_index(state)
        return set(state.stories_changes["affected"]) if state.stories_changes else set(cls.live_index(state).live)

    @classmethod
    def near_index(cls, page: Page) -> StoriesIndex:
        """The part of live_index that one story's related stories depend on, in a few small queries: the
        story, and in each of its tag and street groups the RELATED_WINDOW live stories just older than it
        (its picks are the caller's: `related_stories()` gives the version being rendered). bulk_related
        gives the same answer over it as over the whole index (a group's window is all it reads, and
        stories fetched for another group that also belong to this one are older than the window), so the
        CMS's own rendering of a story (preview, `related_stories()`) does not read every live story."""
        stories = cls.listing_queryset()
        own = stories.filter(pk=page.pk).values_list("pk", "date", "street_id").first()
        index = StoriesIndex({}, {}, {}, {})
        if own is None:  # not live: bulk_related gives a draft its picks only
            return index
        pk, date, street_id = own
        live = index.live
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
            index.tags_of.setdefault(story_id, []).append(tag_id)
        index.index_groups()
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
        live, picks = index.live, index.picks
        missing = [p.pk for p in pages if p.pk not in live and p.pk not in picks]
        if missing:  # drafts being previewed or prepared: not in the live index
            for page_id, related_id in (
                StoryRelatedPage.objects.filter(page_id__in=missing)
                .order_by(*ROW_ORDER)
                .values_list("page_id", "related_page_id")
            ):
                picks = {**picks, page_id: [*picks.get(page_id, []), related_id]}
        out = {}
        for page in pages:
            chosen = [i for i in picks.get(page.pk, []) if i in live_ids][:RELATED_COUNT]
            if len(chosen) < RELATED_COUNT and page.pk in live:
                own = (live[page.pk][0], page.pk)
                found: set[tuple] = set()
                for name in index.group_names(page.pk):  # in each group, the few stories just older than this one
                    group = index.groups.get(name, [])
                    end = bisect.bisect_left(group, own)
                    found.update(key for key in group[max(0, end - RELATED_WINDOW) : end] if key[1] not in chosen)
                chosen += [pk for _date, pk in sorted(found, reverse=True)[: RELATED_COUNT - len(chosen)]]
            out[page.pk] = chosen
        return out

    @classmethod
    def static_signatures_bulk(cls, pages: Sequence[Page], versions: Versions, state: BuildState) -> dict[int, object]:
        """What each story's page depends on: its version, street, tags, people and related cards. In a
        publish after a build, `pages` are only the stories `signatures_affected` named, and the related
        stories of the others are kept."""
        related = cls.bulk_related(pages, set(versions), state)
        if state.changed is not None and state.related_stories is not None:
            for pk in state.changed - versions.keys():  # no longer live
                state.related_stories.pop(pk, None)
            state.related_stories.update(related)
        else:
            state.related_stories = related
        index = cls.live_index(state)
        live, tag_names = index.live, index.tag_names
        streets = {s.pk: street_version(s) for s in Street.objects.all()}
        return {
            page.pk: (
                versions.get(page.pk),
                streets.get(live.get(page.pk, (None, None))[1]),
                sorted(tag_names.get(page.pk, [])),
                index.people.get(page.pk, []),
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
        if related is None and state.stories_index is None and len(pages) == 1:
            # No build around it (a preview, a share link): the story's own choice, over the few stories it
            # depends on and with the picks of this version of it, not the live rows of the whole site.
            pages[0]._prepared_related = pages[0].related_stories()
            return
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
