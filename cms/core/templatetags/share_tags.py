"""The share card in every public page's head (`{% share_card %}`) and `{% capture %}`, which keeps what a block
rendered (the page's title and description) so that the card says the same without repeating the block."""

from __future__ import annotations

import html

from django import template
from django.utils.safestring import mark_safe

from cms.core.share import SHARE_RENDITION, default_image, share_image

register = template.Library()


class CaptureNode(template.Node):
    child_nodelists = ("nodelist",)  # blocks inside stay blocks that child templates override

    def __init__(self, nodelist, name: str):
        self.nodelist = nodelist
        self.name = name

    def render(self, context):
        context[self.name] = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered, hence escaped
        return ""


@register.tag
def capture(parser, token):
    """{% capture name %}…{% endcapture %}: render the content into the variable `name`, output nothing."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("usage: {% capture name %}…{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[1])


def _text(value) -> str:
    return html.unescape(str(value or "")).strip()


@register.inclusion_tag("components/share_card.html", takes_context=True)
def share_card(context, kind: str = "website"):
    """Open Graph and Twitter card from the page's title and description as its head shows them (captured as
    head_title and head_description), its URL, and its picture or the program's mark."""
    from django.conf import settings as django_settings

    from cms.core.models import SiteSettings

    page, request = context.get("page"), context.get("request")
    site = SiteSettings.load(request_or_site=request)
    title = _text(context.get("head_title")) or (page.title if page else site.program_name)
    title = title.removesuffix(f" · {site.program_name}")
    description = _text(getattr(page, "social_text", "")) or _text(context.get("head_description"))
    image, label = share_image(page)
    if image is not None:
        rendition = image.get_rendition(SHARE_RENDITION)
        card_image = {
            "url": django_settings.PUBLIC_BASE_URL + rendition.url,
            "width": rendition.width,
            "height": rendition.height,
            "alt": f"{label}：{image.default_alt_text}" if label else image.default_alt_text,
        }
    else:
        card_image = {**default_image(), "alt": f"{site.program_name}的标志"}
    if label:
        description = f"（图为{label}）{description}"
    if getattr(page, "illustrative", False):
        title, description = f"【情景示例】{title}", f"情景示例，不是真实报道。{description}"
    return {
        "kind": kind,
        "site_name": site.program_name,
        "title": title,
        "description": description,
        "url": django_settings.PUBLIC_BASE_URL + (request.path if request else "/"),
        "image": card_image,
        "twitter_card": "summary_large_image" if image is not None else "summary",
    }
