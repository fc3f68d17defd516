"""Review before publishing: a second pair of eyes that is never the author's own."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.db import models, transaction
from django.urls import reverse
from wagtail.models import AbstractGroupApprovalTask

from cms.core import gate
from cms.core.middleware import current_request
from cms.core.privacy import PublishRefused


def new_token() -> str:
    return secrets.token_urlsafe(32)


def approval_refusal(task_state, user) -> str | None:
    """Why `user` may not approve this task (None: they may). What goes live is the task's revision."""
    revision = task_state.revision
    if revision is None:
        return "没有可以审核的版本。"
    if revision.user_id == user.pk:
        return "不能审核自己写的修改：请由另一位审核员审核。"
    latest = task_state.workflow_state.content_object.get_latest_revision()
    if latest is not None and latest.pk != revision.pk and latest.user_id == user.pk and not gate.same_content(
        latest, revision
    ):
        return (
            "你在审核期间修改了页面：你的修改已保存为草稿，需要另一位审核员审核后才能发布。"
            "请把页面退回作者，或请另一位审核员审核。"
        )
    problems = gate.content_problems(revision.as_object())
    if problems:
        return "不能批准发布：" + "；".join(problems)
    return None


def revision_author_id(obj) -> int | None:
    state = getattr(obj, "current_workflow_task_state", None)
    revision = state.revision if state else None
    return revision.user_id if revision else None


def submitted_by(obj, user) -> bool:
    """Whether `user` submitted the page now in review."""
    state = getattr(obj, "current_workflow_state", None)
    return bool(state and state.requested_by_id == user.pk)


class ReviewTask(AbstractGroupApprovalTask):
    """Members of the reviewers' group approve or send back; nobody approves a revision they wrote, and a
    revision that carries personal data is never approved (the publishing guard says what and where)."""

    def get_actions(self, obj, user):
        if revision_author_id(obj) == user.pk:
            return []
        return super().get_actions(obj, user)

    def is_reviewer(self, user) -> bool:
        """A member of the task's groups (or a superuser): someone who may approve others' revisions."""
        return user.is_superuser or self._user_in_groups(user)

    def locked_for_user(self, obj, user):
        """A page in review is locked, as in Wagtail, except for reviewers and for the person who submitted it:
        they may go on saving drafts. What an approval publishes is the revision submitted and reviewed
        (cms.core.gate.publish_reviewed_revision); a draft saved during the review stays a draft until it is
        submitted again, and the reviewer is told so."""
        return super().locked_for_user(obj, user) and not submitted_by(obj, user)

    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name != "approve":
            return super().on_action(task_state, user, action_name, **kwargs)
        request = current_request()
        obj = task_state.workflow_state.content_object
        back = reverse("wagtailadmin_pages:edit", args=[obj.pk])
        refusal = approval_refusal(task_state, user)
        if refusal is None:
            try:
                # Approving publishes through the gate (cms/core/gate.py); a refusal there undoes the approval.
                with transaction.atomic():
                    result = super().on_action(task_state, user, action_name, **kwargs)
            except PublishRefused as exc:
                refusal = "不能批准发布：" + "；".join(exc.problems)
            else:
                # Approving from the page editor saves the form as a new revision first (Wagtail does whenever
                # the form reports a change, which a StreamField does even when nothing was edited): only a
                # later revision with other content is a change that did not go live.
                latest = obj.get_latest_revision()
                reviewed = task_state.revision
                if (
                    request is not None
                    and latest is not None
                    and latest.pk != task_state.revision_id
                    and not gate.same_content(latest, reviewed)
                ):
                    messages.warning(request, "已发布你审核的版本；审核期间又保存的修改还没有发布，需要再次提交审核。")
                return result
        if request is not None:
            messages.error(request, refusal)
        return back

    @classmethod
    def get_description(cls):
        return "审核员组的成员批准或退回修改；任何人都不能审核自己写的修改。"

    class Meta:
        verbose_name = "审核（不能审核自己的修改）"
        verbose_name_plural = "审核任务"


def latest_draft(page):
    """The page as its latest revision has it: what a share link shows."""
    page = page.specific
    return page.get_latest_revision_as_object() if page.latest_revision_id else page


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
