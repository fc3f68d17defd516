"""Review before publishing: a second pair of eyes that is never the author's own."""

from __future__ import annotations

from django.contrib import messages
from django.urls import reverse
from wagtail.models import AbstractGroupApprovalTask

from cms.core.privacy import page_problems

from .middleware import current_request


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
