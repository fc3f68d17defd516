import io

from django.core.exceptions import ValidationError
from django.db import models
from wagtail.images.models import AbstractImage, AbstractRendition, Image
from wagtail.utils.file import hash_filelike


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

    def clean(self):
        """The admin's image forms refuse personal data in the title, alt text, caption, credit or file name
        (`cms/images/checks.py`); GPS is no reason to refuse, as saving removes it."""
        from .checks import upload_errors

        super().clean()
        errors = upload_errors(self, new_file=self._has_new_file())
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # Wagtail saves only a field or two while it makes renditions (file_hash, file_size), in every
        # render worker at once: such a save never touches the file (it used to store a new copy under a new
        # name while the row kept the old one).
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "file" in update_fields:
            self.strip_exif()
        super().save(*args, **kwargs)

    def strip_exif(self):
        """Remove GPS and other EXIF from a new or replaced file, before Wagtail makes any rendition."""
        from django.core.files.base import ContentFile

        from .exif import without_exif

        if not self._has_new_file():
            return
        self.file.seek(0)
        data = self.file.read()
        cleaned = without_exif(data)
        if cleaned is None:
            self.file.seek(0)
            return
        name = self.file.name.rsplit("/", 1)[-1]
        if getattr(self.file, "_committed", False) and self.file.name:
            self.file.storage.delete(self.file.name)  # the stored copy still has the location in it
        self.file = ContentFile(cleaned, name=name)
        self.file_size = len(cleaned)
        self.file_hash = hash_filelike(io.BytesIO(cleaned))  # known now: no save just for it while rendering

    def create_rendition(self, filter):
        """Make one rendition, unless another process made it while this one waited for the lock."""
        from .renditions import rendition_lock

        with rendition_lock(self.pk):
            existing = self.renditions.filter(filter_spec=filter.spec, focal_point_key=filter.get_cache_key(self))
            return existing.first() or super().create_rendition(filter)

    def create_renditions(self, *filters):
        """Make several renditions, each once (see create_rendition)."""
        from .renditions import rendition_lock

        if len(filters) < 2:
            return super().create_renditions(*filters)  # one filter: create_rendition, which locks
        with rendition_lock(self.pk):
            made = self.renditions.filter(filter_spec__in=[f.spec for f in filters])
            rows = {(r.filter_spec, r.focal_point_key): r for r in made}
            keys = {f: (f.spec, f.get_cache_key(self)) for f in filters}
            found = {f: rows[key] for f, key in keys.items() if key in rows}
            missing = [f for f in filters if f not in found]
            return {**found, **super().create_renditions(*missing)}

    def _has_new_file(self) -> bool:
        return bool(self.file) and not (getattr(self.file, "_committed", True) and self.pk and not self._file_changed())

    def _file_changed(self) -> bool:
        old = type(self).objects.filter(pk=self.pk).values_list("file", flat=True).first()
        return old != self.file.name

    class Meta(AbstractImage.Meta):
        verbose_name = "图片"
        verbose_name_plural = "图片"


class CustomRendition(AbstractRendition):
    image = models.ForeignKey(CustomImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)
