"""The static JSON API's page documents, serialized from the pages the renderer already fetched.

Each document is the live API's answer to /api/v2/pages/<id>/ byte for byte (tests/test_api.py compares
them): the same viewset class makes the serializer and its context, the same JSON renderer writes it. What
the live view does per request and the build does once: fetch the page again (it has it, prefetched by its
type's build_queryset), make the serializer class (one per page type), query the public pages for the
serializer's context, and look up each page's parent and whether that parent is public (the parents of a
chunk's pages in one query; public means in this release's API, which holds every live, public page).
"""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from wagtail.models import Page

from .routes import API_PREFIX


class StaticPagesAPI:
    def __init__(self, renderer):
        from cms.headless.api import XiaogePagesAPIViewSet, api_router

        request = renderer.request(f"/{API_PREFIX}")
        request.wagtailapi_router = api_router  # what the router's URL patterns give the live view
        self.view = XiaogePagesAPIViewSet(action="detail_view", args=(), kwargs={}, format_kwarg=None)
        self.view.request = Request(request)
        self.context = self.view.get_serializer_context()
        # {parent path: the parent page if it is public, else None}; read by PublicPageParentField.
        self.context["public_parents"] = self.parents = {}
        self.public_ids = set(renderer.api_ids)
        self.serializers: dict[type, object] = {}
        self.json = JSONRenderer()
        self.json_context = {"indent": self.view.get_renderer_context()["indent"]}  # the view's: 4
        self.renderer = renderer

    def serializer(self, model: type):
        """One serializer per page type, used for all its pages: DRF builds a serializer's fields (and the
        nested parent's serializer) when it is made, which was half the time of a document."""
        serializer = self.serializers.get(model)
        if serializer is None:
            router = self.view.request.wagtailapi_router
            cls = self.view._get_serializer_class(router, model, [], show_details=True)
            serializer = self.serializers[model] = cls(context=self.context)
        return serializer

    def load_parents(self, pages):
        """The parents of the given pages that are not known yet, in one query."""
        wanted = {p.path[: -p.steplen] for p in pages if p.depth > 1} - self.parents.keys()
        if not wanted:
            return
        for parent in Page.objects.filter(path__in=wanted).specific():
            self.parents[parent.path] = parent if parent.pk in self.public_ids else None
        for path in wanted - self.parents.keys():
            self.parents[path] = None

    def document(self, page) -> bytes:
        if page.depth > 1 and page.path[: -page.steplen] not in self.parents:
            self.load_parents([page, *self.renderer.pages.values()])  # once per chunk of fetched pages
        self.view._cached_object = page  # what get_object() returns: the fetched page, not a new query
        data = self.serializer(type(page)).to_representation(page)  # what .data returns, as a plain dict
        return self.json.render(data, self.json.media_type, self.json_context)
