"""One Chinese analyzer for every search in the project: the static site's index and the admin's.

Text becomes index terms, and a query becomes the terms a page must hold, by the same rules (the method of
Lucene's CJKAnalyzer, Elasticsearch's cjk_bigram and PostgreSQL's pg_bigm, with no dictionary):

- NFKC (full-width letters and digits become ASCII), then lower case;
- quotation marks, brackets and name dots are dropped, joining what they separate: “同心”驿站 is 同心驿站;
- any other character that is not a letter or a digit separates words;
- a run of Chinese characters becomes its overlapping pairs (外卖骑手 → 外卖 卖骑 骑手); a run of one
  character is kept as that character, and the last character of a longer run is kept too, so that a
  one-character query finds every page holding the character (as a term, or as the start of a pair);
- Latin words and numbers are words.

A query matches a page when every one of its terms is in the page, so a typed word finds every page that
contains it, however a browser or a dictionary would cut it. Runs of three characters or more also give
their triples (``phrase_keys``): a page holding all the triples of a query's run holds the run in one
piece (exactly, for three characters), which ranks it above pages where the pairs are scattered.

`site_templates/static/js/analyzer.js` is the same code for the browser; tests/test_analyzer.py runs both
on generated text and requires the same terms.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

# CJK ideographs: 〇, Extension A, the unified block, compatibility ideographs (NFKC maps most to the unified
# block), and the supplementary planes' extensions.
HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
# Marks that wrap or join words rather than separate them: dropped, so the words on both sides meet.
JOINERS = "\"'`‘’‚‛“”„‟‹›«»「」『』《》〈〉【】〔〕〖〗〘〙〚〛()[]{}·・•‧"
_DROP = {ord(c): None for c in JOINERS}
# A Han run, or a run of letters and digits that are not Han ([^\W_] is a letter or a digit).
_RUN = re.compile(rf"([{HAN}]+)|([^\W_{HAN}]+)")
_HAN_CHAR = re.compile(rf"[{HAN}]")
_DIGITS = re.compile(r"\d+")  # Unicode decimal digits (\p{Nd}), as in the browser
PHRASE_MARK = "\x01"  # phrase keys (triples) live apart from terms in a sorted term list


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().translate(_DROP)


def runs(text: str) -> list[tuple[str, bool]]:
    """(run, is_han) for each word-like run of the normalized text, in order."""
    return [(m.group(1) or m.group(2), m.group(1) is not None) for m in _RUN.finditer(normalize(text))]


def is_han(term: str) -> bool:
    return bool(term) and _HAN_CHAR.match(term) is not None


def pairs(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def triples(run: str) -> list[str]:
    return [run[i : i + 3] for i in range(len(run) - 2)]


def terms(text: str) -> Counter:
    """The index terms of a text, with how often each occurs."""
    return analyze(text)[0]


def phrase_keys(text: str) -> set[str]:
    """The triples of every Han run of three or more characters (marked apart from terms)."""
    return analyze(text)[1]


def analyze(text: str) -> tuple[Counter, set[str]]:
    """A text's terms (with counts) and phrase keys, in one pass."""
    counts: Counter = Counter()
    keys: set[str] = set()
    for run, han in runs(text):
        if not han or len(run) == 1:
            counts[run] += 1
            continue
        counts.update([run[i : i + 2] for i in range(len(run) - 1)])
        counts[run[-1]] += 1
        if len(run) >= 3:
            keys.update([PHRASE_MARK + run[i : i + 3] for i in range(len(run) - 2)])
    return counts, keys


@dataclass
class Query:
    """What a page must hold to match a query, and what ranks it higher.

    ``required``: terms the page must hold, each exactly. ``prefixes``: each must be a term of the page or
    the start of one: a lone Chinese character (the character, or a pair beginning with it) and the last
    Latin word of the query, still being typed. ``phrases``: for each run of three characters or more, the
    phrase keys that together show the run in one piece. ``words``: the query's words as typed
    (normalized), to highlight.
    """

    required: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.required or self.prefixes)

    def as_dict(self) -> dict:
        return {"required": self.required, "prefixes": self.prefixes, "phrases": self.phrases, "words": self.words}


def parse_query(query: str) -> Query:
    found = runs(query)
    out = Query()
    last_latin = max((i for i, (run, han) in enumerate(found) if not han and not _DIGITS.fullmatch(run)), default=-1)
    for i, (run, han) in enumerate(found):
        out.words.append(run)
        if han and len(run) == 1:
            target = out.prefixes
        elif han:
            target = out.required
            if len(run) >= 3:
                out.phrases.append([PHRASE_MARK + t for t in triples(run)])
            for term in pairs(run):
                if term not in target:
                    target.append(term)
            continue
        elif i == last_latin and i == len(found) - 1:
            target = out.prefixes
        else:
            target = out.required
        if run not in target:
            target.append(run)
    return out


def prefix_matches(prefix: str, term: str) -> bool:
    """Whether an index term satisfies a query's prefix (see Query)."""
    if is_han(prefix):
        return term == prefix or (len(term) == 2 and term[0] == prefix)
    return term.startswith(prefix) and not is_han(term)


def matches(query: Query, text: str) -> bool:
    """Whether a text matches a query, by the rules of the index (for tests and small in-memory lists)."""
    held = terms(text)
    return all(t in held for t in query.required) and all(
        any(prefix_matches(p, t) for t in held) for p in query.prefixes
    )


def search_text(*parts: str) -> str:
    """The index terms of texts as one space-separated string, for a full-text engine that splits on spaces
    (the admin's database search): each term is a word to it, and a query is rewritten the same way."""
    counts: Counter = Counter()
    for part in parts:
        if part:
            counts.update(terms(part))
    return " ".join(counts)
