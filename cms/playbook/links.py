"""The pages outside the playbook that its pages show or link to, and what their static signatures follow:
the governance model (its index and the components whose 怎样建立 a chapter is), streets and documents.

The model is looked up through the app registry: the playbook and the model name each other, and neither
imports the other."""

from __future__ import annotations

from django.apps import apps
from wagtail.models import Page

from cms.core.models.snippets import Street


def model_index_page() -> Page | None:
    """The governance model's index, if the site has one live and public: the playbook's companion.

    The playbook says how to set each practice up; the model says what the practices are, how they fit
    together and which streets run them. Each index says so and links the other.
    """
    try:
        model = apps.get_model("governance", "ModelIndexPage")
    except LookupError:
        return None
    return model.objects.live().public().first()


def model_components(chapter: Page) -> list[Page]:
    """The live, public components of the model whose "怎样建立" is this chapter (in the model's order)."""
    try:
        model = apps.get_model("governance", "ComponentPage")
    except LookupError:
        return []
    return list(model.objects.live().public().filter(playbook_chapter=chapter).order_by("path"))


def page_row(page: Page | None):
    """What a link to a page shows and where it goes: for the signature of the page that links it."""
    return None if page is None else (page.pk, page.url_path, page.title)


def documents_version() -> list:
    from cms.documents.models import CustomDocument

    return list(CustomDocument.objects.order_by("pk").values_list("pk", "title", "file"))


def streets_version() -> list:
    return list(Street.objects.order_by("pk").values_list("pk", "name", "slug", "district"))
