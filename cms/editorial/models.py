"""Review before publishing: a second pair of eyes that is never the author's own."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.db import models
from django.urls import reverse
from wagtail.models import AbstractGroupApprovalTask

from cms.core.privacy import page_problems

from .middleware import current_request


def new_token() -> str:
    return secrets.token_urlsafe(32)


def revision_author_id(obj) -> int | None:
    state = getattr(obj, "current_workflow_task_state", None)
    revision = state.revision if state else None
    return revision.user_id if revision else None


class ReviewTask(AbstractGroupApprovalTask):
    """Members of the reviewers' group approve or send back; nobody approves a revision they wrote, and a
    revision that carries personal data is never approved (the publishing guard says what and where)."""

    def get_actions(self, obj, user):
        if revision_author_id(obj) == user.pk:
            return []
        return super().get_actions(obj, user)

    def on_action(self, task_state, user, action_name, **kwargs):
        request = current_request()
        if action_name == "approve":
            refusal = None
            if task_state.revision and task_state.revision.user_id == user.pk:
                refusal = "不能审核自己写的修改：请由另一位审核员审核。"
            else:
                problems = page_problems(task_state.revision.as_object()) if task_state.revision else []
                if problems:
                    refusal = "不能批准发布：" + "；".join(problems)
            if refusal:
                if request is not None:
                    messages.error(request, refusal)
                obj = task_state.workflow_state.content_object
                return reverse("wagtailadmin_pages:edit", args=[obj.pk])
        return super().on_action(task_state, user, action_name, **kwargs)

    @classmethod
    def get_description(cls):
        return "审核员组的成员批准或退回修改；任何人都不能审核自己写的修改。"

    class Meta:
        verbose_name = "审核（不能审核自己的修改）"
        verbose_name_plural = "审核任务"


def share_link_expiry():
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    return timezone.now() + timedelta(hours=settings.SHARE_LINK_HOURS)


class ShareLink(models.Model):
    """A secret address where someone without an account reads a page's latest draft until it expires.

    The token is random (not derived from the page), the link shows the draft rendered like the public
    page with a banner, never the admin; deleting the link revokes it at once.
    """

    page = models.ForeignKey("wagtailcore.Page", verbose_name="页面", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("失效时间", default=share_link_expiry)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "分享预览链接"
        verbose_name_plural = "分享预览链接"

    def __str__(self) -> str:
        return f"{self.page.title}（{self.expires_at:%Y-%m-%d %H:%M} 失效）"

    @property
    def is_valid(self) -> bool:
        from django.utils import timezone

        return self.expires_at > timezone.now()

    def get_absolute_url(self) -> str:
        return reverse("share_link", args=[self.token])

    @property
    def address(self) -> str:
        return self.get_absolute_url()
