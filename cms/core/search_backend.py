"""The admin's search: Wagtail's database backend, with Chinese text split by the project's analyzer.

Neither SQLite FTS5 (unicode61) nor PostgreSQL's ``simple`` configuration splits Chinese: a run of
characters without spaces is one word to them, so 陶然亭 was found only where it stood alone between
punctuation. Here every text is turned into index terms by `cms.core.analyzer` before the engine sees it,
and every query into the terms a match must hold, by the same rules as the static site's search:

- indexing: each SearchField and AutocompleteField value (RelatedFields too) becomes
  ``analyzer.search_text(value)``, its terms separated by spaces, which both engines split into the same
  words (the ``simple`` configuration on PostgreSQL: no stemming, no stop words);
- querying: a PlainText or Phrase becomes ``analyzer.parse_query(text)``: every required term exactly, and
  the prefixes (a lone Chinese character, the last Latin word still being typed) as prefix queries (FTS5
  ``"外"*``, tsquery ``'外':*``), all ANDed; And, Or, Not and Boost around them work as in Wagtail;
- one document per object: the title, body and autocomplete columns are searched together, by
  ``search()`` and ``autocomplete()`` alike (the analyzer already treats the last word as a prefix), so the
  admin's page search, which calls ``autocomplete()``, finds words in a page's body and not only in its
  title. A ``fields=`` argument is still checked by Wagtail (the names must be SearchFields of the model)
  but does not narrow the search: the index keeps one analyzed text per column, not one per field.

SQLite needs FTS5 (Wagtail's own condition); on another database, or SQLite without FTS5, Wagtail's
backend is used unchanged. Existing index entries hold the old, unsplit text: ``manage.py update_index``
rebuilds them (docs/operations.md).
"""

from __future__ import annotations

import operator
from functools import cache, reduce

from django.db import connection
from modelsearch.backends.database import SearchBackend as WagtailDatabaseBackend
from modelsearch.index import AutocompleteField, SearchField
from modelsearch.query import MATCH_ALL, MATCH_NONE, And, Boost, MatchAll, Not, Or, Phrase, PlainText
from modelsearch.utils import get_content_type_pk

from cms.core import analyzer

#: The columns of an index entry, searched together.
COLUMNS = ["title", "body", "autocomplete"]


# --- queries -------------------------------------------------------------------------------------------


class Terms(PlainText):
    """A query after the analyzer: a matching object holds every ``required`` term exactly and, for every
    ``prefixes`` entry, a term that starts with it. A PlainText, so that Wagtail's query normalisation and
    ranking treat it as one."""

    def __init__(self, query: analyzer.Query):
        self.required = list(query.required)
        self.prefixes = list(query.prefixes)
        super().__init__(" ".join(self.required + self.prefixes), operator="and")

    def __repr__(self):
        return f"<Terms required={self.required!r} prefixes={self.prefixes!r}>"


def _terms(query: analyzer.Query):
    return MATCH_NONE if query.empty else Terms(query)


def _nothing(query) -> bool:
    return isinstance(query, Not) and isinstance(query.subquery, MatchAll)


def analyze(query):
    """The query with every PlainText and Phrase turned into Terms. A text with no terms at all (only
    punctuation) matches nothing: MATCH_NONE, which And and Or resolve, so that it is only ever left at the
    top, where both of Wagtail's compilers answer it with an empty result."""
    if isinstance(query, (Terms, MatchAll)):
        return query
    if isinstance(query, PlainText) and query.operator == "or":
        # Any of the words: each word (a run between spaces) is matched whole, the last one as it is being
        # typed, the others as finished words.
        words = query.query_string.split()
        alternatives = []
        for i, word in enumerate(words):
            parsed = analyzer.parse_query(word)
            if i < len(words) - 1:
                typed = [p for p in parsed.prefixes if not analyzer.is_han(p)]
                parsed.prefixes = [p for p in parsed.prefixes if analyzer.is_han(p)]
                parsed.required += [p for p in typed if p not in parsed.required]
            alternatives.append(_terms(parsed))
        return analyze(Or(alternatives))
    if isinstance(query, (PlainText, Phrase)):
        # A phrase is its words in one piece: the analyzer's pairs already hold the characters together.
        terms = _terms(analyzer.parse_query(query.query_string))
        if isinstance(terms, Terms):
            terms.boost = getattr(query, "boost", 1)
        return terms
    if isinstance(query, Boost):
        inner = analyze(query.subquery)
        return inner if _nothing(inner) else Boost(inner, query.boost)
    if isinstance(query, Not):
        inner = analyze(query.subquery)
        return MATCH_ALL if _nothing(inner) else Not(inner)
    if isinstance(query, And):
        parts = [analyze(q) for q in query.subqueries]
        if any(_nothing(p) for p in parts):
            return MATCH_NONE
        return parts[0] if len(parts) == 1 else And(parts)
    if isinstance(query, Or):
        parts = [p for p in (analyze(q) for q in query.subqueries) if not _nothing(p)]
        if not parts:
            return MATCH_NONE
        return parts[0] if len(parts) == 1 else Or(parts)
    return query  # Fuzzy (PostgreSQL's trigram search on the raw text), or anything newer: as Wagtail does


class AnalyzedQueryMixin:
    """The compiler's query goes through the analyzer; every column is searched (see the module)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.query = analyze(self.query)

    def check(self):
        super().check()  # a field name that is not a SearchField of the model is still an error
        self.fields = None

    def get_config(self, backend):
        return backend.config


# --- indexing --------------------------------------------------------------------------------------------


class AnalyzedIndexMixin:
    """Writes each object's entry in one upsert, its texts through the analyzer (`indexer_class`).

    Wagtail's own ``add_items`` builds its indexer class by name, so it cannot be given ours; this one
    writes the same rows (title, body, autocomplete; PostgreSQL's raw ``title_text`` and ``body_text``
    mirrors for fuzzy search), resets ``title_norm`` for the norms to be refreshed, as Wagtail does.
    """

    indexer_class = None

    def entry_values(self, indexer) -> dict:
        return {"title": indexer.title, "autocomplete": indexer.autocomplete, "body": indexer.body}

    def add_items(self, model, objs):
        if not model.get_search_fields():
            return
        content_type_pk = get_content_type_pk(model)
        values = {}
        for obj in objs:
            indexer = self.indexer_class(obj, self.backend)
            values[indexer.id] = self.entry_values(indexer)
        if not values:
            return
        columns = list(next(iter(values.values())))
        entry_model = self.entries.model
        self.entries.using(self.write_connection.alias).bulk_create(
            [
                entry_model(content_type_id=content_type_pk, object_id=object_id, title_norm=1.0, **row)
                for object_id, row in values.items()
            ],
            update_conflicts=True,
            unique_fields=["content_type", "object_id"],
            update_fields=["title_norm", *columns],
        )
        self._refresh_title_norms()


def _analyzed_leaves(prepare_field):
    """Wrap an indexer's ``prepare_field`` so that the value of every SearchField and AutocompleteField
    (reached directly or through RelatedFields) is the analyzer's terms of it."""

    def wrapped(self, obj, field):
        if isinstance(field, (SearchField, AutocompleteField)):
            for *head, value in prepare_field(self, obj, field):
                yield (*head, analyzer.search_text(value))
        else:
            yield from prepare_field(self, obj, field)  # RelatedFields: comes back here for each leaf

    return wrapped


# --- SQLite (FTS5) ----------------------------------------------------------------------------------------


@cache
def _sqlite_backend():
    from modelsearch.backends.database.sqlite import sqlite as base
    from modelsearch.backends.database.sqlite.query import Lexeme, SearchQueryExpression

    class Indexer(base.ObjectIndexer):
        prepare_field = _analyzed_leaves(base.ObjectIndexer.prepare_field)

    class Index(AnalyzedIndexMixin, base.SQLiteIndex):
        indexer_class = Indexer

    class QueryCompiler(AnalyzedQueryMixin, base.SQLiteSearchQueryCompiler):
        FTS_TABLE_FIELDS = COLUMNS

        def build_search_query_content(self, query, config=None):
            if isinstance(query, Terms):
                lexemes = [Lexeme(t) for t in query.required] + [Lexeme(p, prefix=True) for p in query.prefixes]
                return SearchQueryExpression(reduce(operator.and_, lexemes), config=config)
            return super().build_search_query_content(query, config=config)

    class Backend(base.SQLiteSearchBackend):
        """SQLite FTS5 with the analyzer's terms (see the module)."""

        query_compiler_class = QueryCompiler
        autocomplete_query_compiler_class = QueryCompiler
        index_class = Index

    return Backend


# --- PostgreSQL -------------------------------------------------------------------------------------------


@cache
def _postgres_backend():
    from django.contrib.postgres.search import SearchQuery
    from django.db.models import F
    from modelsearch.backends.database.postgres import postgres as base
    from modelsearch.backends.database.postgres.query import Lexeme

    class Indexer(base.ObjectIndexer):
        # The tsvector columns hold the analyzer's terms; title_text and body_text stay the texts as written
        # (Wagtail's fuzzy search compares trigrams of them).
        def as_vector(self, texts, for_autocomplete=False):
            return super().as_vector([(analyzer.search_text(t), w) for t, w in texts], for_autocomplete)

    class Index(AnalyzedIndexMixin, base.PostgresIndex):
        indexer_class = Indexer

        def entry_values(self, indexer) -> dict:
            return {**super().entry_values(indexer), "title_text": indexer.title_text, "body_text": indexer.body_text}

    class QueryCompiler(AnalyzedQueryMixin, base.PostgresSearchQueryCompiler):
        def build_tsquery_content(self, query, config=None, invert=False):
            if isinstance(query, Terms):
                lexemes = [Lexeme(t, invert=invert) for t in query.required]
                lexemes += [Lexeme(p, invert=invert, prefix=True) for p in query.prefixes]
                # Not(all of them) is any of them missing.
                combined = reduce(operator.or_ if invert else operator.and_, lexemes)
                return SearchQuery(combined, search_type="raw", config=config)
            return super().build_tsquery_content(query, config=config, invert=invert)

        def get_index_vectors(self, search_query):
            return [
                (F("index_entries__title"), F("index_entries__title_norm")),
                (F("index_entries__body"), 1.0),
                (F("index_entries__autocomplete"), 1.0),
            ]

    class Backend(base.PostgresSearchBackend):
        """PostgreSQL full-text search with the analyzer's terms (see the module)."""

        query_compiler_class = QueryCompiler
        autocomplete_query_compiler_class = QueryCompiler
        index_class = Index

        def __init__(self, params):
            super().__init__(params)
            # The analyzer has normalised every term already: the engine must only split on spaces, never
            # stem or drop a word, and index and query must go through the same configuration.
            self.config = self.autocomplete_config = params.get("SEARCH_CONFIG") or "simple"

    return Backend


@cache
def _sqlite_fts() -> bool:
    from modelsearch.backends.database.sqlite.utils import fts5_available, fts_table_exists

    return fts5_available() and fts_table_exists()


def SearchBackend(params):
    """The backend for the default database, chosen as ``wagtail.search.backends.database`` chooses (Wagtail
    looks a backend module's ``SearchBackend`` up and calls it with the settings' parameters)."""
    if connection.vendor == "postgresql":
        return _postgres_backend()(params)
    if connection.vendor == "sqlite" and _sqlite_fts():
        return _sqlite_backend()(params)
    return WagtailDatabaseBackend(params)
