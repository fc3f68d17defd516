"""How a page shows where its claims come from: the "来源" list, the API's `sources`, JSON-LD `citation`."""

from __future__ import annotations

from rest_framework import serializers


def source_dict(source) -> dict:
    """A source as the public API gives it."""
    return {
        "publication": source.publication,
        "title": source.title,
        "date": source.date.isoformat(),
        "authors": source.authors,
        "url": source.url,
        "citation": source.citation,
    }


def json_ld(source) -> dict:
    """A source as schema.org describes it (an Article's `citation` / `isBasedOn`)."""
    data = {
        "@type": "NewsArticle",
        "headline": source.title,
        "datePublished": source.date.isoformat(),
        "publisher": {"@type": "Organization", "name": source.publication},
    }
    if source.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in source.authors.replace("，", "、").split("、")]
    if source.url:
        data["url"] = source.url
    return data


class SourcesSerializer(serializers.Field):
    """A page's source list (its `source_links` rows) for the read API."""

    def to_representation(self, value):
        return [source_dict(link.source) for link in value.all()]
