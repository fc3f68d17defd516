"""How content looks in the read API (live `/api/v2/` and the static copy in each release).

StreamFields come out with rich text rendered as HTML (links resolved to public URLs), images as
renditions with URL, size and alt text, snippets and pages as small objects, never as bare ids.
Nothing personal: people appear with their public name, role and organisation only.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageBlock, ImageChooserBlock
from wagtail.rich_text import RichText, expand_db_html
from wagtail.snippets.blocks import SnippetChooserBlock

# The rendition the API gives for an image: the one share cards use, so it is in every release.
API_RENDITION = "fill-1200x630|format-jpeg"
API_BODY_RENDITION = "max-1200x1200|format-jpeg"


def absolute(url: str) -> str:
    return settings.PUBLIC_BASE_URL + url if url and url.startswith("/") else url


def image_to_api(image, spec: str = API_BODY_RENDITION, alt: str | None = None) -> dict | None:
    if image is None:
        return None
    rendition = image.get_rendition(spec)
    return {
        "id": image.pk,
        "title": image.title,
        "alt": image.description if alt is None else alt,
        "width": image.width,
        "height": image.height,
        "rendition": {"url": absolute(rendition.url), "width": rendition.width, "height": rendition.height},
    }


def document_to_api(document) -> dict | None:
    if document is None:
        return None
    return {
        "id": document.pk,
        "title": document.title,
        "url": absolute(document.url),
        "file_extension": document.file_extension,
        "file_size": document.get_file_size(),
    }


def page_link(page) -> dict | None:
    if page is None or not page.live:
        return None
    return {
        "id": page.pk,
        "title": page.title,
        "html_url": absolute(page.get_url_parts()[2] if page.get_url_parts() else ""),
    }


def value_to_api(block, value):
    """One block's value for the API, recursively."""
    if value is None:
        return None
    if isinstance(block, blocks.RichTextBlock) or isinstance(value, RichText):
        return expand_db_html(value.source if isinstance(value, RichText) else value)
    if isinstance(block, ImageBlock):
        return image_to_api(value, alt="" if getattr(value, "decorative", False) else value.contextual_alt_text)
    if isinstance(block, ImageChooserBlock):
        return image_to_api(value)
    if isinstance(block, DocumentChooserBlock):
        return document_to_api(value)
    if isinstance(block, blocks.PageChooserBlock):
        return page_link(value)
    if isinstance(block, SnippetChooserBlock):
        from cms.core.sources import source_dict

        if hasattr(value, "citation"):  # a source (出处)
            return source_dict(value)
        return {"name": value.name, "slug": getattr(value, "slug", "")} if hasattr(value, "name") else str(value)
    if isinstance(block, blocks.StructBlock):
        return {name: value_to_api(child, value.get(name)) for name, child in block.child_blocks.items()}
    if isinstance(block, blocks.ListBlock):
        return [value_to_api(block.child_block, item) for item in value]
    if isinstance(block, blocks.StreamBlock):
        return stream_to_api(value)
    return block.get_api_representation(value)


def stream_to_api(stream) -> list[dict]:
    return [
        {"type": child.block_type, "id": child.id, "value": value_to_api(child.block, child.value)} for child in stream
    ]


class StreamSerializer(serializers.Field):
    """A StreamField as a list of {type, id, value} with HTML and renditions inside."""

    def to_representation(self, value):
        return stream_to_api(value)


class ImageSerializer(serializers.Field):
    def __init__(self, *args, spec: str = API_RENDITION, **kwargs):
        self.spec = spec
        super().__init__(*args, **kwargs)

    def to_representation(self, value):
        return image_to_api(value, self.spec)


class StreetSerializer(serializers.Field):
    def to_representation(self, value):
        if value is None:
            return None
        return {"name": value.name, "slug": value.slug, "district": value.district, "city": value.city}


class TagsSerializer(serializers.Field):
    def to_representation(self, value):
        page = getattr(value, "instance", None)
        if "tagged_items" in getattr(page, "_prefetched_objects_cache", {}):  # the build's page: no query
            tags = [item.tag for item in page.tagged_items.all()]
        else:
            tags = value.all()
        return sorted(({"name": t.name, "slug": t.slug} for t in tags), key=lambda t: t["name"])


class PageLinkSerializer(serializers.Field):
    def to_representation(self, value):
        return page_link(value.specific if value is not None else None)
