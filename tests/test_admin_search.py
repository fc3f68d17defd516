"""The admin's search finds Chinese words: on a database loaded from content/, through the admin's own views,
every page (snippet, image, document) whose text holds a word is found by it, on SQLite and on PostgreSQL
(cms/core/search_backend.py, cms/core/analyzer.py).

What a page's text is, here: the values of its search fields as Wagtail reads them (rich text without its
tags, every string of its streams); `test_the_index_holds_every_text_a_page_has_of_its_own` checks that those
are all the texts the page has (`cms.core.privacy.page_texts`, the publishing guard's walk).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.db.models import Manager
from django.test import Client, override_settings
from wagtail.admin.views.pages.search import SearchView
from wagtail.models import Page
from wagtail.search import index
from wagtail.search.backends import get_search_backend
from wagtail.search.models import IndexEntry
from wagtail.search.query import Not, Or, Phrase, PlainText

from cms.content_io.importer import run_import
from cms.core import analyzer
from cms.core.models import Person, Source, Street
from cms.core.privacy import page_texts
from cms.documents.models import CustomDocument
from cms.images.models import CustomImage
from tests.support.helpers import make_street, make_tree
from tests.support.import_fixtures import good_tree

CONTENT = Path(__file__).resolve().parent.parent / "content"
NAMED_WORDS = ["外卖骑手", "网格员", "党支部", "陶然亭", "同心驿站"]
pytestmark = pytest.mark.django_db


# --- the text of an object, as its search fields give it ------------------------------------------------


def _flat(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(_flat(v) for v in value.values())
    return str(value)


def _field_texts(obj, fields):
    for field in fields:
        if isinstance(field, (index.SearchField, index.AutocompleteField)):
            yield _flat(field.get_value(obj))
        elif isinstance(field, index.RelatedFields):
            related = field.get_value(obj)
            if related is None:
                continue
            related = related.all() if isinstance(related, Manager) else [related() if callable(related) else related]
            for item in related:
                yield from _field_texts(item, field.fields)


def search_text(obj) -> str:
    return analyzer.normalize("\n".join(_field_texts(obj, obj.get_search_fields())))


def holding(word: str, texts: dict[int, str]) -> set[int]:
    """The objects whose text holds the word (plain substring of the normalized text)."""
    word = analyzer.normalize(word)
    return {pk for pk, text in texts.items() if word in text}


def matching(word: str, texts: dict[int, str]) -> set[int]:
    """The objects the analyzer says a query for the word matches."""
    query = analyzer.parse_query(word)
    return {pk for pk, text in texts.items() if analyzer.matches(query, text)}


def han_runs(text: str) -> list[str]:
    return [run for run, han in analyzer.runs(text) if han]


# --- a database loaded from content/, once for the content tests -----------------------------------------


@pytest.fixture(scope="class")
def content_site(django_db_setup, django_db_blocker):
    """content/ imported and published (the test settings index on every save, as the worker would), and
    the text of every page; rolled back after the class's tests."""
    with django_db_blocker.unblock(), transaction.atomic():
        make_tree()
        report, _ = run_import(CONTENT, publish=True)
        assert report.ok, [str(p) for p in report.rejected]
        pages = [page.specific for page in Page.objects.filter(depth__gt=1)]
        yield {
            "pages": {page.pk: page for page in pages},
            "texts": {page.pk: search_text(page) for page in pages},
        }
        transaction.set_rollback(True)


@pytest.fixture
def editor(client, django_user_model, content_site):
    user = django_user_model.objects.create_user(username="search-editor", password="pw")  # noqa: S106
    user.groups.add(Group.objects.get(name="编辑"))
    client.force_login(user)
    return client


@pytest.fixture
def superuser(django_user_model, content_site):
    """Sources (出处) are kept by administrators: editors do not see them."""
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("search-admin", "a@example.org", "pw"))
    return client


def listed(client, url: str, query: str, pattern: str, per_page: int | None = None) -> set[int]:
    """Ids of the objects a listing shows for the query, over all its pages."""
    ids: set[int] = set()
    page = 1
    while True:
        response = client.get(url, {"q": query, "p": page})
        if response.status_code == 404 and page > 1:
            break
        assert response.status_code == 200, (url, query, response.status_code)
        found = {int(i) for i in re.findall(pattern, response.content.decode())}
        if found <= ids:
            break
        ids |= found
        if per_page and len(found) < per_page:
            break
        page += 1
    return ids


LISTED = r'data-object-id="(\d+)"'  # a row of an admin listing (its bulk-action checkbox)


def admin_page_search(client, query: str) -> set[int]:
    """The explorer's search (and the admin's search box, which opens it): its results, every page of them."""
    return listed(client, "/admin/pages/search/results/", query, LISTED, per_page=SearchView.paginate_by)


# --- helpers for the content tests ---------------------------------------------------------------------


def sample_words(content_site, count: int) -> list[str]:
    """Chinese words of 2–6 characters cut at random from the pages' titles and texts (a fixed seed)."""
    rng = random.Random(2026)  # noqa: S311 (a sample, not a secret)
    words: set[str] = set()
    pages = content_site["pages"]
    for pk in sorted(pages):
        for source, tries in ((pages[pk].title, 2), (content_site["texts"][pk], 4)):
            runs = [run for run in han_runs(source) if len(run) >= 2]
            for _ in range(tries):
                if not runs:
                    break
                run = rng.choice(runs)
                size = rng.randint(2, min(6, len(run)))
                start = rng.randint(0, len(run) - size)
                words.add(run[start : start + size])
    words = sorted(words)
    rng.shuffle(words)
    return words[:count]


def _texts(model) -> dict[int, str]:
    return {obj.pk: search_text(obj) for obj in model.objects.all()}


def title_words(obj) -> list[str]:
    """Two Chinese words of the title: one from its start, one from its middle."""
    run = max(han_runs(obj.title), key=len)
    return sorted({run[:4], run[len(run) // 2 : len(run) // 2 + 3]} - {""})


class TestOnTheContent:
    """On the database content/ makes (loaded once for the class)."""

    # --- pages ------------------------------------------------------------------------------------------

    @pytest.mark.parametrize("word", NAMED_WORDS)
    def test_a_word_finds_every_page_that_holds_it(self, editor, content_site, word):
        texts = content_site["texts"]
        expected = holding(word, texts)
        assert expected, f"content/ has no page with {word}: the test would prove nothing"
        found = admin_page_search(editor, word)
        titles = {pk: content_site["pages"][pk].title for pk in expected - found}
        assert expected <= found, f"{word}: {len(expected - found)} of {len(expected)} pages not found: {titles}"
        # …and exactly the pages the analyzer says hold its terms (the same rules as the static site's search).
        assert found == matching(word, texts)

    def test_the_page_chooser_finds_them_too(self, editor, content_site):
        for word in ("同心驿站", "网格员"):
            found = listed(
                editor, "/admin/choose-page/search/", word, r'class="choose-page" href="#\d+" data-id="(\d+)"'
            )
            assert holding(word, content_site["texts"]) <= found, word

    def test_recall_of_hundreds_of_words_from_the_pages_own_text_is_complete(self, editor, content_site):
        texts = content_site["texts"]
        words = sample_words(content_site, 300)
        assert len(words) == 300
        missed = {}
        relevant = retrieved = 0
        for word in words:
            expected = holding(word, texts)
            found = admin_page_search(editor, word)
            if expected - found:
                missed[word] = sorted(expected - found)
            relevant += len(expected & found)
            retrieved += len(found)
        assert not missed, f"recall below 100 %: {len(missed)} of {len(words)} words miss pages: {missed}"
        print(
            f"\nadmin page search, {len(words)} words from content/: recall 100 %, "
            f"precision {relevant / retrieved:.1%} ({relevant} of {retrieved} results hold the word in one piece)"
        )

    def test_the_index_holds_every_text_a_page_has_of_its_own(self, content_site):
        """Every Chinese character of every text a page has of its own (as the publishing guard walks them) is in
        the text the index holds for it: no field of a page type is left out of the search."""
        for pk, page in content_site["pages"].items():
            own = {c for _label, text in page_texts(page) for c in analyzer.normalize(text) if analyzer.is_han(c)}
            indexed = set(content_site["texts"][pk])
            assert own <= indexed, f"{page.title} ({type(page).__name__}): {sorted(own - indexed)[:20]}"

    # --- snippets, images, documents --------------------------------------------------------------------

    def test_a_street_is_found_by_a_part_of_its_name(self, editor, content_site):
        streets = _texts(Street)
        assert len(streets) >= 3
        for street in Street.objects.all():
            for part in (street.name.removesuffix("街道"), street.name[1:3]):
                found = listed(editor, "/admin/snippets/core/street/", part, LISTED)
                assert street.pk in found, (street.name, part)
                assert found == matching(part, streets), (street.name, part)
            chosen = listed(
                editor,
                "/admin/snippets/choose/core/street/results/",
                street.name[:3],
                r"/choose/core/street/chosen/(\d+)/",
            )
            assert street.pk in chosen

    def test_people_and_sources_are_found_by_their_chinese_words(self, editor, superuser, content_site):
        people = _texts(Person)
        for person in Person.objects.all():
            found = listed(editor, "/admin/snippets/core/person/", person.name, LISTED)
            assert holding(person.name, people) <= found, person.name
        sources = _texts(Source)
        for source in Source.objects.all():
            word = max(han_runs(source.title), key=len)[2:6]
            found = listed(superuser, "/admin/snippets/core/source/", word, LISTED)
            assert source.pk in found and found == matching(word, sources), (source.title, word)

    def test_images_are_found_by_a_word_of_their_title(self, editor, content_site):
        images = _texts(CustomImage)
        assert len(images) >= 10
        for image in CustomImage.objects.all():
            for word in title_words(image):
                found = listed(editor, "/admin/images/", word, LISTED)
                assert image.pk in found and holding(word, images) <= found, (image.title, word)
                chosen = listed(editor, "/admin/images/chooser/results/", word, r"/admin/images/chooser/chosen/(\d+)/")
                assert image.pk in chosen, (image.title, word)

    def test_documents_are_found_by_a_word_of_their_title(self, editor, content_site):
        documents = _texts(CustomDocument)
        assert len(documents) >= 5
        for document in CustomDocument.objects.all():
            for word in title_words(document):
                found = listed(editor, "/admin/documents/", word, LISTED)
                assert document.pk in found and holding(word, documents) <= found, (document.title, word)
                chosen = listed(
                    editor, "/admin/documents/chooser/results/", word, r"/admin/documents/chooser/chosen/(\d+)/"
                )
                assert document.pk in chosen, (document.title, word)


# --- the rules of a query, on a small database ------------------------------------------------------------


@pytest.fixture
def streets(tree):
    return {
        "taoranting": make_street(),
        "jianwai": Street.objects.create(
            name="建外街道", slug="jianwai", district="朝阳区", summary="写字楼里的骑士驿站，WeChat 群。"
        ),
    }


def found(query, **kwargs) -> set[str]:
    return {s.slug for s in get_search_backend().search(query, Street, **kwargs)}


def test_a_query_is_the_analyzers_terms(streets):
    # A lone character is a term or the start of a pair; longer words are their pairs, in one piece or not.
    assert found("亭") == found("陶然亭") == found("然亭街") == {"taoranting"}
    assert found("街") == found("道") == found("街道") == {"taoranting", "jianwai"}
    assert found("亭陶") == found("亭道") == set()
    assert found("“陶然亭”") == found('"陶然亭"') == found("陶然亭，西城区") == {"taoranting"}
    # The last Latin word is a prefix being typed; an earlier one is a whole word.
    assert found("wech") == found("WeChat") == found("ＷｅＣｈａｔ") == found("驿站 wech") == {"jianwai"}
    assert found("chat") == found("wech 驿站") == found("wech 陶然") == set()
    # Punctuation alone holds no term: nothing, and no error.
    assert found("，、！") == set()


def test_and_or_not_and_phrases_work_as_in_wagtail(streets):
    assert found("陶然亭 建外") == set()
    assert found("陶然亭 建外", operator="or") == {"taoranting", "jianwai"}
    assert found(Or([PlainText("陶然亭"), PlainText("建外")])) == {"taoranting", "jianwai"}
    assert found(Not(PlainText("陶然亭"))) == {"jianwai"}
    assert found(Phrase("骑士驿站")) == {"jianwai"}
    assert {s.slug for s in get_search_backend().autocomplete("建外", Street)} == {"jianwai"}


def test_an_edit_replaces_what_the_index_held(streets):
    street = streets["taoranting"]
    street.name, street.summary = "白纸坊街道", "白纸坊的简介。"
    street.save()
    assert found("白纸坊") == {"taoranting"}
    assert found("陶然亭") == set()
    street.delete()
    assert found("白纸坊") == set()


def test_update_index_rebuilds_the_index(streets):
    assert found("陶然亭") == {"taoranting"}
    IndexEntry.objects.all().delete()
    assert found("陶然亭") == set()
    call_command("update_index", verbosity=0)
    assert found("陶然亭") == {"taoranting"}


def test_import_content_leaves_a_searchable_index_without_a_worker(tmp_path, tree):
    """With the task queue of a real site (tasks wait for `db_worker`), the import itself fills the index."""
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        call_command("import_content", str(good_tree(tmp_path)), "--publish", verbosity=0)
        assert {p.title for p in Page.objects.autocomplete("饺子")} == {"小年夜的饺子"}
