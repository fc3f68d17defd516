"""The abstract pages of a site's sections: a routable page, and a section's front page."""

from __future__ import annotations

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.api import APIField
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.fields import StreamField
from wagtail.search import index

from cms.core.api import StreamSerializer
from cms.core.blocks import BodyStreamBlock

from .base import BasePage


class RoutableBasePage(RoutablePageMixin, BasePage):
    """A page with routes of its own below its URL (listings, a feed, a PDF), each a file of the release."""

    # A preview is the static build's rendering of the page itself (BasePage.serve_preview), not the router's.
    serve_preview = BasePage.serve_preview

    class Meta:
        abstract = True


class SectionIndexPage(RoutableBasePage):
    """The one front page of a section (the playbook, the model, training): an introduction and a body above
    what the section lists. Each section places it under the home page (`parent_page_types`) and says which
    pages it holds; page types may give their own help texts to the fields."""

    intro = models.TextField("导语")
    body = StreamField(BodyStreamBlock(), verbose_name="正文", blank=True)

    content_panels = [*BasePage.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*BasePage.search_fields, index.SearchField("intro")]
    api_fields = [APIField("intro"), APIField("body", serializer=StreamSerializer())]

    max_count = 1

    class Meta:
        abstract = True
