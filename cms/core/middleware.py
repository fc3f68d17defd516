"""Security headers Django does not set itself, and the request being handled (for the publishing gate)."""

from contextvars import ContextVar

from django.conf import settings

_current = ContextVar("xiaoge_request", default=None)


def current_request():
    """The request being handled, for the places Wagtail calls without one (workflow actions, publish)."""
    return _current.get()


class CurrentRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(request)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


class PermissionsPolicyMiddleware:
    """Permissions-Policy: the CMS needs no camera, microphone, location or payment."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response


class AdminScriptPolicyMiddleware:
    """Wagtail's admin starts its widgets (choosers, date pickers, inline panels) with inline scripts, so
    under /admin/ only, the Content-Security-Policy allows them. Everywhere else — the API, share links,
    the login page — scripts come from the CMS's own files only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        admin = request.path.startswith("/admin/") and not request.path.startswith("/admin/login/")
        if admin and not hasattr(response, "_csp_update"):
            response._csp_update = {"script-src": ["'unsafe-inline'"]}
        return response


class PublishRefusedMiddleware:
    """A refusal of the publishing gate anywhere in the admin (bulk actions, copy, move, a forged form)
    becomes a message on the page the person came from, never an error page. The gate raises before it
    writes, and the view's transaction (bulk actions run in one) is rolled back by the exception."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.contrib import messages
        from django.shortcuts import redirect
        from django.utils.http import url_has_allowed_host_and_scheme

        from cms.core.privacy import PublishRefused

        if not isinstance(exception, PublishRefused) or not request.path.startswith("/admin/"):
            return None
        messages.error(request, str(exception))
        back = request.GET.get("next") or request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "/admin/"
        return redirect(back)
