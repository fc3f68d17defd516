"""Stories: what couriers did and how the program works, told by the street offices."""

from __future__ import annotations

import bisect
import datetime
import json
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from rest_framework import serializers
from taggit.models import ItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.api import APIField
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from cms.core.api import ImageSerializer, StreamSerializer, StreetSerializer, TagsSerializer
from cms.core.archive import build_archive
from cms.core.blocks import BodyStreamBlock
from cms.core.models import BasePage, SourceLink, Street, Tag
from cms.core.publishing_protocol import BuildState, Versions
from cms.core.sources import SourcesSerializer
from cms.core.sources import json_ld as source_json_ld
from cms.core.text import reading_minutes

from .feeds import story_feed_response


class StoryPageTag(ItemBase):
    tag = models.ForeignKey(Tag, related_name="tagged_stories", on_delete=models.CASCADE)
    content_object = ParentalKey("stories.StoryPage", related_name="tagged_items", on_delete=models.CASCADE)


class StoryPerson(Orderable):
    page = ParentalKey("stories.StoryPage", related_name="featured_people", on_delete=models.CASCADE)
    person = models.ForeignKey("core.Person", verbose_name="人物", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("person")]

    class Meta(Orderable.Meta):
        verbose_name = "出现的人物"


class StorySource(SourceLink):
    page = ParentalKey("stories.StoryPage", related_name="source_links", on_delete=models.CASCADE)


class StoryRelatedPage(Orderable):
    page = ParentalKey("stories.StoryPage", related_name="related_links", on_delete=models.CASCADE)
    related_page = models.ForeignKey(
        "wagtailcore.Page", verbose_name="相关页面", on_delete=models.CASCADE, related_name="+"
    )

    panels = [PageChooserPanel("related_page")]

    class Meta(Orderable.Meta):
        verbose_name = "相关页面"


def story_listing_queryset():
    """Live public stories, newest first, with what a listing card shows in a fixed number of queries."""
    return (
        StoryPage.objects.live()
        .public()
        .defer_streamfields()
        .select_related("street", "hero_image", "listing_image")
        .prefetch_related("hero_image__renditions", "listing_image__renditions")
        .order_by("-date", "-pk")
    )


class PeopleSerializer(serializers.Field):
    """People in a story, as the public sees them: name, role, organisation. Never the consent record."""

    def to_representation(self, value):
        return [
            {"name": link.person.name, "role": link.person.role, "organisation": link.person.organisation}
            for link in value.all()
            if link.person.may_be_named
        ]


class StoryIndexPage(RoutablePageMixin, BasePage):
    """All stories, with stable archive pages, tag and street pages and a feed, each at a real URL.

    Listings use cms.core.archive: archive pages are numbered from the oldest, so publishing a new
    story changes the front page of each listing it belongs to, not every page of it.
    """

    serve_preview = BasePage.serve_preview  # the static build's rendering, not the router's

    intro = models.TextField("导语", blank=True)
    feed_path = "feed.xml"

    content_panels = [*BasePage.content_panels, FieldPanel("intro")]
    api_fields = [APIField("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["stories.StoryPage"]
    max_count = 1
    page_description = "故事栏目的首页：按时间列出全部故事，并提供标签页、街道页和订阅源。"

    class Meta:
        verbose_name = "故事栏目"

    # -- data ---------------------------------------------------------------------------------
    def stories(self):
        return story_listing_queryset().child_of(self)

    def tags_in_use(self):
        return (
            Tag.objects.filter(tagged_stories__content_object__in=self.stories().values("pk"))
            .annotate(n=models.Count("tagged_stories"))
            .order_by("-n", "name")
        )

    def streets_in_use(self):
        return Street.objects.filter(storypage__in=self.stories().values("pk")).distinct().order_by("name")

    def listing_context(self, request, queryset, number: int | None, base_path: str, **extra) -> dict:
        """Context for the front page (number None) or archive page `number` of a listing."""
        cache = getattr(request, "build_cache", None)  # the static build renders many pages of one listing
        key = ("listing", base_path)
        if cache is not None and key in cache:
            ids = cache[key]
        else:
            ids = list(queryset.values_list("pk", flat=True))
            if cache is not None:
                cache[key] = ids
        archive = build_archive(ids, settings.STORIES_PER_PAGE)
        if number is None:
            ids, newer, older, archive_page = archive.front, None, archive.newest_archive, None
        else:
            archive_page = archive.page(number)
            if archive_page is None:
                raise Http404("没有这一页")
            ids, newer, older = archive_page.items, archive_page.newer, archive_page.older
        found = queryset.in_bulk(ids)
        stories = [found[i] for i in ids]

        def url(n):
            if n is None:
                return None
            return base_path if n == 0 else f"{base_path}page/{n}/"

        return {
            "stories": stories,
            "archive_page": archive_page,
            "newer_url": url(newer),
            "older_url": url(older),
            "date_range": (stories[-1].date, stories[0].date) if stories else None,
            "total": len(archive.front) + sum(len(p.items) for p in archive.pages),
            **extra,
        }

    # -- routes -------------------------------------------------------------------------------
    @path("")
    @path("page/<int:number>/", name="page")
    def index_route(self, request, number: int | None = None):
        ctx = self.listing_context(request, self.stories(), number, self.url)
        if number is None:
            ctx.update(tags=self.tags_in_use(), streets=self.streets_in_use())
        return self.render(request, context_overrides=ctx)

    @path("tag/<slug:tag_slug>/", name="tag")
    @path("tag/<slug:tag_slug>/page/<int:number>/", name="tag_page")
    def tag_route(self, request, tag_slug: str, number: int | None = None):
        tag = get_object_or_404(Tag, slug=tag_slug)
        qs = self.stories().filter(tagged_items__tag=tag)
        ctx = self.listing_context(request, qs, number, f"{self.url}tag/{tag.slug}/", tag=tag)
        if not ctx["stories"]:
            raise Http404("这个标签下没有故事")
        return self.render(request, context_overrides=ctx, template="stories/story_tag_page.html")

    @path("street/<slug:street_slug>/", name="street")
    @path("street/<slug:street_slug>/page/<int:number>/", name="street_page")
    def street_route(self, request, street_slug: str, number: int | None = None):
        street = get_object_or_404(Street, slug=street_slug)
        qs = self.stories().filter(street=street)
        ctx = self.listing_context(request, qs, number, f"{self.url}street/{street.slug}/", street=street)
        if not ctx["stories"]:
            raise Http404("这个街道还没有故事")
        return self.render(request, context_overrides=ctx, template="stories/story_street_page.html")

    # Wagtail's router appends "/" to sub-paths; cms.urls sends /…/feed.xml here, the static build writes feed.xml.
    @path("feed.xml/", name="feed")
    def feed_route(self, request):
        return story_feed_response(self, self.stories().prefetch_related("tagged_items__tag")[:30])

    # -- the static build's interface ----------------------------------------------------------
    def static_signatures(self, versions: Versions) -> dict[str, object]:
        """Every route of the listing, with the ids and versions of what it shows."""
        per_page = settings.STORIES_PER_PAGE
        rows = list(self.stories().order_by("-date", "-pk").values_list("pk", "street_id"))
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
        listing("", ids, ("index", self.intro), aside)
        for tag_id, members in tags.items():
            members.sort(key=order.__getitem__)
            listing(f"tag/{tag_slugs[tag_id]}/", members, ("tag", tag_id))
        for street in streets.values():
            members = [pk for pk, sid in rows if sid == street.pk]
            listing(f"street/{street.slug}/", members, ("street", street_version(street)))
        routes["feed.xml"] = [card(i) for i in ids[:30]]
        return routes


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


class StoryPage(BasePage):
    """One story: a courier, a station, an evening of dumplings."""

    summary = models.TextField("摘要", max_length=300, help_text="一两句话，出现在列表、搜索结果和分享卡片里")
    date = models.DateField("日期", default=datetime.date.today, help_text="故事发生或发布的日期")
    hero_image = models.ForeignKey(
        settings.WAGTAILIMAGES_IMAGE_MODEL,
        verbose_name="题图",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="图片必须有替代文字（在图片库中编辑“描述”）",
    )
    hero_caption = models.CharField("题图说明", max_length=255, blank=True, help_text="留空则使用图片自带的说明")
    hero_credit = models.CharField("题图来源", max_length=120, blank=True, help_text="留空则使用图片自带的来源")
    body = StreamField(BodyStreamBlock(), verbose_name="正文")
    tags = ClusterTaggableManager(through=StoryPageTag, blank=True, verbose_name="标签")
    street = models.ForeignKey(
        Street, verbose_name="街道", null=True, blank=True, on_delete=models.SET_NULL, help_text="故事发生的街道"
    )
    featured = models.BooleanField("在首页推荐", default=False)
    illustrative = models.BooleanField(
        "情景示例",
        default=False,
        help_text="编写的场景或综合人物，不是报道：页面、列表和分享卡片上都会标明“情景示例”；不能出现真实人物",
    )

    content_panels = [
        *BasePage.content_panels,
        FieldPanel("summary"),
        MultiFieldPanel([FieldPanel("date"), FieldPanel("street"), FieldPanel("tags")], heading="时间、地点与标签"),
        MultiFieldPanel(
            [FieldPanel("hero_image"), FieldPanel("hero_caption"), FieldPanel("hero_credit")], heading="题图"
        ),
        FieldPanel("illustrative"),
        FieldPanel("body"),
        InlinePanel(
            "source_links", label="来源", help_text="故事依据的出处；提到真实人物或引用原话的故事必须列出"
        ),
        InlinePanel("featured_people", label="出现的人物", help_text="只能选择有公开报道出处或同意记录的人物"),
        InlinePanel("related_links", label="相关页面"),
    ]
    promote_panels = [*BasePage.promote_panels, FieldPanel("featured")]

    search_fields = [
        *BasePage.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("date"),
    ]

    api_fields = [
        APIField("summary"),
        APIField("date"),
        APIField("hero_image", serializer=ImageSerializer()),
        APIField("hero_caption", serializer=serializers.CharField(source="display_hero_caption")),
        APIField("hero_credit", serializer=serializers.CharField(source="display_hero_credit")),
        APIField("body", serializer=StreamSerializer()),
        APIField("tags", serializer=TagsSerializer()),
        APIField("street", serializer=StreetSerializer()),
        APIField("people", serializer=PeopleSerializer(source="featured_people")),
        APIField("featured"),
        APIField("illustrative"),
        APIField("sources", serializer=SourcesSerializer(source="source_links")),
    ]

    parent_page_types = ["stories.StoryIndexPage"]
    subpage_types: list[str] = []
    page_description = "一个故事：一位小哥、一个驿站、一次活动。"

    class Meta:
        verbose_name = "故事"
        verbose_name_plural = "故事"

    def clean(self):
        super().clean()
        errors = {}
        if self.hero_image_id and not (self.hero_image.description or "").strip():
            errors["hero_image"] = "这张图片没有替代文字：请先在图片库中填写“描述”，让读屏软件的用户也知道图上是什么。"
        if self.date and self.date > timezone.localdate() + datetime.timedelta(days=366):
            errors["date"] = "日期不能晚于一年之后。"
        if errors:
            raise ValidationError(errors)

    # -- display ------------------------------------------------------------------------------
    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.body_text())

    def body_text(self) -> str:
        parts = []
        for block in self.body:
            if block.block_type == "paragraph":
                parts.append(block.value.source)
            elif block.block_type == "heading":
                parts.append(block.value["text"])
            elif block.block_type == "quote":
                parts.append(block.value["quote"])
            elif block.block_type == "callout":
                parts.append(block.value["body"].source)
        return "\n".join(parts)

    @property
    def display_hero_caption(self) -> str:
        return self.hero_caption or (self.hero_image.caption if self.hero_image else "")

    @property
    def display_hero_credit(self) -> str:
        return self.hero_credit or (self.hero_image.credit if self.hero_image else "")

    @cached_property
    def tag_list(self) -> list[Tag]:
        items = self.tagged_items.all()
        if "tagged_items" not in getattr(self, "_prefetched_objects_cache", {}):
            items = items.select_related("tag")
        return sorted((item.tag for item in items), key=lambda t: t.name)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Read through the cluster managers so a preview shows the draft's tags and people, not the live ones.
        context["story_tags"] = self.tag_list
        people = self.featured_people.all()
        if "featured_people" not in getattr(self, "_prefetched_objects_cache", {}):
            people = people.select_related("person")
        context["people"] = [link.person for link in people]
        links = self.source_links.all()
        if "source_links" not in getattr(self, "_prefetched_objects_cache", {}):
            links = links.select_related("source")
        context["sources"] = [link.source for link in links]
        context["related_stories"] = getattr(self, "_prepared_related", None)
        if context["related_stories"] is None:
            context["related_stories"] = self.related_stories()
        own = self.get_url(request)
        context["index_url"] = own[: own.rstrip("/").rfind("/") + 1] if own else ""
        return context

    def related_stories(self, limit: int = 3) -> list[Page]:
        """Editors' picks first, then the newest *older* stories sharing a tag or the street.

        Only older stories are suggested, so publishing a new story never changes the pages of earlier
        ones (see static_signatures, which computes the same choice in bulk).
        """
        chosen_ids = [link.related_page_id for link in self.related_links.all()]
        found: dict[int, Page] = {}
        if chosen_ids:
            found = {p.pk: p for p in story_listing_queryset().filter(pk__in=chosen_ids)}
            others = [i for i in chosen_ids if i not in found]
            if others:
                found.update((p.pk, p) for p in Page.objects.filter(pk__in=others).live().public().specific(defer=True))
        picks = [found[i] for i in chosen_ids if i in found][:limit]
        if len(picks) < limit and self.pk:
            tag_ids = [t.pk for t in self.tag_list]
            older = models.Q(date__lt=self.date) | models.Q(date=self.date, pk__lt=self.pk)
            similar = (
                story_listing_queryset()
                .filter(older)
                .exclude(pk__in=[p.pk for p in picks])
                .filter(models.Q(tagged_items__tag__in=tag_ids) | models.Q(street_id=self.street_id))
                .distinct()[: limit - len(picks)]
            )
            picks += list(similar)
        return picks

    @classmethod
    def live_index(cls, state: BuildState | None = None) -> dict:
        """Dates, streets, tags and editors' picks of every live story, read once per build.

        Queries filter by joins, not by lists of thousands of ids, which Django prepares one by one.
        """
        if state is not None and state.stories_index is not None:
            return state.stories_index
        live = {
            pk: (date, street_id)
            for pk, date, street_id in story_listing_queryset().values_list("pk", "date", "street_id")
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
    def bulk_related(
        cls, pages: list[Page], live_ids: set[int], state: BuildState | None = None
    ) -> dict[int, list[int]]:
        """related_stories() for many stories at once, as ids: the same choice in a few queries."""
        index = cls.live_index(state)
        live, tags_of, picks = index["live"], index["tags_of"], index["picks"]
        missing = [p.pk for p in pages if p.pk not in live]
        street_of = {pk: street for pk, (_date, street) in live.items()}
        if missing:  # drafts being previewed or prepared: not in the live index
            street_of.update(StoryPage.objects.filter(pk__in=missing).values_list("pk", "street_id"))
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
            chosen = [i for i in picks.get(page.pk, []) if i in live_ids][:3]
            if len(chosen) < 3 and page.pk in live:
                own = key(page.pk)
                names = [("tag", t) for t in tags_of.get(page.pk, [])]
                if street_of.get(page.pk):
                    names.append(("street", street_of[page.pk]))
                found: set[int] = set()
                for name in names:  # in each group, the few stories just older than this one
                    group = members.get(name, [])
                    end = bisect.bisect_left(group_keys[name], own)
                    found.update(i for i in group[max(0, end - 6) : end] if i not in chosen)
                chosen += sorted(found, key=key, reverse=True)[: 3 - len(chosen)]
            out[page.pk] = chosen
        return out

    @classmethod
    def static_signatures_bulk(cls, pages: Sequence[Page], versions: Versions, state: BuildState) -> dict[int, object]:
        """What each story's page depends on, for many stories in a handful of queries."""
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
    def prepare_build(cls, pages: list[StoryPage], state: BuildState) -> None:
        """Give each story its related cards, chosen in bulk (see related_stories)."""
        related = state.related_stories
        if related is None or any(p.pk not in related for p in pages):
            live_ids = set(Page.objects.live().public().values_list("pk", flat=True))
            related = cls.bulk_related(pages, live_ids, state)
        wanted = {i for page in pages for i in related.get(page.pk, [])}
        cards = story_listing_queryset().in_bulk(wanted)
        others = wanted - cards.keys()
        if others:
            cards.update((p.pk, p) for p in Page.objects.filter(pk__in=others).specific(defer=True))
        for page in pages:
            page._prepared_related = [cards[i] for i in related[page.pk] if i in cards]

    def json_ld(self) -> str:
        """schema.org Article for search engines, with public URLs only, each of a file in the release."""
        from cms.core.models import SiteSettings
        from cms.core.share import share_image_url

        publisher = SiteSettings.load().author_name
        data = {
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": self.title,
            "description": self.summary,
            "datePublished": self.date.isoformat(),
            "inLanguage": "zh-CN",
            "mainEntityOfPage": self.public_url(),
            # Who publishes the site, as the operator filled it in (else the program): no person is invented.
            "author": {"@type": "Organization", "name": publisher},
            "publisher": {"@type": "Organization", "name": publisher},
            "keywords": [t.name for t in self.tag_list],
        }
        if self.last_published_at:
            data["dateModified"] = timezone.localtime(self.last_published_at).isoformat()
        if self.street_id:
            data["contentLocation"] = {"@type": "Place", "name": self.street.full_name}
        sources = [source_json_ld(link.source) for link in self.source_links.all()]
        if sources:
            data["citation"] = sources
            data["isBasedOn"] = sources
        if self.illustrative:
            data["genre"] = "情景示例"
        image = share_image_url(self)  # the share card's picture: its meta tag brings it into the release
        if image:
            data["image"] = image
        # Escape "<" so a title can never close the script element.
        return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
