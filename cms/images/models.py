from django.db import models
from wagtail.images.models import AbstractImage, AbstractRendition, Image


class CustomImage(AbstractImage):
    """An image with the caption and credit a public-service site must show beside it.

    Alt text lives in Wagtail's own ``description`` field, which the admin asks for on upload.
    """

    caption = models.CharField("图片说明", max_length=255, blank=True)
    credit = models.CharField("图片来源/摄影", max_length=255, blank=True)

    admin_form_fields = (*Image.admin_form_fields, "caption", "credit")

    @property
    def alt_text(self) -> str:
        return self.description or ""

    class Meta(AbstractImage.Meta):
        verbose_name = "图片"
        verbose_name_plural = "图片"


class CustomRendition(AbstractRendition):
    image = models.ForeignKey(CustomImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)
