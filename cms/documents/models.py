import io

from django.core.exceptions import ValidationError
from django.db import models
from wagtail.documents.models import AbstractDocument, Document


class DocumentRefused(Exception):
    """A new file refused on save (not what its extension says, or personal data in it); nothing is stored."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("不能上传：" + "；".join(problems))


class CustomDocument(AbstractDocument):
    """A downloadable document (templates, forms). The summary tells a reader what it is before they open it.

    Every new file loses who made it (PDF /Info and XMP, Office and OpenDocument author fields) and is refused
    if its content is not what its extension says or it holds personal data (`cms/documents/checks.py`):
    `clean` reports it on the admin's forms, `save` on any other write (the importer, scripts).
    """

    summary = models.TextField("简介", blank=True)

    admin_form_fields = (*Document.admin_form_fields, "summary")

    def clean(self):
        from .checks import text_problems

        super().clean()
        errors = {}
        for field in ("title", "summary"):
            label = str(self._meta.get_field(field).verbose_name)
            problems = text_problems(f"“{label}”", "内容", getattr(self, field)) if getattr(self, field) else []
            if problems:
                errors[field] = [f"{p}，请删去或改写" for p in problems]
        if self._has_new_file():
            _data, problems = self._prepared_file()
            if problems:
                errors["file"] = [f"{p}，不能上传" for p in problems]
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if (update_fields is None or "file" in update_fields) and self._has_new_file():
            self._store_clean_file()
        super().save(*args, **kwargs)

    def _has_new_file(self) -> bool:
        """A file that is not the one on record: uploaded, or written to storage by the importer."""
        if not self.file or not self.file.name:
            return False
        if not getattr(self.file, "_committed", True) or self.pk is None:
            return True
        old = type(self).objects.filter(pk=self.pk).values_list("file", "file_hash").first()
        return old is None or old[0] != self.file.name or (bool(self.file_hash) and old[1] != self.file_hash)

    def _prepared_file(self) -> tuple[bytes | None, list[str]]:
        """The new file's bytes without metadata (None if unchanged) and what is wrong with them; worked out
        once per file, as `clean` and `save` both ask."""
        from .checks import file_name, file_problems
        from .filetypes import extension
        from .metadata import strip_metadata

        key = (self.file.name, getattr(self.file, "_committed", None), id(getattr(self.file, "_file", None)))
        cached = getattr(self, "_prepared", None)
        if cached and cached[0] == key:
            return cached[1]
        with self.open_file() as f:
            data = f.read()
        name = file_name(self)
        stripped = strip_metadata(data, extension(name))
        result = (stripped, file_problems(stripped if stripped is not None else data, name))
        self._prepared = (key, result)
        return result

    def _store_clean_file(self):
        from django.core.files.base import ContentFile
        from wagtail.utils.file import hash_filelike

        stripped, problems = self._prepared_file()
        committed = getattr(self.file, "_committed", False)
        if problems:
            if committed:
                self.file.storage.delete(self.file.name)  # media is served directly: a refused file must not stay
            raise DocumentRefused(problems)
        if stripped is None:
            return
        name = self.file.name.rsplit("/", 1)[-1]
        if committed:
            self.file.storage.delete(self.file.name)  # the stored copy still names who made it
        self.file = ContentFile(stripped, name=name)
        self.file_size = len(stripped)
        self.file_hash = hash_filelike(io.BytesIO(stripped))
        self._prepared = None

    class Meta(AbstractDocument.Meta):
        verbose_name = "文档"
        verbose_name_plural = "文档"
