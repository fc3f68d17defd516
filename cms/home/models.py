from django.db import models
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.api import APIField
from wagtail.fields import StreamField
from wagtail.models import Page

from cms.core.api import StreamSerializer
from cms.core.blocks import BodyStreamBlock, FigureBlock
from cms.core.models import BasePage, InlineRow
from cms.core.publishing_protocol import BuildState, Versions

# The first screen routes readers by who they are: (who, the sections for them, by model). Sections that are not
# live and in the menu are left out, and a route with none left is not shown.
ROUTES = (
    ("我是快递员、外卖骑手", ("training.trainingindexpage",)),
    ("我是街道、社区干部", ("playbook.playbookpage", "governance.modelindexpage")),
    ("所有读者", ("stories.storyindexpage",)),
)


def reader_routes(sections: list[Page]) -> list[dict]:
    by_model = {section._meta.label_lower: section for section in sections}
    routes = [{"who": who, "sections": [by_model[m] for m in models if m in by_model]} for who, models in ROUTES]
    return [route for route in routes if route["sections"]]


class HomeFeaturedPage(InlineRow):
    page = ParentalKey("home.HomePage", related_name="featured_pages", on_delete=models.CASCADE)
    featured_page = models.ForeignKey(
        "wagtailcore.Page", verbose_name="推荐页面", on_delete=models.CASCADE, related_name="+"
    )

    panels = [PageChooserPanel("featured_page")]


class HomePage(BasePage):
    """The front door: what the program is, featured and latest stories, and the way into each section."""

    lead = models.TextField("导语", blank=True, help_text="首页标题下的一段话，说明这个项目是什么")
    key_figures = StreamField([("figure", FigureBlock())], verbose_name="关键数字", blank=True)
    latest_count = models.PositiveSmallIntegerField("显示最新故事的数量", default=6)

    content_panels = [
        *BasePage.content_panels,
        FieldPanel("lead"),
        FieldPanel("key_figures"),
        MultiFieldPanel(
            [InlinePanel("featured_pages", label="推荐", max_num=3), FieldPanel("latest_count")],
            heading="故事",
            help_text="未选择推荐时，显示标记为“在首页推荐”的最新故事",
        ),
    ]

    @property
    def figure_sources(self) -> list[str]:
        """Where the key figures come from, each source once (a figure's `source`)."""
        return list(dict.fromkeys(b.value["source"] for b in self.key_figures if b.value.get("source")))

    api_fields = [APIField("lead"), APIField("key_figures", serializer=StreamSerializer())]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "stories.StoryIndexPage",
        "playbook.PlaybookPage",
        "governance.ModelIndexPage",
        "training.TrainingIndexPage",
        "home.InformationPage",
    ]
    max_count = 1
    page_description = "网站首页，全站只有一个。"

    class Meta:
        verbose_name = "首页"

    def featured_and_latest_ids(self) -> tuple[list[int], list[int]]:
        from cms.stories.models import story_listing_queryset

        chosen_ids = [link.featured_page_id for link in self.featured_pages.all()]
        if chosen_ids:
            live = set(Page.objects.filter(pk__in=chosen_ids).live().public().values_list("pk", flat=True))
            featured = [i for i in chosen_ids if i in live]
        else:
            featured = list(story_listing_queryset().filter(featured=True).values_list("pk", flat=True)[:3])
        latest = story_listing_queryset().exclude(pk__in=featured).values_list("pk", flat=True)[: self.latest_count]
        return featured, list(latest)

    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        """The home page shows cards of stories and of each section: it changes when they do."""
        featured, latest = self.featured_and_latest_ids()
        sections = list(self.get_children().live().public().in_menu().values_list("pk", flat=True))
        return {"": [[(i, versions.get(i)) for i in ids] for ids in (featured, latest, sections)]}

    def get_context(self, request, *args, **kwargs):
        from cms.stories.models import story_listing_queryset  # home lists stories; stories never import home

        context = super().get_context(request, *args, **kwargs)
        # The same choice as static_signatures, so the page and what the build thinks it shows never drift.
        featured_ids, latest_ids = self.featured_and_latest_ids()
        cards = story_listing_queryset().in_bulk([*featured_ids, *latest_ids])
        others = [i for i in featured_ids if i not in cards]
        if others:
            cards.update((p.pk, p) for p in Page.objects.filter(pk__in=others).specific())
        context["featured"] = [cards[i] for i in featured_ids if i in cards]
        context["latest"] = [cards[i] for i in latest_ids if i in cards]
        context["sections"] = [p.specific for p in self.get_children().live().public().in_menu().specific(defer=True)]
        context["routes"] = reader_routes(context["sections"])
        return context


class InformationPage(BasePage):
    """A page about the site itself (privacy, how to reuse the content), linked from every page's footer."""

    summary = models.TextField("摘要", max_length=300)
    body = StreamField(BodyStreamBlock(), verbose_name="正文")

    content_panels = [*BasePage.content_panels, FieldPanel("summary"), FieldPanel("body")]

    api_fields = [APIField("summary"), APIField("body", serializer=StreamSerializer())]

    parent_page_types = ["home.HomePage"]
    subpage_types: list[str] = []
    page_description = "关于本站的说明页（如隐私说明），链接在每一页的页脚。"

    class Meta:
        verbose_name = "说明页"
        verbose_name_plural = "说明页"
