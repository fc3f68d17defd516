"""The stories' Atom feed, with absolute URLs on the public site.

Every text in it is plain text (RFC 4287 text constructs of type "text"): titles, summaries, tags and
street names are what editors typed, and a feed reader would turn an html-typed `<img onerror=…>` in a
summary into a live element. Django's Atom1Feed writes the summary as type="html"; ours does not.

The feed's author (RFC 4287 §4.1.1: a feed without one needs one in every entry) is who publishes the site, from
the site settings (`SiteSettings.author_name`); every entry inherits it. A story's street is a category, not its
author: a street office does not write the site's stories.
"""

from django.conf import settings
from django.http import HttpResponse
from django.utils import feedgenerator, timezone


class PlainTextAtomFeed(feedgenerator.Atom1Feed):
    """Atom1Feed whose entry summaries are type="text" (Django's are type="html", taken as markup)."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


def story_feed_response(index_page, stories) -> HttpResponse:
    from cms.core.models import SiteSettings

    base = settings.PUBLIC_BASE_URL
    feed = PlainTextAtomFeed(
        author_name=SiteSettings.load().author_name,
        title=f"{index_page.title} · 小哥",
        link=base + index_page.public_path(),
        feed_url=base + index_page.public_path() + "feed.xml",
        description=index_page.intro or index_page.search_description,
        subtitle=(index_page.intro or index_page.search_description or None),  # Atom writes subtitle, not description
        language="zh-CN",
    )
    for story in stories:
        url = base + story.public_path()
        feed.add_item(
            title=story.title,
            link=url,
            unique_id=url,
            description=story.summary,
            pubdate=timezone.make_aware(
                timezone.datetime.combine(story.date, timezone.datetime.min.time().replace(hour=8))
            ),
            updateddate=story.last_published_at,
            categories=[t.name for t in story.tags.all()] + ([story.street.name] if story.street_id else []),
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response
