"""Wagtail's `publish_scheduled`, with the publishing gate's refusals handled one revision at a time.

Wagtail's command publishes every due revision in one loop: a revision the gate refuses (its content
fails a privacy rule made stricter since it was approved) would stop the loop, so the pages after it
would not go live either and `publish_scheduled_loop` would die. Here a refused revision is taken off
the schedule (it stays a draft, the refusal goes to the log and the page's history), and the others go on.
"""

from __future__ import annotations

import logging

from django.utils import timezone
from wagtail.log_actions import log
from wagtail.management.commands.publish_scheduled import Command as WagtailCommand
from wagtail.models import Revision

from cms.core.privacy import PublishRefused

logger = logging.getLogger("cms.editorial")


class Command(WagtailCommand):
    def handle(self, *args, **options):
        if not options.get("dryrun"):
            for revision in Revision.objects.filter(approved_go_live_at__lt=timezone.now()).order_by(
                "approved_go_live_at"
            ):
                try:
                    revision.publish(log_action="wagtail.publish.scheduled")
                except PublishRefused as exc:
                    Revision.objects.filter(pk=revision.pk).update(approved_go_live_at=None)
                    obj = revision.as_object()
                    log(instance=obj, action="wagtail.schedule.cancel", revision=revision, data={
                        "revision": {"id": revision.pk, "created": revision.created_at.isoformat(),
                                     "go_live_at": revision.approved_go_live_at.isoformat(),
                                     "has_live_version": obj.live},
                    })  # fmt: skip
                    logger.warning("定时发布被拒绝，已取消定时：《%s》（页面 %s）：%s", obj.title, obj.pk, exc)
                    self.stderr.write(f"定时发布被拒绝，已取消定时：《{obj.title}》：{exc}")
        return super().handle(*args, **options)
