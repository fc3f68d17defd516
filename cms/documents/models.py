from django.db import models
from wagtail.documents.models import AbstractDocument, Document


class CustomDocument(AbstractDocument):
    """A downloadable document (templates, forms). The summary tells a reader what it is before they open it."""

    summary = models.TextField("简介", blank=True)

    admin_form_fields = (*Document.admin_form_fields, "summary")

    class Meta(AbstractDocument.Meta):
        verbose_name = "文档"
        verbose_name_plural = "文档"
