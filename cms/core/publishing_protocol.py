"""The interface through which page types take part in the static build (cms/publishing), written once.

Content apps never import cms.publishing; the build reads these optional methods of a page class (see
docs/publishing.md, "Incremental builds: signatures"). A page type without any of them is one file
whose content depends on its own live revision.

- ``static_signatures(versions, state)`` (instance): the routes of a page with sub-routes (listings, the
  home page) and what each shows;
- ``static_signatures_bulk(pages, versions, state)`` (class): the signatures of many pages of one type in
  a few queries;
- ``signatures_affected(changed, state)`` (class): in a publish after a build, which of the class's pages
  may have a different signature now that the pages ``changed`` were published or unpublished (the others
  keep theirs, and ``static_signatures_bulk`` is asked for these only);
- ``build_queryset()`` (class): the pages as the build fetches them, with what their template needs;
- ``prepare_build(pages, state)`` (class): fill in, for many fetched pages at once, what their template
  reads (e.g. related stories);
- ``prepare_routes(subpaths, cache)`` (instance): before a process renders some of the page's sub-routes,
  fetch what they show in one go (e.g. the cards of many listing pages).

Each method is its own Protocol, checkable at run time on the page class
(``isinstance(StoryPage, PreparesBuild)``), since a page type implements only the ones it needs.
``tests/test_structure.py`` checks every page type's methods against these signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from django.db.models import QuerySet

# Each live page's version for signatures: its live revision's id, or the time it was last published.
Versions = dict[int, Any]


@dataclass
class BuildState:
    """What the page types compute once for one build's signatures and keep for its render (the render
    workers a build forks inherit it). Pages previewed or rendered outside a build get an empty one.

    A warm worker keeps the state of its last build; the next build, a publish, brings it up to date for
    the pages it changed (`changed`) instead of reading the whole site again (routes.collect_routes)."""

    # The pages published, unpublished or edited since this state was computed; None: a full reading.
    changed: set[int] | None = None

    # StoryPage.live_index(): dates, streets, tags and editors' picks of every live story.
    stories_index: dict | None = None
    # StoryPage.bulk_related(): the ids of each story's related stories, as its page shows them.
    related_stories: dict[int, list[int]] | None = None
    # StoryPage.live_index() in a publish: the stories whose signature may differ, and per group the lowest
    # position the publish touched (StoriesIndex.update).
    stories_changes: dict | None = None
    # listing_signatures(): each listing's routes as last computed, and what they were computed with.
    listings: dict | None = None


@runtime_checkable
class HasStaticSignatures(Protocol):
    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        """{subpath: what the file at the page's URL + subpath shows} ("" is the page itself). A route whose
        object is the very one the previous build returned is not encoded again."""
        ...


@runtime_checkable
class HasBulkSignatures(Protocol):
    @classmethod
    def static_signatures_bulk(cls, pages: Sequence[Any], versions: Versions, state: BuildState) -> dict[int, object]:
        """{page id: what the page's file shows} for many pages of the class (LivePage rows, not instances)."""
        ...


@runtime_checkable
class HasIncrementalSignatures(Protocol):
    @classmethod
    def signatures_affected(cls, changed: set[int], state: BuildState) -> set[int]:
        """The class's live pages whose signature may differ after the pages `changed` were published or
        unpublished; `state` is the previous build's, which the call may bring up to date."""
        ...


@runtime_checkable
class HasBuildQueryset(Protocol):
    @classmethod
    def build_queryset(cls) -> QuerySet:
        """The class's pages as the build fetches them for rendering (select_related, prefetch_related)."""
        ...


@runtime_checkable
class PreparesRoutes(Protocol):
    def prepare_routes(self, subpaths: list[str], cache: dict) -> None:
        """Before its sub-routes (listing pages) are rendered in a process: fetch what all of them show at
        once, into the build's cache (request.build_cache), so that each does not query it again."""
        ...


@runtime_checkable
class PreparesBuild(Protocol):
    @classmethod
    def prepare_build(cls, pages: list[Any], state: BuildState) -> None:
        """Fill in what the fetched pages' templates read, for all of them at once."""
        ...
