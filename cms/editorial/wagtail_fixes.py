"""English that Wagtail 8.0 shows with no string to translate, given words here (locale/UPSTREAM.md offers the fix).

A form field without a label shows its name ("Link text"); the pages search leaves the listing's noun unset, and
the count above its results reads "共 6 个None". Templates with a hard-coded English word are overridden in
cms/editorial/templates/wagtailadmin/ instead (tests/test_admin_language.py checks they stay Wagtail's otherwise).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def apply():
    from wagtail.admin.forms import choosers
    from wagtail.admin.views.pages.search import SearchView
    from wagtail.models import Page

    labels = {
        choosers.ExternalLinkChooserForm: {"link_text": _("Link text")},
        choosers.AnchorLinkChooserForm: {"link_text": _("Link text")},
        choosers.EmailLinkChooserForm: {
            "email_address": _("Email address"),
            "link_text": _("Link text"),
            "subject": _("Subject"),
            "body": _("Body"),
        },
        choosers.PhoneLinkChooserForm: {"phone_number": _("Phone number"), "link_text": _("Link text")},
    }
    for form, fields in labels.items():
        for name, label in fields.items():
            if form.base_fields[name].label is None:
                form.base_fields[name].label = label
    if SearchView.verbose_name is None:
        SearchView.verbose_name = Page._meta.verbose_name
        SearchView.verbose_name_plural = Page._meta.verbose_name_plural
