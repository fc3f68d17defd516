"""The admin preview and share links render a page object through the static build's renderer."""

from __future__ import annotations

from cms.core.publishing_protocol import BuildState, PreparesBuild

from .render import Renderer, serve_page
from .routes import site_root


def render_page_object(page, request) -> bytes:
    """The HTML the static build would write for this (possibly unsaved) version of the page."""
    renderer = Renderer(site_root())
    path = page.get_url_parts()[2] if page.get_url_parts() else "/"
    static_request = renderer.request(path)
    static_request.is_preview = True
    if isinstance(type(page), PreparesBuild):
        type(page).prepare_build([page], BuildState())
    response = serve_page(page, static_request)
    return response.content
