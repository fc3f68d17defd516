"""What the admin shows about the static site: on the page editor, whether the page's latest published
revision is live there; in the menu, the list of releases; on the dashboard, the latest releases."""

from django.contrib import messages
from django.template.loader import render_to_string
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from .models import PageState, Release


def static_status(page) -> tuple[str, str]:
    """(level, message) describing the page on the live static site."""
    state = PageState.objects.filter(page_id=page.pk).select_related("release").first()
    last = Release.objects.exclude(status=Release.STATUS_PRUNED).order_by("-pk").first()
    if not page.live:
        if state:
            return "warning", "静态网站：这个页面已取消发布，正在从公开网站下线。"
        return "info", "静态网站：页面尚未发布，公开网站上没有它。"
    if state and state.revision_id == page.live_revision_id:
        when = timezone.localtime(state.release.finished_at).strftime("%Y-%m-%d %H:%M") if state.release else ""
        return "success", f"静态网站：已显示最新发布的版本（{when} 上线）。"
    if (
        last
        and last.status == Release.STATUS_FAILED
        and page.last_published_at
        and last.started_at >= page.last_published_at
    ):
        first_line = (last.report or "").strip().splitlines()[:2]
        return "error", "静态网站：最近一次发布构建失败，公开网站仍是旧版本。" + " ".join(first_line)
    return "warning", "静态网站：最新发布的版本正在构建，通常几秒内上线；刷新本页查看。"


@hooks.register("before_edit_page")
def show_static_status(request, page):
    if request.method == "GET":
        level, text = static_status(page)
        getattr(messages, level)(request, text)


class StaticSitePanel(Component):
    """The latest releases of the public static site: what changed there, and whether a build failed."""

    name = "static_site"
    order = 160

    def render_html(self, parent_context=None):
        releases = list(Release.objects.order_by("-pk")[:6])
        return render_to_string("publishing/panel_static_site.html", {"releases": releases})


@hooks.register("construct_homepage_panels")
def add_static_site_panel(request, panels):
    panels.append(StaticSitePanel())


class ReadOnlyPolicy(ModelPermissionPolicy):
    """Releases are made by builds, never by hand: editors can look, not add, change or delete."""

    def user_has_permission(self, user, action):
        return action == "view" and user.is_active and user.is_staff

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


class ReleaseViewSet(ModelViewSet):
    model = Release
    icon = "upload"
    menu_label = "静态网站发布"
    menu_order = 900
    add_to_admin_menu = True
    list_display = ["name", "status", "reason", "rendered", "files", "duration", "started_at"]
    list_filter = ["status"]
    form_fields = ["reason"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "name",
        "status",
        "reason",
        "full",
        "started_at",
        "finished_at",
        "pages",
        "files",
        "rendered",
        "bytes",
        "seconds",
        "report",
    ]
    copy_view_enabled = False


register_permission_policy(Release, ReadOnlyPolicy(Release))


@hooks.register("register_admin_viewset")
def register_release_viewset():
    return ReleaseViewSet("releases")
