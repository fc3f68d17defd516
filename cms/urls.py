from django.conf import settings
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail import views as wagtail_views
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms.editorial.views import share_view
from cms.headless.api import api_router

urlpatterns = [
    path("api/v2/", api_router.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("share/<str:token>/", share_view, name="share_link"),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.MEDIA_STORAGE_URL:
    # Media on the bucket (several CMS machines): the CMS serves them to its own pages (admin, previews).
    from cms.core.media_storage import media_view

    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", media_view, name="media"))
elif settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [
    # File routes of pages (feeds), which Wagtail's slash-terminated pattern would not match.
    re_path(r"^((?:[\w\-]+/)*[\w\-]+\.(?:xml|pdf|js|webmanifest))$", wagtail_views.serve, name="page_file_route"),
    path("", include(wagtail_urls)),
]
