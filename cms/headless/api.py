"""The live read API: Wagtail's stable v2 API at /api/v2/ (pages, images, documents).

Only live, public pages (Wagtail's own rule) and media in public collections. Extra filters:
`tag=<slug>` and `street=<slug>` (stories; `street` also for model components: the streets that run
them) and `course=<id or slug>` (lessons). Responses carry ETags (ConditionalGetMiddleware) and a short
Cache-Control; cross-origin reads are allowed from API_CORS_ORIGINS only (django-cors-headers).

Numbers in the query and the path are ASCII digits, read without ever reaching the database as a value its
columns cannot hold (SQLite and PostgreSQL raise on those: a 500). An offset past the end gives an empty page;
anything under /api/v2/ that is not an endpoint, an id that is not an integer included, is a JSON 404 as
docs/openapi.yaml says, not Django's HTML page.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models import Q
from django.http import JsonResponse
from django.urls import re_path
from django.utils.cache import patch_cache_control
from rest_framework.filters import BaseFilterBackend
from wagtail.api.v2.filters import FieldsFilter
from wagtail.api.v2.pagination import WagtailPagination
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.serializers import (
    PageAliasOfField,
    PageHtmlUrlField,
    PageParentField,
    PageSerializer,
    get_serializer_class,
)
from wagtail.api.v2.utils import BadRequestError
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.models import Collection, CollectionViewRestriction

CACHE_SECONDS = 60
OUR_FILTERS = ("tag", "street", "course")
# The largest id a query may name: SQLite's and PostgreSQL's bigint. A larger number names no row.
MAX_ID = 2**63 - 1
DIGITS = re.compile(r"[0-9]+")
# Wagtail's filters that take a page id, and the word they take instead.
PAGE_ID_FILTERS = {"child_of": "root", "descendant_of": "root", "ancestor_of": None, "translation_of": None}


def as_id(value: str) -> int | None:
    """An id written in ASCII digits that a database column can hold, else None ("²".isdigit() is True, and
    int() takes "٣" and " 3")."""
    if not DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


class StrictPageIdFilter(BaseFilterBackend):
    """child_of, descendant_of (and Wagtail's ancestor_of, translation_of) are ASCII digits or `root`; Wagtail
    reads them with int(), which takes other digits and spaces."""

    def filter_queryset(self, request, queryset, view):
        for name, word in PAGE_ID_FILTERS.items():
            value = request.GET.get(name)
            if value is not None and value != word and not DIGITS.fullmatch(value):
                raise BadRequestError(f"{name} must be a positive integer")
        return queryset


class XiaogePagination(WagtailPagination):
    """offset and limit as docs/openapi.yaml has them: offset any number of ASCII digits (past the end, an
    empty page), limit 1 to WAGTAILAPI_LIMIT_MAX (Wagtail accepts 0, and any offset reaches the database)."""

    def paginate_queryset(self, queryset, request, view=None):
        limit_max = settings.WAGTAILAPI_LIMIT_MAX
        offset = request.GET.get("offset", "0")
        if not DIGITS.fullmatch(offset):
            raise BadRequestError("offset must be a positive integer")
        limit = request.GET.get("limit", str(min(20, limit_max)))
        if not DIGITS.fullmatch(limit) or not 1 <= int(limit) <= limit_max:
            raise BadRequestError(f"limit must be an integer from 1 to {limit_max}")
        self.view = view
        self.total_count = queryset.count()
        start = min(int(offset), self.total_count)
        return queryset[start : start + int(limit)]


class XiaogeFilter(BaseFilterBackend):
    """tag, street and course: what a mini-program or another district's portal asks for."""

    def filter_queryset(self, request, queryset, view):
        model = queryset.model
        names = {f.name for f in model._meta.get_fields()}
        tag = request.GET.get("tag")
        if tag:
            if "tagged_items" not in names:
                raise BadRequestError("tag 只能用于有标签的页面类型，如 type=stories.StoryPage")
            queryset = queryset.filter(tagged_items__tag__slug=tag)
        street = request.GET.get("street")
        if street:
            if "street" in names:
                queryset = queryset.filter(street__slug=street)
            elif "adoptions" in names:
                queryset = queryset.filter(adoptions__street__slug=street).distinct()
            else:
                raise BadRequestError("street 只能用于 type=stories.StoryPage 或 type=governance.ComponentPage")
        course = request.GET.get("course")
        if course:
            if model.__name__ != "LessonPage":
                raise BadRequestError("course 只能用于 type=training.LessonPage")
            from cms.training.models import CoursePage

            course_id = as_id(course)
            match = Q(slug=course) | (Q(pk=course_id) if course_id is not None else Q())
            parent = CoursePage.objects.live().public().filter(match).first()
            if parent is None:
                raise BadRequestError(f"没有这门课：{course}")
            queryset = queryset.filter(path__startswith=parent.path, depth=parent.depth + 1)
        return queryset


class CachedMixin:
    """Cache-Control on answers; our pagination; ids of the find view read as the detail view reads them."""

    pagination_class = XiaogePagination

    def find_object(self, queryset, request):
        if "id" in request.GET and as_id(request.GET["id"]) is None:
            return None  # not found (Wagtail would pass "abc" to the database: a 500)
        return super().find_object(queryset, request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
        return response


class FieldsFilterBesidesOurs(FieldsFilter):
    """Wagtail filters by any api field's value (street=<id>); ours take tag, street and course by slug."""

    def filter_queryset(self, request, queryset, view):
        original = request._request.GET
        trimmed = original.copy()
        for name in OUR_FILTERS:
            trimmed.pop(name, None)
        request._request.GET = trimmed
        try:
            return super().filter_queryset(request, queryset, view)
        finally:
            request._request.GET = original


class PublicHtmlUrlField(PageHtmlUrlField):
    """html_url on the public static site (PUBLIC_BASE_URL), never the CMS host."""

    def to_representation(self, page):
        return page.specific.public_url() if hasattr(page.specific, "public_url") else super().to_representation(page)


class PublicRelatedPageMixin:
    """Wagtail serializes a page's parent and alias_of with its own PageSerializer, whose html_url is the
    CMS site's URL (http://localhost/… in the static build): ours uses the public one."""

    def to_representation(self, value):
        # One serializer per page type for as long as this field lives (the static build keeps its fields
        # for all its pages; a live request makes new ones).
        made = self.__dict__.setdefault("_serializers", {})
        serializer = made.get(value.__class__)
        if serializer is None:
            serializer_class = get_serializer_class(
                value.__class__,
                ["id", "type", "detail_url", "html_url", "title"],
                meta_fields=["type", "detail_url", "html_url"],
                base=XiaogePageSerializer,
            )
            serializer = made[value.__class__] = serializer_class(context=self.context)
        return serializer.to_representation(value)


class PublicPageParentField(PublicRelatedPageMixin, PageParentField):
    def get_attribute(self, instance):
        # The static build knows every page's parent and whether it is public (publishing/api_docs.py).
        known = self.context.get("public_parents")
        if known is not None and instance.depth > 1:
            return known[instance.path[: -instance.steplen]]
        return super().get_attribute(instance)


class PublicPageAliasOfField(PublicRelatedPageMixin, PageAliasOfField):
    pass


class XiaogePageSerializer(PageSerializer):
    html_url = PublicHtmlUrlField(read_only=True)
    parent = PublicPageParentField(read_only=True)
    alias_of = PublicPageAliasOfField(read_only=True)


class XiaogePagesAPIViewSet(CachedMixin, PagesAPIViewSet):
    base_serializer_class = XiaogePageSerializer
    filter_backends = [
        StrictPageIdFilter,
        XiaogeFilter,
        *[FieldsFilterBesidesOurs if f is FieldsFilter else f for f in PagesAPIViewSet.filter_backends],
    ]
    known_query_parameters = PagesAPIViewSet.known_query_parameters.union(OUR_FILTERS)


def public_collections():
    restricted = CollectionViewRestriction.objects.values_list("collection__path", flat=True)
    collections = Collection.objects.all()
    for path in restricted:
        collections = collections.exclude(path__startswith=path)
    return collections


class PublicImagesAPIViewSet(CachedMixin, ImagesAPIViewSet):
    def get_queryset(self):
        return super().get_queryset().filter(collection__in=public_collections())


class PublicDocumentsAPIViewSet(CachedMixin, DocumentsAPIViewSet):
    def get_queryset(self):
        return super().get_queryset().filter(collection__in=public_collections())


def not_found(request, path=""):
    """Anything under /api/v2/ that is no endpoint: /api/v2/pages/abc/ (ids are integers), /api/v2/nothing/."""
    return JsonResponse({"message": "not found"}, status=404)


class XiaogeAPIRouter(WagtailAPIRouter):
    """Wagtail's router, and a JSON 404 for every other address under it that ends in a slash (one without
    is redirected to it by APPEND_SLASH first)."""

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), re_path(r"^(?P<path>.*/)?$", not_found)]


api_router = XiaogeAPIRouter("wagtailapi")
api_router.register_endpoint("pages", XiaogePagesAPIViewSet)
api_router.register_endpoint("images", PublicImagesAPIViewSet)
api_router.register_endpoint("documents", PublicDocumentsAPIViewSet)
