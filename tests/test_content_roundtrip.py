"""The real content/ folder imports cleanly, re-imports as unchanged, and exports round-trip byte-identically."""

import difflib
import filecmp
from pathlib import Path

import pytest
from wagtail.models import Page, Revision

from cms.content_io.exporter import run_export
from cms.content_io.importer import run_import
from cms.content_io.models import ContentSource
from cms.core.models import Person, Street, Tag
from cms.images.models import CustomImage
from cms.stories.models import StoryPage
from tests.support.helpers import make_tree

CONTENT = Path(__file__).resolve().parent.parent / "content"
pytestmark = pytest.mark.django_db


def test_the_program_content_imports_and_reimports_as_unchanged(tree):
    report, _ = run_import(CONTENT, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    assert StoryPage.objects.live().count() >= 12
    assert set(Street.objects.values_list("slug", flat=True)) >= {"taoranting", "jianwai", "huilongguan"}
    revisions = Revision.objects.count()
    again, _ = run_import(CONTENT, publish=True)
    assert again.ok and not again.created and not again.updated
    assert Revision.objects.count() == revisions


def empty_database():
    for page in Page.get_first_root_node().get_children():
        page.delete()
    for model in (ContentSource, Street, Person, CustomImage, Tag):
        model.objects.all().delete()


def test_export_import_export_is_byte_identical(tree, tmp_path):
    assert run_import(CONTENT, publish=True)[0].ok
    first, second = tmp_path / "first", tmp_path / "second"
    run_export(first)
    empty_database()
    make_tree()
    report, _ = run_import(first, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    run_export(second)
    files = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(second)) for p in second.rglob("*") if p.is_file())
    match, mismatch, errors = filecmp.cmpfiles(first, second, files, shallow=False)
    if mismatch:  # show how the first differing file differs
        a, b = ((folder / mismatch[0]).read_text().splitlines() for folder in (first, second))
        pytest.fail("\n".join(difflib.unified_diff(a, b, "first/" + mismatch[0], "second/" + mismatch[0], lineterm="")))
    assert not errors, errors
    story = (first / "stories" / "xiaonian-jiaozi.md").read_text(encoding="utf-8")
    assert story.startswith("---\ntitle: 小年夜") and "hero_image:" in story and "## " in story
