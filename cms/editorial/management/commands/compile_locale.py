"""Compile the project's translations (LOCALE_PATHS) without GNU gettext: .po → .mo, in Python.

    manage.py compile_locale             # every locale/<lang>/LC_MESSAGES/*.po → .mo beside it
    manage.py compile_locale --check     # exit 1 when a committed .mo is not the compiled .po
    manage.py compile_locale --upstream  # also write locale/upstream/: the Wagtail strings, by Transifex resource

`manage.py compilemessages` needs msgfmt; this needs nothing but Python, so a fresh machine can compile too.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cms.editorial.po import mo_bytes, po_text, read_po

# Wagtail's Transifex resources (its .tx/config), by the source path a reference names. Transifex calls the
# language zh_CN; Wagtail maps it to zh_Hans.
RESOURCES = {
    "wagtail/contrib/redirects": "wagtailredirects", "wagtail/contrib/settings": "wagtailsettings",
    "wagtail/contrib/forms": "wagtailforms", "wagtail/admin": "wagtailadmin", "wagtail/documents": "wagtaildocs",
    "wagtail/images": "wagtailimages", "wagtail/snippets": "wagtailsnippets", "wagtail/users": "wagtailusers",
    "wagtail/search": "wagtailsearch", "wagtail/sites": "wagtailsites", "wagtail/embeds": "wagtailembeds",
    "wagtail/locales": "wagtaillocales",
}  # fmt: skip
TRANSIFEX_LANGUAGE = {"zh_Hans": "zh_CN"}


def resource(reference: str, domain: str) -> str | None:
    """The Transifex resource of a string, from one of its references (None: not Wagtail's)."""
    path = reference.split(":")[0]
    if not path.startswith("wagtail/"):
        return None
    name = next((slug for app, slug in RESOURCES.items() if path.startswith(app + "/")), "wagtailcore")
    return name + "js" if domain == "djangojs" else name


class Command(BaseCommand):
    help = "Compile locale/*.po into .mo without gettext (and write the strings to offer Wagtail upstream)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only check that each .mo is up to date")
        parser.add_argument("--upstream", action="store_true", help="write locale/upstream/ for Wagtail's Transifex")

    def handle(self, *args, check=False, upstream=False, **options):
        stale = []
        for root in map(Path, settings.LOCALE_PATHS):
            for po in sorted(root.glob("*/LC_MESSAGES/*.po")):
                compiled = mo_bytes(read_po(po))
                mo = po.with_suffix(".mo")
                if check:
                    if not mo.exists() or mo.read_bytes() != compiled:
                        stale.append(str(mo))
                    continue
                mo.write_bytes(compiled)
                self.stdout.write(f"{mo}")
                if upstream:
                    self.write_upstream(root, po)
        if stale:
            raise CommandError("not compiled from its .po (run manage.py compile_locale): " + ", ".join(stale))

    def write_upstream(self, root: Path, po: Path):
        """One .po per Transifex resource of Wagtail, with only that resource's strings we translated."""
        entries = read_po(po)
        header = entries[0] if entries and entries[0].msgid == "" else None
        by_resource = defaultdict(list)
        for entry in entries:
            if entry.msgid and entry.translated:
                for name in dict.fromkeys(filter(None, (resource(r, po.stem) for r in entry.references))):
                    by_resource[name].append(entry)
        language = po.parent.parent.name
        for name, chosen in sorted(by_resource.items()):
            target = root / "upstream" / f"{name}.{TRANSIFEX_LANGUAGE.get(language, language)}.po"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(po_text(([header] if header else []) + chosen), encoding="utf-8")
            self.stdout.write(f"{target} ({len(chosen)})")
