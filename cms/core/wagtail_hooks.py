from wagtail import hooks
from wagtail.models import Page
from wagtail.rich_text.pages import PageLinkHandler
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.core.models import Person, Source, Street


class StreetViewSet(SnippetViewSet):
    model = Street
    icon = "site"
    menu_label = "街道"
    list_display = ["name", "district", "city"]
    list_filter = ["district", "city"]
    search_fields = ["name", "district"]
    list_export = ["name", "slug", "district", "city", "setting"]


class PersonViewSet(SnippetViewSet):
    model = Person
    icon = "user"
    menu_label = "人物"
    list_display = ["name", "role", "organisation", "street", "named_in", "consent_on_record"]
    list_filter = ["street", "consent_on_record"]
    search_fields = ["name", "organisation"]
    list_export = ["name", "role", "organisation", "street", "consent_on_record"]


class SourceViewSet(SnippetViewSet):
    model = Source
    icon = "doc-full"
    menu_label = "出处"
    list_display = ["publication", "title", "date", "key"]
    search_fields = ["title", "publication"]


class ProgramSnippetsGroup(SnippetViewSetGroup):
    menu_label = "街道、人物与出处"
    menu_icon = "group"
    menu_order = 250
    items = (StreetViewSet, PersonViewSet, SourceViewSet)


register_snippet(ProgramSnippetsGroup)


class PublicPageLinkHandler(PageLinkHandler):
    """A link in rich text to a page that is not live and public (a draft, unpublished, behind a view
    restriction) renders as its words, without an address: the static site has no such page, and a
    reader must not be sent to it (nor the release refused for a link to a page it does not hold)."""

    @classmethod
    def get_many(cls, attrs_list: list[dict]):
        ids = [attrs.get("id") for attrs in attrs_list]
        pages = Page.objects.filter(id__in=ids).live().public().defer_streamfields().specific()
        found = {str(page.id): page for page in pages}
        return [found.get(str(i)) for i in ids]


@hooks.register("register_rich_text_features", order=10)
def public_page_links(features):
    features.register_link_type(PublicPageLinkHandler)  # after Wagtail's own "page" handler, replacing it
