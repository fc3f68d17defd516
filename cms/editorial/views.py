"""Share links: a reviewer without an account reads a draft; editors make and revoke the links."""

from __future__ import annotations

from csp.decorators import csp_replace
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from cms.core import gate, preview

from .models import ShareLink, latest_draft


def gone(request, status=404):
    html = render_to_string("editorial/share_gone.html", {}, request)
    return HttpResponse(html, status=status)


@csp_replace({"style-src": ["'self'"], "frame-ancestors": ["'none'"]})
def share_view(request, token: str):
    """The latest draft of the page, as the public will see it, with a banner. Never the admin."""
    link = ShareLink.objects.select_related("page").filter(token=token).first()
    if link is None:
        return gone(request)
    if not link.is_valid:
        return gone(request, status=410)
    draft = latest_draft(link.page)
    if gate.content_problems(draft):
        # The draft holds what the publishing gate would refuse: not shown to anyone outside the admin.
        html = render_to_string("editorial/share_withheld.html", {}, request)
        return HttpResponse(html, status=403, headers={"Cache-Control": "private, no-store"})
    expires = timezone.localtime(link.expires_at).strftime("%Y-%m-%d %H:%M")
    html = preview.render(draft, request, f"分享预览：这是还没有发布的版本，链接在 {expires} 失效。")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
