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

