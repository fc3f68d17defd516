"""The stories' Atom feed, with absolute URLs on the public site."""

from django.conf import settings
from django.http import HttpResponse
from django.utils import feedgenerator, timezone


def story_feed_response(index_page, stories) -> HttpResponse:
    base = settings.PUBLIC_BASE_URL
    feed = feedgenerator.Atom1Feed(
        title=f"{index_page.title} · 小哥",
        link=base + index_page.public_path(),
        feed_url=base + index_page.public_path() + "feed.xml",
        description=index_page.intro or index_page.search_description,
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
            categories=[t.name for t in story.tags.all()],
            author_name=story.street.name if story.street_id else None,
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response
