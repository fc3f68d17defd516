from django.conf import settings


def public_site(request):
    """The public base URL for canonical links, and whether the page is being built for the static site."""
    return {
        "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
        "is_static_build": getattr(request, "is_static_build", False),
        "is_preview": getattr(request, "is_preview", False),
    }
