"""What an import holds while it runs: the parts of `Importer` (validation, files, writing) share it."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from wagtail.models import Site

from cms.core.models import Source

from ..models import ContentSource
from .items import FileItem, PageItem, Report, SnippetItem


class ImportState:
    def __init__(self, root: Path, *, publish: bool = False, budget: float = 5.0, progress=None):
        self.root = Path(root).resolve()
        self.publish = publish
        self.budget = budget
        self.progress = progress or (lambda done, total: None)
        self.report = Report()
        self.pages: dict[str, PageItem] = {}
        self.files: dict[str, dict[str, FileItem]] = {"image": {}, "document": {}}  # kind → key → item
        self.file_ids: dict[str, dict[str, int]] = {"image": {}, "document": {}}  # kind → key → id, once written
        self.snippets: list[SnippetItem] = []
        self.settings_item: SnippetItem | None = None
        self.adopted: set[str] = set()
        self.written_sources: list[tuple[Source, SnippetItem]] = []
        self.refused_pages: list[PageItem] = []  # files with problems: their references are checked all the same
        # Read from the database once, when first needed.
        self._allowed: tuple[str, ...] | None = None  # the organisation's own contacts (has_personal_data)
        self._quote_index: dict[str, dict[str, list[str]]] | None = None
        self._source_ids: dict[str, int] | None = None
        self._person_ids: dict[str, int] | None = None
        self._street_ids: dict[str, int] | None = None
        self.source_keys: set[str] = set()  # of content/ and the database, once cross-references are checked

    def problem(self, path: str, message: str, line: int | None = None, field_name: str | None = None):
        self.report.reject(path, message, line, field_name)

    def record(self, key: str, state: str):
        getattr(self.report, state).append(key)

    def save_source(self, sources, key, kind, object_id, item_digest):
        source = sources.get(key)
        if source is None:
            sources[key] = ContentSource.objects.create(key=key, kind=kind, object_id=object_id, digest=item_digest)
        elif source.object_id != object_id or source.digest != item_digest:
            source.object_id, source.digest = object_id, item_digest
            source.save()


def existing_home():
    """The home page already in the database: the default site's root if it is a HomePage, else the first one."""
    model = apps.get_model("home.HomePage")
    site = Site.objects.filter(is_default_site=True).first()
    if site and isinstance(site.root_page.specific, model):
        return site.root_page
    return model.objects.first()
