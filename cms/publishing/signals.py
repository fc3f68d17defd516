"""Every change the public site shows asks for a build, after its transaction commits."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from cms.core.models import Person, SiteSettings, Source, SourceQuote, Street, Tag

from .models import BuildRequest

logger = logging.getLogger(__name__)


def request_build(reason: str, full: bool = False, pages: list[int] | None = None):
    """`pages`: the pages whose publishing state changed (a publish, an unpublish); None when the change may
    reach pages the build cannot name (it then reads the whole site for its signatures)."""
    if not getattr(settings, "SITE_AUTO_BUILD", True):
        return
    BuildRequest.objects.create(reason=reason[:200], full=full, pages=pages)

    def enqueue():
        from .tasks import build_site_task

        try:
            build_site_task.enqueue()
        except Exception:  # a failed build is recorded on its Release; never break the editor's save
            logger.exception("静态网站构建失败")

    transaction.on_commit(enqueue)


@receiver(page_published)
def on_publish(sender, instance, **kwargs):
    request_build(f"发布《{instance.title}》", pages=[instance.pk])


@receiver(page_unpublished)
def on_unpublish(sender, instance, **kwargs):
    request_build(f"取消发布《{instance.title}》", pages=[instance.pk])


@receiver(post_page_move)
def on_move(sender, instance, **kwargs):
    request_build(f"移动《{instance.title}》")


@receiver(page_slug_changed)
def on_slug_changed(sender, instance, **kwargs):
    request_build(f"修改网址《{instance.title}》")


def on_page_deleted(sender, instance, **kwargs):
    if getattr(instance, "live", False):
        request_build(f"删除《{instance.title}》")


post_delete.connect(on_page_deleted, sender="wagtailcore.Page", dispatch_uid="publishing_page_deleted")


def on_view_restriction_saved(sender, instance, created=False, **kwargs):
    """A view restriction (password, login, groups) takes the page and its descendants off the public site;
    removing it brings them back. Wagtail sends no signal of its own for either."""
    page = instance.page
    if created:
        request_build(f"设为私密《{page.title}》")
    else:
        request_build(f"修改访问限制《{page.title}》")


def on_view_restriction_deleted(sender, instance, **kwargs):
    try:
        title = instance.page.title
    except Page.DoesNotExist:  # deleted with its page, whose own signal asks for the build
        return
    request_build(f"取消私密《{title}》")


post_save.connect(
    on_view_restriction_saved, sender=PageViewRestriction, dispatch_uid="publishing_view_restriction_saved"
)
post_delete.connect(
    on_view_restriction_deleted, sender=PageViewRestriction, dispatch_uid="publishing_view_restriction_deleted"
)


@receiver(post_save, sender=Street)
@receiver(post_save, sender=Person)
@receiver(post_save, sender=Tag)
@receiver(post_delete, sender=Street)
@receiver(post_delete, sender=Person)
def on_snippet_change(sender, instance, **kwargs):
    request_build(f"修改{sender._meta.verbose_name}“{instance}”")


@receiver(post_save, sender=Source)
@receiver(post_delete, sender=Source)
@receiver(post_save, sender=SourceQuote)
def on_source_change(sender, instance, **kwargs):
    """A source's citation shows on every page that cites it or quotes from it: render everything again
    (sources change rarely; a signature per page would have to follow quotes inside streams)."""
    request_build(f"修改出处“{instance}”", full=True)


@receiver(post_save, sender=SiteSettings)
def on_settings_change(sender, instance, **kwargs):
    request_build("修改网站设置")
