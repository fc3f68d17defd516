"""Navigation for the public templates: the main menu and breadcrumbs."""

from django import template
from wagtail.models import Page, Site

register = template.Library()


def _site_root(context):
    request = context.get("request")
    site = Site.find_for_request(request) if request else None
    site = site or Site.objects.filter(is_default_site=True).select_related("root_page").first()
    return site.root_page if site else None


@register.simple_tag(takes_context=True)
def main_menu(context):
    """The live, public children of the home page that editors marked "show in menus"."""
    request = context.get("request")
    if request is not None and hasattr(request, "static_menu"):  # the static build fetches it once per build
        return request.static_menu
    cache = context.render_context
    if "main_menu" not in cache:
        root = _site_root(context)
        cache["main_menu"] = (
            list(root.get_children().live().public().in_menu().only("title", "url_path", "path", "depth"))
            if root
            else []
        )
    return cache["main_menu"]


@register.simple_tag(takes_context=True)
def footer_links(context):
    """Information pages (privacy, reuse) under home, linked from every footer."""
    cache = context.render_context
    if "footer_links" not in cache:
        request = context.get("request")
        build = getattr(request, "build_cache", None)
        if build is not None and "footer_links" in build:
            cache["footer_links"] = build["footer_links"]
        else:
            root = _site_root(context)
            cache["footer_links"] = (
                [
                    p
                    for p in root.get_children().live().public().specific(defer=True)
                    if p.specific_class.__name__ == "InformationPage"
                ]
                if root
                else []
            )
            if build is not None:
                build["footer_links"] = cache["footer_links"]
    return cache["footer_links"]


@register.simple_tag(takes_context=True)
def breadcrumbs(context, page):
    """Ancestors of the page below the site root, home first. The static build shares them between siblings."""
    if page is None or page.depth <= 2:
        return []
    cache = getattr(context.get("request"), "build_cache", None)
    key = ("ancestors", page.path[: -Page.steplen])
    if cache is not None and key in cache:
        return cache[key]
    crumbs = list(Page.objects.ancestor_of(page).filter(depth__gte=2).only("title", "url_path", "path", "depth"))
    if cache is not None:
        cache[key] = crumbs
    return crumbs


@register.simple_tag
def is_section(page, item) -> bool:
    """Whether the menu item is the page itself or one of its ancestors."""
    return bool(page is not None and getattr(page, "path", "").startswith(item.path))
