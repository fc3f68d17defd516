"""The editorial rules in the admin: review before publishing, the privacy guard, and the dashboard."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.views.generic import CreateView, DeleteView, EditView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.models import Page, Revision

from cms.core import gate
from cms.core.privacy import PublishRefused

from .models import ReviewTask, ShareLink, latest_draft, submitted_by


@hooks.register("before_publish_page")
def guard_publish(request, page):
    """Runs when someone presses "publish" in the editor (the draft is already saved, not live).

    The publishing gate (cms/core/gate.py) decides, as it does on every other route; here its refusal
    becomes a message on the editor instead of an exception. Everyone but a superuser goes through
    review; personal data is refused with each field named and the match masked.
    """
    try:
        gate.check(page, page.get_latest_revision(), request.user)
    except PublishRefused as exc:
        messages.error(request, "不能发布，草稿已保存。" + "；".join(exc.problems))
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None


class ScheduledPanel(Component):
    """What goes live or comes down on a schedule, with nobody logged in."""

    name = "scheduled"
    order = 150

    def render_html(self, parent_context=None):
        now = timezone.now()
        going_live = (
            Revision.page_revisions.filter(approved_go_live_at__gt=now)
            .select_related("user")
            .order_by("approved_go_live_at")[:10]
        )
        rows = []
        for revision in going_live:
            page = revision.content_object
            rows.append({"page": page, "when": revision.approved_go_live_at, "what": "定时上线"})
        for page in Page.objects.live().filter(expire_at__gt=now).order_by("expire_at")[:10]:
            rows.append({"page": page, "when": page.expire_at, "what": "到期下线"})
        rows.sort(key=lambda r: r["when"])
        return render_to_string("editorial/panel_scheduled.html", {"rows": rows})


@hooks.register("construct_homepage_panels")
def add_panels(request, panels):
    panels.append(ScheduledPanel())


@hooks.register("insert_global_admin_css")
def panel_css():
    """The dashboard panels' tables: ours, and cms/publishing's (the static site's releases)."""
    return mark_safe(  # noqa: S308 - a fixed string
        "<style>.xg-panel table{width:100%;border-collapse:collapse}.xg-panel td,.xg-panel th{padding:.4rem;"
        "border-bottom:1px solid var(--w-color-border-furniture);text-align:left}.xg-failed{color:#b91c1c;"
        "font-weight:700}</style>"
    )


@hooks.register("insert_editor_js")
def submit_after_autosave():
    """A submit waits for a new page's first autosave, so it cannot create the page twice."""
    return format_html('<script src="{}"></script>', static("editorial/submit-after-autosave.js"))


@hooks.register("construct_page_action_menu")
def only_review_publishes(menu_items, request, context):
    """Without the site administrator's rights, the way to publish is "submit for review"."""
    if not request.user.is_superuser:
        menu_items[:] = [item for item in menu_items if item.name != "action-publish"]


def action_rank(item) -> int:
    """Where an action goes in the editor's footer: the first is the big button, the others its menu.

    A reviewer reviewing sees 批准并发布 as the button and 要求修改 first in the menu; anyone else (an editor,
    in review or not) sees 保存草稿 as the button, then submitting; withdrawing a review and unpublishing,
    which undo work, come last. Wagtail orders by its own numbers: 保存草稿, 取消发布, 取消工作流, then the
    review's actions, so a reviewer's 批准 was the fifth item, under 保存草稿's menu.
    """
    if item.name == "approve":
        return 1 if getattr(item, "launch_modal", False) else 0  # 批准并发布, then 带评论批准并发布
    if item.name == "reject":
        return 1
    return {
        "action-save-draft": 2,
        "action-submit": 3,
        "action-restart-workflow": 4,
        "action-publish": 3,
        "action-cancel-workflow": 8,
        "action-unpublish": 9,
        "action-page-locked": 10,
    }.get(item.name, 5)


@hooks.register("construct_page_action_menu")
def primary_action_for_the_role(menu_items, request, context):
    menu_items.sort(key=action_rank)  # stable: Wagtail's order within a rank


REVIEWERS_OWN = "这是你自己写的修改：需要另一位审核员审核，你不能批准自己的修改。"
SUBMITTERS = (
    "已提交审核，审核员批准后就会发布你提交的版本。你仍可以修改并保存草稿，"
    "但审核开始后保存的修改不在这次审核里：要发布它们，需要再次提交审核。"
)


@hooks.register("before_edit_page")
def explain_review(request, page):
    """One message about the review, the one for this person: a reviewer opening a revision of their own
    learns why there is no 批准; the editor who submitted the page learns what they may still do."""
    state = page.current_workflow_task_state if request.method == "GET" else None
    if not (state and state.revision):
        return
    task = state.task.specific
    reviewer = isinstance(task, ReviewTask) and task.is_reviewer(request.user)
    if reviewer and state.revision.user_id == request.user.pk:
        messages.info(request, REVIEWERS_OWN)
    elif not reviewer and submitted_by(page, request.user):
        messages.info(request, SUBMITTERS)


SITE_ADMINS = "站点管理员"


def may_change_link(user, link) -> bool:
    """Only the person who made a share link, and site administrators, may extend or revoke it."""
    return user.is_superuser or link.created_by_id == user.pk or user.groups.filter(name=SITE_ADMINS).exists()


def draft_problems(page) -> list[str]:
    """What the publishing gate would refuse in the page's latest draft: such a draft is not shared either."""
    return gate.content_problems(latest_draft(page))


class ShareLinkForm(forms.ModelForm):
    class Meta:
        model = ShareLink
        fields = ["page", "expires_at"]

    def clean_page(self):
        page = self.cleaned_data["page"]
        problems = draft_problems(page) if page is not None else []
        if problems:
            raise forms.ValidationError("这个草稿含有不能公开的个人信息，不能分享：" + "；".join(problems))
        return page


class ShareLinkChangeForm(forms.ModelForm):
    """Changing a link changes only when it expires: pointing someone's link at another page is not an edit."""

    class Meta:
        model = ShareLink
        fields = ["expires_at"]


class ShareLinkCreateView(CreateView):
    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("page", "").isdigit():
            initial["page"] = int(self.request.GET["page"])
        return initial

    def save_instance(self):
        instance = self.form.save(commit=False)
        instance.created_by = self.request.user
        instance.save()
        return instance

    def get_success_message(self, instance):
        url = self.request.build_absolute_uri(instance.get_absolute_url())
        return f"分享预览链接：{url}（{timezone.localtime(instance.expires_at):%Y-%m-%d %H:%M} 失效；删除即可立即作废）"


class OwnLinkMixin:
    def get_object(self, queryset=None):
        link = super().get_object(queryset)
        if not may_change_link(self.request.user, link):
            raise PermissionDenied("只有创建这个链接的人和站点管理员可以修改或作废它。")
        return link


class ShareLinkEditView(OwnLinkMixin, EditView):
    pass


class ShareLinkDeleteView(OwnLinkMixin, DeleteView):
    pass


class ShareLinkViewSet(ModelViewSet):
    """Links to read a draft without an account: made here, listed with their address and who made them,
    extended or revoked (deleted) only by their maker or a site administrator."""

    model = ShareLink
    icon = "link"
    menu_label = "分享预览链接"
    add_to_admin_menu = True
    menu_order = 900
    form_fields = ["page", "expires_at"]
    list_display = ["page", "address", "expires_at", "created_by"]
    add_view_class = ShareLinkCreateView  # not `create_view_class`, which Wagtail never reads
    edit_view_class = ShareLinkEditView
    delete_view_class = ShareLinkDeleteView
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return ShareLinkChangeForm if for_update else ShareLinkForm


@hooks.register("register_admin_viewset")
def register_share_links():
    return ShareLinkViewSet("share_links")


@hooks.register("register_page_header_buttons")
def share_link_button(page, user, view_name=None, next_url=None):
    from wagtail.admin.widgets import Button

    if page.pk and page.permissions_for_user(user).can_edit():
        yield Button("生成分享预览链接", f"/admin/share_links/new/?page={page.pk}", icon_name="link", priority=60)
