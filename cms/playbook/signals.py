"""Public change notes: a chapter published with a note adds it to the playbook's change history."""

from wagtail.signals import page_published

from .models import PlaybookChange, PlaybookChapterPage


def record_change_note(sender, instance, revision=None, **kwargs):
    PlaybookChange.record(
        instance, revision, instance.change_kind, instance.change_note, when=instance.last_published_at
    )


page_published.connect(record_change_note, sender=PlaybookChapterPage, dispatch_uid="playbook-change-notes")
