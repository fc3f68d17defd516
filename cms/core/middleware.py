"""Security headers Django does not set itself."""

from django.conf import settings


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
