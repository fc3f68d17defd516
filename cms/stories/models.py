"""Stories: what couriers did and how the program works, told by the street offices."""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Paginator
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import ItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from cms.core.blocks import BodyStreamBlock
from cms.core.models import BasePage, Street, Tag
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
        .order_by("-date", "-first_published_at", "-pk")
    )


class StoryIndexPage(RoutablePageMixin, BasePage):
    """All stories, with pagination, tag and street pages and a feed, each at a real URL."""

    intro = models.TextField("导语", blank=True)
    feed_path = "feed.xml"

    content_panels = [*BasePage.content_panels, FieldPanel("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["stories.StoryPage"]
    max_count = 1
    page_description = "故事栏目的首页：按时间列出全部故事，并提供标签页、街道页和订阅源。"

    class Meta:
        verbose_name = "故事栏目"

    # -- data ---------------------------------------------------------------------------------
    def stories(self):
        return story_listing_queryset().child_of(self)

    def paginate(self, queryset, number: int):
        paginator = Paginator(queryset, settings.STORIES_PER_PAGE)
        try:
            return paginator.page(number)
        except EmptyPage:
            raise Http404("没有这一页") from None

    def tags_in_use(self):
        return (
            Tag.objects.filter(tagged_stories__content_object__in=self.stories().values("pk"))
            .annotate(n=models.Count("tagged_stories"))
            .order_by("-n", "name")
        )

    def streets_in_use(self):
        return Street.objects.filter(storypage__in=self.stories().values("pk")).distinct().order_by("name")

    def listing_context(self, request, queryset, number, base_path, **extra):
        page_obj = self.paginate(queryset, number)
        return {
            "page_obj": page_obj,
            "stories": page_obj.object_list,
            "base_path": base_path,
            "tags": self.tags_in_use(),
            "streets": self.streets_in_use(),
            **extra,
        }

    # -- routes -------------------------------------------------------------------------------
    @path("")
    @path("page/<int:number>/", name="page")
    def index_route(self, request, number: int = 1):
        if number == 1 and request.path.rstrip("/").endswith("/page/1"):
            raise Http404
        ctx = self.listing_context(request, self.stories(), number, self.url)
        return self.render(request, context_overrides=ctx)

    @path("tag/<slug:tag_slug>/", name="tag")
    @path("tag/<slug:tag_slug>/page/<int:number>/", name="tag_page")
    def tag_route(self, request, tag_slug: str, number: int = 1):
        tag = get_object_or_404(Tag, slug=tag_slug)
        qs = self.stories().filter(tagged_items__tag=tag)
        ctx = self.listing_context(request, qs, number, f"{self.url}tag/{tag.slug}/", tag=tag)
        return self.render(request, context_overrides=ctx, template="stories/story_tag_page.html")

    @path("street/<slug:street_slug>/", name="street")
    @path("street/<slug:street_slug>/page/<int:number>/", name="street_page")
    def street_route(self, request, street_slug: str, number: int = 1):
        street = get_object_or_404(Street, slug=street_slug)
        qs = self.stories().filter(street=street)
        ctx = self.listing_context(request, qs, number, f"{self.url}street/{street.slug}/", street=street)
        return self.render(request, context_overrides=ctx, template="stories/story_street_page.html")

    # Wagtail's router appends "/" to sub-paths; cms.urls sends /…/feed.xml here, the static build writes feed.xml.
    @path("feed.xml/", name="feed")
    def feed_route(self, request):
        return story_feed_response(self, self.stories()[:30])

    # -- the static build's interface ----------------------------------------------------------
    def get_static_routes(self) -> list[str]:
        per_page = settings.STORIES_PER_PAGE
        stories = self.stories()
        routes = ["", "feed.xml"]
        pages = max(1, -(-stories.count() // per_page))
        routes += [f"page/{n}/" for n in range(2, pages + 1)]
        for tag in self.tags_in_use():
            routes.append(f"tag/{tag.slug}/")
            routes += [f"tag/{tag.slug}/page/{n}/" for n in range(2, -(-tag.n // per_page) + 1)]
        for street in self.streets_in_use():
            count = stories.filter(street=street).count()
            routes.append(f"street/{street.slug}/")
            routes += [f"street/{street.slug}/page/{n}/" for n in range(2, -(-count // per_page) + 1)]
        return routes


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

    content_panels = [
        *BasePage.content_panels,
        FieldPanel("summary"),
        MultiFieldPanel([FieldPanel("date"), FieldPanel("street"), FieldPanel("tags")], heading="时间、地点与标签"),
        MultiFieldPanel(
            [FieldPanel("hero_image"), FieldPanel("hero_caption"), FieldPanel("hero_credit")], heading="题图"
        ),
        FieldPanel("body"),
        InlinePanel("featured_people", label="出现的人物", help_text="只能选择已有同意记录的人物"),
        InlinePanel("related_links", label="相关页面"),
    ]
    promote_panels = [*BasePage.promote_panels, FieldPanel("featured")]

    search_fields = [
        *BasePage.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("date"),
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
        return sorted(self.tags.all(), key=lambda t: t.name)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Read through the cluster managers so a preview shows the draft's tags and people, not the live ones.
        context["story_tags"] = self.tag_list
        context["people"] = [link.person for link in self.featured_people.all().select_related("person")]
        context["related_stories"] = self.related_stories()
        parent = getattr(self, "_cached_parent_obj", None) or (self.get_parent() if self.path else None)
        context["index_url"] = parent.get_url(request) if parent else ""
        return context

    def related_stories(self, limit: int = 3) -> list[Page]:
        """Editors' picks first, then the newest stories sharing a tag or the street."""
        chosen_ids = [link.related_page_id for link in self.related_links.all()]
        found: dict[int, Page] = {}
        if chosen_ids:
            found = {p.pk: p for p in story_listing_queryset().filter(pk__in=chosen_ids)}
            others = [i for i in chosen_ids if i not in found]
            if others:
                found.update((p.pk, p) for p in Page.objects.filter(pk__in=others).live().public().specific(defer=True))
        picks = [found[i] for i in chosen_ids if i in found]
        if len(picks) < limit and self.pk:
            tag_ids = [t.pk for t in self.tag_list]
            similar = (
                story_listing_queryset()
                .exclude(pk=self.pk)
                .exclude(pk__in=[p.pk for p in picks])
                .filter(models.Q(tagged_items__tag__in=tag_ids) | models.Q(street_id=self.street_id))
                .distinct()[: limit - len(picks)]
            )
            picks += list(similar)
        return picks[:limit]

    def json_ld(self) -> str:
        """schema.org Article for search engines, with public URLs only."""
        data = {
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": self.title,
            "description": self.summary,
            "datePublished": self.date.isoformat(),
            "inLanguage": "zh-CN",
            "mainEntityOfPage": self.public_url(),
            "publisher": {"@type": "Organization", "name": "小哥"},
            "keywords": [t.name for t in self.tag_list],
        }
        if self.last_published_at:
            data["dateModified"] = timezone.localtime(self.last_published_at).isoformat()
        if self.street_id:
            data["contentLocation"] = {"@type": "Place", "name": self.street.full_name}
        if self.hero_image_id:
            rendition = self.hero_image.get_rendition("fill-1200x675|format-jpeg")
            data["image"] = settings.PUBLIC_BASE_URL + rendition.url
        # Escape "<" so a title can never close the script element.
        return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")

    def get_listing_pages(self) -> list[Page]:
        site = self.get_site()
        return [*super().get_listing_pages(), *([site.root_page.specific] if site else [])]
