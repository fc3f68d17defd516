"""The admin preview and share links render a page object through the static build's renderer."""

from __future__ import annotations

from .render import Renderer
from .routes import site_root


def render_page_object(page, request) -> bytes:
    """The HTML the static build would write for this (possibly unsaved) version of the page."""
    renderer = Renderer(site_root())
    path = page.get_url_parts()[2] if page.get_url_parts() else "/"
    static_request = renderer.request(path)
    static_request.is_preview = True
    if hasattr(type(page), "prepare_build"):
        type(page).prepare_build([page], {})
    if hasattr(page, "resolve_subpage"):
        view, args, kwargs = page.resolve_subpage("/")
        static_request.routable_resolver_match = None
        response = page.serve(static_request, view=view, args=args, kwargs=kwargs)
    else:
        response = page.serve(static_request)
    if hasattr(response, "render"):
        response.render()
    return response.content
