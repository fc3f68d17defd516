from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.core.models import Person, Street


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
    list_display = ["name", "role", "organisation", "street", "consent_on_record"]
    list_filter = ["street", "consent_on_record"]
    search_fields = ["name", "organisation"]
    list_export = ["name", "role", "organisation", "street", "consent_on_record"]


class ProgramSnippetsGroup(SnippetViewSetGroup):
    menu_label = "街道与人物"
    menu_icon = "group"
    menu_order = 250
    items = (StreetViewSet, PersonViewSet)


register_snippet(ProgramSnippetsGroup)
