from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column
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


class YesNoColumn(Column):
    """A yes/no field as 是 or 否: Wagtail's BooleanColumn titles its icons "True" and "False"."""

    def get_value(self, instance):
        value = super().get_value(instance)
        return "" if value is None else ("是" if value else "否")


class PersonViewSet(SnippetViewSet):
    model = Person
    icon = "user"
    menu_label = "人物"
    list_display = [
        "name", "role", "organisation", "street", "named_in",
        YesNoColumn("consent_on_record", label=Person._meta.get_field("consent_on_record").verbose_name,
                    sort_key="consent_on_record"),
    ]  # fmt: skip
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


class PublicContactPanel(Component):
    """At the top of the dashboard while the public site gives readers no way to reach its operator."""

    name = "public_contact"
    order = 10

    def render_html(self, parent_context=None):
        from cms.core.checks import contact_missing

        if not contact_missing():
            return ""
        return render_to_string(
            "wagtailadmin/shared/help_block.html",
            {
                "status": "warning",
                "children": format_html(
                    "<strong>公开网站还没有联系方式。</strong>页脚的“联系我们”和隐私说明现在只能告诉读者"
                    "“运营方还没有公布联系方式”，读者无法要求更正或删除关于自己的内容。"
                    '请在<a href="{}">网站设置</a>的“主办单位与联系方式（公开）”里'
                    "填写单位的办公地址、办公电话或联系邮箱；"
                    "保存后，网站会自动重新发布。",
                    reverse("wagtailsettings:edit", args=["core", "sitesettings"]),
                ),
            },
        )


@hooks.register("construct_homepage_panels")
def warn_without_public_contact(request, panels):
    panels.insert(0, PublicContactPanel())
