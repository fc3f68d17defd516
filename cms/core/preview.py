"""Previews are rendered by the static build's own code (cms/publishing registers it here at start-up),
so that what an editor, a reviewer or a share-link reader sees is the public page byte for byte, plus a
banner that says it is not public."""

from __future__ import annotations

import re

from django.utils.html import escape

_renderer = None
BODY_OPEN = re.compile(rb"<body[^>]*>")
BANNER_CLASS = "preview-banner"


def register(renderer):
    """renderer(page, request) -> bytes: the page object rendered exactly as the static build renders it."""
    global _renderer
    _renderer = renderer


def render(page, request, banner: str) -> bytes:
    if _renderer is None:  # cms.publishing is not installed: the page's own rendering
        response = page.serve(request)
        if hasattr(response, "render"):
            response.render()
        html = response.content
    else:
        html = _renderer(page, request)
    return add_banner(html, banner)


def add_banner(html: bytes, text: str) -> bytes:
    tag = f'<div class="{BANNER_CLASS}" role="status">{escape(text)}</div>'.encode()
    return BODY_OPEN.sub(lambda m: m.group(0) + tag, html, count=1)


def remove_banner(html: bytes) -> bytes:
    return re.sub(rb'<div class="' + BANNER_CLASS.encode() + rb'" role="status">[^<]*</div>', b"", html, count=1)
