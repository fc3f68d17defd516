"""Stories: what couriers did and how the program works, told by the street offices."""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from rest_framework import serializers
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.contrib.routable_page.models import path
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.core.api import ImageSerializer, StreamSerializer, StreetSerializer, TagsSerializer
from cms.core.archive import build_archive
from cms.core.blocks import BodyStreamBlock
from cms.core.models import BasePage, RoutableBasePage, SiteSettings, Street, Tag
from cms.core.publishing_protocol import BuildState, Versions
from cms.core.sources import SourcesSerializer
from cms.core.sources import json_ld as source_json_ld
from cms.core.text import reading_minutes

from .build import ALL, StoryBuildMixin, listing_signatures
from .feeds import story_feed_response

# The rows a story keeps beside it: imported here so that the app registers them with its models.
from .relations import StoryPageTag, StoryPerson, StoryRelatedPage, StorySource  # noqa: F401


def listing_ids(cache: dict | None, queryset, base_path: str, group: tuple | None = None) -> list[int]:
    """The ids a listing shows, newest first; read once per build (the cache) for all its archive pages, from
    the build's index of live stories (the listing's group, cms/stories/build.py) when the build has one."""
    if cache is None:
        return list(queryset.values_list("pk", flat=True))
    key = ("listing", base_path)
    if key not in cache:
        index = cache.get("stories_index")
        if index is not None and group is not None:
            cache[key] = [pk for _date, pk in reversed(index.groups.get(group, []))]
        else:
            cache[key] = list(queryset.values_list("pk", flat=True))
    return cache[key]


def listing_group(kind: str, extra: dict) -> tuple:
    """The group of the build's index of live stories that a listing shows (StoriesIndex.groups)."""
    return ALL if kind == "index" else (kind, extra[kind].pk)


def story_listing_queryset():
    """StoryPage.listing_queryset(): live public stories as listings show them (home lists them too)."""
    return StoryPage.listing_queryset()


class PeopleSerializer(serializers.Field):
    """People in a story, as the public sees them: name, role, organisation. Never the consent record."""

    def to_representation(self, value):
        return [
            {"name": link.person.name, "role": link.person.role, "organisation": link.person.organisation}
            for link in value.all()
            if link.person.may_be_named
        ]


class StoryIndexPage(RoutableBasePage):
    """All stories, with stable archive pages, tag and street pages and a feed, each at a real URL.

    Listings use cms.core.archive: archive pages are numbered from the oldest, so publishing a new
    story changes the front page of each listing it belongs to, not every page of it.
    """

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

    def tags_in_use(self, cache: dict | None = None):
        """The tags of live stories, each with its count (n), the most used first."""
        index = (cache or {}).get("stories_index")
        if index is not None:  # the static build: counted in its index of live stories
            counts = {name[1]: len(group) for name, group in index.groups.items() if name[0] == "tag"}
            tags = list(Tag.objects.filter(pk__in=counts))
            for tag in tags:
                tag.n = counts[tag.pk]
            return sorted(tags, key=lambda t: (-t.n, t.name))
        return (
            Tag.objects.filter(tagged_stories__content_object__in=self.stories().values("pk"))
            .annotate(n=models.Count("tagged_stories"))
            .order_by("-n", "name")
        )

    def streets_in_use(self, cache: dict | None = None):
        index = (cache or {}).get("stories_index")
        if index is not None:
            streets = [name[1] for name in index.groups if name[0] == "street"]
            return Street.objects.filter(pk__in=streets).order_by("name")
        return Street.objects.filter(storypage__in=self.stories().values("pk")).distinct().order_by("name")

    def listing_context(self, request, queryset, number: int | None, base_path: str, group: tuple, **extra) -> dict:
        """Context for the front page (number None) or archive page `number` of a listing."""
        cache = getattr(request, "build_cache", None)  # the static build renders many pages of one listing
        archive = build_archive(listing_ids(cache, queryset, base_path, group), settings.STORIES_PER_PAGE)
        if number is None:
            ids, newer, older, archive_page = archive.front, None, archive.newest_archive, None
        else:
            archive_page = archive.page(number)
            if archive_page is None:
                raise Http404("没有这一页")
            ids, newer, older = archive_page.items, archive_page.newer, archive_page.older
        cards = cache.get("story-cards", {}) if cache is not None else {}  # filled by prepare_routes
        found = cards if all(i in cards for i in ids) else queryset.in_bulk(ids)
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

    def listing(self, cache: dict | None, kind: str, slug: str = "") -> tuple[models.QuerySet, str, dict]:
        """(stories, base path, context) of the index ("index"), a tag's or a street's listing. In the static
        build (a cache) the live stories' query, the tags and the streets are read once, not per page."""
        if cache is None:
            stories = self.stories()
        else:
            stories = cache.get(("stories", self.pk))
            if stories is None:
                stories = cache[("stories", self.pk)] = self.stories()
        if kind == "index":
            return stories, self.url, {}
        model = Tag if kind == "tag" else Street
        if cache is None:
            found = get_object_or_404(model, slug=slug)
        else:
            rows = cache.get(("by-slug", kind))
            if rows is None:
                rows = cache[("by-slug", kind)] = {row.slug: row for row in model.objects.all()}
            found = rows.get(slug)
            if found is None:
                raise Http404(f"没有 {slug}")
        match = {"tagged_items__tag": found} if kind == "tag" else {"street": found}
        return stories.filter(**match), f"{self.url}{kind}/{found.slug}/", {kind: found}

    # -- routes -------------------------------------------------------------------------------
    @path("")
    @path("page/<int:number>/", name="page")
    def index_route(self, request, number: int | None = None):
        stories, base_path, _extra = self.listing(getattr(request, "build_cache", None), "index")
        ctx = self.listing_context(request, stories, number, base_path, ALL)
        if number is None:
            cache = getattr(request, "build_cache", None)
            ctx.update(tags=self.tags_in_use(cache), streets=self.streets_in_use(cache))
        return self.render(request, context_overrides=ctx)

    @path("tag/<slug:tag_slug>/", name="tag")
    @path("tag/<slug:tag_slug>/page/<int:number>/", name="tag_page")
    def tag_route(self, request, tag_slug: str, number: int | None = None):
        qs, base_path, extra = self.listing(getattr(request, "build_cache", None), "tag", tag_slug)
        ctx = self.listing_context(request, qs, number, base_path, listing_group("tag", extra), **extra)
        if not ctx["stories"]:
            raise Http404("这个标签下没有故事")
        return self.render(request, context_overrides=ctx, template="stories/story_tag_page.html")

    @path("street/<slug:street_slug>/", name="street")
    @path("street/<slug:street_slug>/page/<int:number>/", name="street_page")
    def street_route(self, request, street_slug: str, number: int | None = None):
        qs, base_path, extra = self.listing(getattr(request, "build_cache", None), "street", street_slug)
        ctx = self.listing_context(request, qs, number, base_path, listing_group("street", extra), **extra)
        if not ctx["stories"]:
            raise Http404("这个街道还没有故事")
        return self.render(request, context_overrides=ctx, template="stories/story_street_page.html")

    # Wagtail's router appends "/" to sub-paths; cms.urls sends /…/feed.xml here, the static build writes feed.xml.
    @path("feed.xml/", name="feed")
    def feed_route(self, request):
        return story_feed_response(self, self.stories().prefetch_related("tagged_items__tag")[:30])

    # -- the static build's interface ----------------------------------------------------------
    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        """Every route of the listing, with the ids and versions of what it shows (every live story is a
        child of the one stories' index: StoryPage.parent_page_types, StoryIndexPage.max_count)."""
        return listing_signatures(StoryPage.live_index(state), self.intro, versions, state)

    def prepare_routes(self, subpaths: list[str], cache: dict) -> None:
        """The cards of every listing page the build renders here, in one query plan (listing_context reads
        them from the cache): a query per listing for its ids, then one for the cards and their pictures."""
        wanted: set[int] = set()
        routes = {"index_route": "index", "tag_route": "tag", "street_route": "street"}
        for subpath in subpaths:
            try:
                view, _args, kwargs = self.resolve_subpage("/" + subpath if subpath else "/")
                kind = routes.get(view.__name__)
                if kind is None:
                    continue
                stories, base_path, extra = self.listing(cache, kind, kwargs.get(f"{kind}_slug", ""))
            except Http404:
                continue
            group = listing_group(kind, extra)
            archive = build_archive(listing_ids(cache, stories, base_path, group), settings.STORIES_PER_PAGE)
            number = kwargs.get("number")
            page = archive.page(number) if number is not None else None
            wanted.update(archive.front if number is None else page.items if page else ())
        cards = cache.setdefault("story-cards", {})
        missing = wanted - cards.keys()
        if missing:
            cards.update(self.listing(cache, "index")[0].in_bulk(missing))


class StoryPage(StoryBuildMixin, BasePage):
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
        InlinePanel("source_links", label="来源", help_text="故事依据的出处；提到真实人物或引用原话的故事必须列出"),
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
        # Listings, the feed and the home page ask for the newest few stories (ORDER BY date, id LIMIT n): with
        # these the database reads them off an index instead of sorting every story (44 ms at 20,000 on SQLite).
        indexes = [
            models.Index(F("date").desc(), F("page_ptr").desc(), name="story_newest"),
            models.Index(
                F("date").desc(), F("page_ptr").desc(), name="story_featured_newest", condition=Q(featured=True)
            ),
        ]

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
        context["json_ld"] = self.json_ld(SiteSettings.load(request))
        own = self.get_url(request)
        context["index_url"] = own[: own.rstrip("/").rfind("/") + 1] if own else ""
        return context

    def related_stories(self) -> list[Page]:
        """The related stories under the page: the static build's choice (StoryBuildMixin.bulk_related), for
        this one story, over the few stories it can depend on (near_index), not the whole site. The editors'
        picks are this object's (a preview's are the draft's, read through the cluster manager)."""
        cls = type(self)
        state = BuildState()
        state.stories_index = cls.near_index(self)
        picks = [link.related_page_id for link in self.related_links.all()]
        state.stories_index.picks[self.pk] = picks
        live_ids = set(Page.objects.live().public().filter(pk__in=picks).values_list("pk", flat=True))
        state.related_stories = cls.bulk_related([self], live_ids, state)
        cls.prepare_build([self], state)
        return self._prepared_related

    @classmethod
    def listing_queryset(cls) -> models.QuerySet:
        """Live public stories, newest first, with what a listing card shows in a fixed number of queries."""
        return (
            cls.objects.live()
            .public()
            .defer_streamfields()
            .select_related("street", "hero_image", "listing_image")
            .prefetch_related("hero_image__renditions", "listing_image__renditions")
            .order_by("-date", "-pk")
        )

    def json_ld(self, site_settings=None) -> str:
        """schema.org Article for search engines, with public URLs only, each of a file in the release.
        site_settings: the request's (get_context passes them, so a build reads them once, not per page)."""
        from cms.core.share import share_image_url

        publisher = (site_settings or SiteSettings.load()).author_name
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
