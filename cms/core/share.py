"""The share card of a public page (Open Graph: WeChat reads og:title, og:description and og:image) and the
picture a story's JSON-LD names.

Both use one rendition of one picture: the page's share image, else its hero image, else its listing image.
The card's `og:image` meta tag is what brings that rendition into a release (the build copies what `content=`
names, not what a script's JSON names), so JSON-LD naming the same file names a file that is there. A page
without a picture shares the program's mark. Pictures we drew say so on the card (PROGRAM.md: 示意插图).
"""

from __future__ import annotations

from django.conf import settings
from django.templatetags.static import static

# The same rendition the API gives (cms.core.api.API_RENDITION): 1200×630, the size share cards ask for.
SHARE_RENDITION = "fill-1200x630|format-jpeg"
# A page without a picture: the program's mark on its blue square (tools/make_icons.py), no transparency.
DEFAULT_IMAGE = ("img/icon-maskable-512.png", 512, 512)
DRAWN = "示意插图"


def share_image(page) -> tuple[object | None, str]:
    """The picture a page's card shows, and "示意插图" when it is one we drew (by its credit or caption; for a
    hero image, the page's own hero credit and caption come first)."""
    for field in ("social_image", "hero_image", "listing_image"):
        image = getattr(page, field, None) if page is not None else None
        if image is None:
            continue
        credit, caption = image.credit, image.caption
        if field == "hero_image":
            credit = getattr(page, "hero_credit", "") or credit
            caption = getattr(page, "hero_caption", "") or caption
        return image, DRAWN if DRAWN in f"{credit}{caption}" else ""
    return None, ""


def share_image_url(page) -> str | None:
    """The absolute public URL of the card's picture of a page, if it has one of its own."""
    image, _label = share_image(page)
    return settings.PUBLIC_BASE_URL + image.get_rendition(SHARE_RENDITION).url if image else None


def default_image() -> dict:
    name, width, height = DEFAULT_IMAGE
    return {"url": settings.PUBLIC_BASE_URL + static(name), "width": width, "height": height}
