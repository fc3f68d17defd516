"""The rows a story keeps beside it: its tags, people, sources and editors' related pages.

Their own module so that the build's bulk reads (cms/stories/build.py) can query them without importing the
page models, which import the build code.
"""

from __future__ import annotations

from django.db import models
from modelcluster.fields import ParentalKey
from taggit.models import ItemBase
from wagtail.admin.panels import FieldPanel, PageChooserPanel

from cms.core.models import InlineRow, SourceLink, Tag


class StoryPageTag(ItemBase):
    tag = models.ForeignKey(Tag, related_name="tagged_stories", on_delete=models.CASCADE)
    content_object = ParentalKey("stories.StoryPage", related_name="tagged_items", on_delete=models.CASCADE)


class StoryPerson(InlineRow):
    page = ParentalKey("stories.StoryPage", related_name="featured_people", on_delete=models.CASCADE)
    person = models.ForeignKey("core.Person", verbose_name="人物", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("person")]

    class Meta(InlineRow.Meta):
        verbose_name = "出现的人物"


class StorySource(SourceLink):
    page = ParentalKey("stories.StoryPage", related_name="source_links", on_delete=models.CASCADE)


class StoryRelatedPage(InlineRow):
    page = ParentalKey("stories.StoryPage", related_name="related_links", on_delete=models.CASCADE)
    related_page = models.ForeignKey(
        "wagtailcore.Page", verbose_name="相关页面", on_delete=models.CASCADE, related_name="+"
    )

    panels = [PageChooserPanel("related_page")]

    class Meta(InlineRow.Meta):
        verbose_name = "相关页面"
