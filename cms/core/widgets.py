"""The admin's rich text editor (Draftail), refusing a value it cannot read with a field error, not a 500.

Draftail posts its content as JSON (Draft.js "contentstate"); Wagtail's widget converts it to the stored
HTML in value_from_datadict, before any validation, and a value that is not that JSON (HTML posted
directly, a script, a broken client) raised there: HTTP 500. value_from_datadict cannot raise a
ValidationError itself (Django calls it again to show the form), so it hands on the value marked as
unreadable, and the form field's own cleaning (forms.CharField.to_python, which calls str() on it, for
RichTextField and for RichTextBlock in a StreamField alike) raises the error there, on the field or the
block. Registered for every rich text field as the default editor: WAGTAILADMIN_RICH_TEXT_EDITORS in
cms/settings/base.py.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from wagtail.admin.rich_text import DraftailRichTextArea

UNREADABLE_MESSAGE = (
    "无法读取这段富文本：提交的内容不是编辑器的格式（例如直接提交了 HTML）。请在编辑器里重新输入或粘贴后再保存。"
)


class UnreadableRichText(str):
    """A posted rich text value that is not the editor's JSON. Its text is what was posted; turning it into
    a plain string, which a form field's cleaning does first, raises the field error."""

    def __str__(self):
        raise ValidationError(UNREADABLE_MESSAGE, code="unreadable_rich_text")


class CheckedDraftailRichTextArea(DraftailRichTextArea):
    def value_from_datadict(self, data, files, name):
        posted = data.get(name)
        if posted is None:
            return None
        if posted == "":  # nothing posted for the field: empty rich text ("required" decides if that is allowed)
            return ""
        try:
            contentstate = json.loads(posted)
            if contentstate is not None and not (
                isinstance(contentstate, dict) and isinstance(contentstate.get("blocks", []), list)
            ):
                raise ValueError("not a contentstate")
            return self.converter.to_database_format(posted)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            return UnreadableRichText(posted)

    def format_value(self, value):
        if isinstance(value, UnreadableRichText):
            # The form shown again with the error: the editor holds what was posted, read as HTML (its text).
            return self.converter.from_database_format(str.__str__(value))
        return super().format_value(value)
