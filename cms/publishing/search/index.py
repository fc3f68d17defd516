"""The public site's search index: static files in the release, read by the search page's script.

The index holds the pages' search records (records.py), analyzed with the project's one analyzer
(cms/core/analyzer.py): overlapping pairs of Chinese characters, Latin words, and triples as phrase keys.
The browser runs the same analyzer on the query (static/js/analyzer.js) and fetches only the parts of the
index that hold the query's terms.

Layout (``release/searchindex/``; every file but index.json is named by its content's digest):

- ``index.json`` the entry: segments, each with its chunk list (the first term of each chunk, sorted by
  UTF-16 code units, the browser's order), its document tables and its deleted documents;
- ``c-<digest>.bin`` a chunk of terms, each with its postings (see encode_term);
- ``d-<digest>.json`` a table of up to TABLE_SIZE documents: [url, title, kind, section].

Two segments, like the segments of Lucene: the **base** holds the site as it was at the last full index;
the **delta** holds the pages published or changed since, and the base's copies of them are listed as
deleted. A publish rebuilds only the delta (its size is bounded, not the site's); when the delta grows past
DELTA_LIMIT the worker folds it into a new base in a release of its own, after the publish is live.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from cms.core import analyzer

from .records import SearchIndexError, load_record

INDEX_DIR = "searchindex"
ENTRY = "index.json"
FORMAT = 1
TABLE_SIZE = 64  # documents per table file: a page of results needs a few small tables
CHUNK_BYTES = 24_000  # target size of a chunk before compression
DELTA_LIMIT = 300  # documents in the delta before the worker folds it into a new base
LEVEL_TF = 1  # posting level bits: the term occurs three times or more …
LEVEL_TITLE = 2  # … the term is in the title
KIND_ORDER = {"手册": 0, "模式": 1, "培训": 2, "故事": 3}


# ---------------------------------------------------------------------------------------------- format


def varint(value: int, out: bytearray):
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def encode_term(key: str, postings: list[tuple[int, int]]) -> bytes:
    """One term: its key (UTF-8, length first), the number of postings, then each posting as
    (doc id − previous doc id) << 2 | level, where level's bits are LEVEL_TF and LEVEL_TITLE."""
    out = bytearray()
    raw = key.encode()
    varint(len(raw), out)
    out += raw
    varint(len(postings), out)
    previous = 0
    for doc, level in postings:
        varint(((doc - previous) << 2) | level, out)
        previous = doc
    return bytes(out)


def utf16_key(term: str) -> bytes:
    """Sort terms as the browser compares strings (UTF-16 code units), not by code point."""
    return term.encode("utf-16-be")


def digest_name(prefix: str, data: bytes, suffix: str) -> str:
    return f"{prefix}-{hashlib.sha256(data).hexdigest()[:16]}{suffix}"


@dataclass
class Segment:
    docs: list[str]  # record digests, by document id
    dead: set[int] = field(default_factory=set)
    files: list[str] = field(default_factory=list)  # the segment's chunk and table files
    entry: dict = field(default_factory=dict)  # its part of index.json

    def state(self) -> dict:
        return {"docs": self.docs, "dead": sorted(self.dead), "files": self.files, "entry": self.entry}

    @classmethod
    def from_state(cls, state: dict) -> Segment:
        return cls(list(state["docs"]), set(state["dead"]), list(state["files"]), dict(state["entry"]))


def build_segment(keys: list[str], records: dict[str, dict], write) -> Segment:
    """Index records (in the order of keys) into chunk and table files, written by write(name, data)."""
    postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for doc, key in enumerate(keys):
        record = records[key]
        title_terms, title_keys = analyzer.analyze(record["title"])
        counts, phrases = analyzer.analyze(record["title"] + "\n" + record["text"])
        for term, count in counts.items():
            level = (LEVEL_TF if count >= 3 else 0) | (LEVEL_TITLE if term in title_terms else 0)
            postings[term].append((doc, level))
        for phrase in phrases:
            postings[phrase].append((doc, LEVEL_TITLE if phrase in title_keys else 0))
    files, chunks = [], []
    current: list[bytes] = []
    first = ""
    size = 0

    def flush():
        nonlocal current, size
        if not current:
            return
        body = bytearray()
        varint(len(current), body)
        body += b"".join(current)
        name = digest_name("c", bytes(body), ".bin")
        write(name, bytes(body))
        files.append(name)
        chunks.append([first, name])
        current, size = [], 0

    for term in sorted(postings, key=utf16_key):
        encoded = encode_term(term, postings[term])
        if current and size + len(encoded) > CHUNK_BYTES:
            flush()
        if not current:
            first = term
        current.append(encoded)
        size += len(encoded)
    flush()
    tables = []
    for start in range(0, len(keys), TABLE_SIZE):
        rows = [
            [records[k]["url"], records[k]["title"], records[k]["kind"], records[k]["section"]]
            for k in keys[start : start + TABLE_SIZE]
        ]
        data = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
        name = digest_name("d", data, ".json")
        write(name, data)
        files.append(name)
        tables.append(name)
    return Segment(list(keys), set(), files, {"n": len(keys), "chunks": chunks, "tables": tables})


def doc_order(record: dict) -> tuple:
    return (KIND_ORDER.get(record["kind"], 9), record["url"])


# ---------------------------------------------------------------------------------------------- update


@dataclass
class UpdateResult:
    state: dict
    compacted: bool
    indexed: int  # documents indexed by this update
    needs_compaction: bool


def update_index(out: Path, docs: dict[str, str], previous: dict | None, put, *, compact: bool) -> UpdateResult:
    """Bring out/searchindex/ up to date with docs ({release file: record digest}).

    previous is the search state kept in the previous release's manifest. With compact (or without a
    previous state) every document goes into a new base; otherwise the base stays and only the delta is
    rebuilt. put(path, data) writes a file and its compressed twins as new inodes (a release shares unchanged
    files with the live one by hard link); index.json is written last; files no segment uses are removed.
    """
    folder = out / INDEX_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()

    def write(name: str, data: bytes):
        if name not in written and not (folder / name).exists():
            put(folder / name, data)
        written.add(name)

    files_of = {key: rel for rel, key in docs.items()}
    wanted = set(docs.values())
    cache: dict[str, dict] = {}

    def records(keys) -> dict[str, dict]:
        for key in keys:
            if key not in cache:
                cache[key] = load_record(key, out, files_of.get(key))
        return cache

    base = Segment.from_state(previous["base"]) if previous and not compact and "base" in previous else None
    if base is not None and previous.get("format") != FORMAT:
        base = None
    if base is None:
        keys = sorted(wanted, key=lambda k: doc_order(records([k])[k]))
        base = build_segment(keys, records(keys), write)
        delta = build_segment([], {}, write)
        indexed, compacted = len(keys), True
    else:
        held = set(base.docs)
        base.dead = {i for i, key in enumerate(base.docs) if key not in wanted}
        fresh = sorted(wanted - held, key=lambda k: doc_order(records([k])[k]))
        delta = build_segment(fresh, records(fresh), write)
        indexed, compacted = len(fresh), False
    entry = {
        "v": FORMAT,
        "segments": [
            {**base.entry, "dead": sorted(base.dead)},
            {**delta.entry, "dead": []},
        ],
        "table": TABLE_SIZE,
    }
    keep = {ENTRY, *base.files, *delta.files}
    data = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    # A publish touches only the delta's files: the base's are the live release's (hard links), checked and
    # swept when a base is written. Work over every file here would grow with the site on every publish.
    previous_delta = previous.get("delta_files") if previous and not compacted else None
    for name in (keep - {ENTRY}) if previous_delta is None else delta.files:
        if not (folder / name).exists():
            raise SearchIndexError(f"搜索索引缺少文件 {name}")
    put(folder / ENTRY, data)
    if previous_delta is None:
        leftovers = [p.name for p in folder.iterdir()]
    else:
        leftovers = [name + twin for name in previous_delta for twin in ("", ".gz", ".br")]
    for full_name in leftovers:
        name = full_name
        for suffix in (".gz", ".br"):
            name = name.removesuffix(suffix)
        if name not in keep:
            (folder / full_name).unlink(missing_ok=True)
    state = {"format": FORMAT, "base": base.state(), "delta_docs": len(delta.docs), "delta_files": delta.files}
    needs = len(delta.docs) + len(base.dead) > DELTA_LIMIT
    return UpdateResult(state, compacted, indexed, needs)


# ---------------------------------------------------------------------------------------------- reading


def decode_chunk(data: bytes) -> dict[str, list[tuple[int, int]]]:
    pos = 0

    def read() -> int:
        nonlocal pos
        value, shift = 0, 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    terms = {}
    for _ in range(read()):
        length = read()
        key = data[pos : pos + length].decode()
        pos += length
        doc, postings = 0, []
        for _ in range(read()):
            value = read()
            doc += value >> 2
            postings.append((doc, value & 3))
        terms[key] = postings
    return terms


class IndexReader:
    """Reads a release's search index as the browser does (static/js/search.js), for tests and benchmarks:
    which pages a query finds (all of them, unranked)."""

    def __init__(self, release: Path):
        self.folder = release / INDEX_DIR
        self.entry = json.loads((self.folder / ENTRY).read_text())
        self._chunks: dict[str, dict] = {}
        self._tables: dict[str, list] = {}

    def chunk(self, name: str) -> dict:
        if name not in self._chunks:
            self._chunks[name] = decode_chunk((self.folder / name).read_bytes())
        return self._chunks[name]

    def chunks_for(self, segment: dict, low: str, high: str) -> list[dict]:
        firsts = [utf16_key(first) for first, _name in segment["chunks"]]
        out = []
        for i, (_first, name) in enumerate(segment["chunks"]):
            nxt = firsts[i + 1] if i + 1 < len(firsts) else None
            if firsts[i] <= utf16_key(high) and (nxt is None or nxt > utf16_key(low)):
                out.append(self.chunk(name))
        return out

    def docs(self, segment: dict, key: str, prefix: bool = False) -> set[int]:
        found: set[int] = set()
        for chunk in self.chunks_for(segment, key, key + "\uffff" if prefix else key):
            for term, postings in chunk.items():
                if term == key if not prefix else analyzer.prefix_matches(key, term):
                    found.update(doc for doc, _level in postings)
        return found

    def url(self, segment: dict, doc: int) -> str:
        name = segment["tables"][doc // self.entry["table"]]
        if name not in self._tables:
            self._tables[name] = json.loads((self.folder / name).read_text())
        return self._tables[name][doc % self.entry["table"]][0]

    def find(self, query: str) -> set[str]:
        plan = analyzer.parse_query(query)
        if plan.empty:
            return set()
        urls: set[str] = set()
        for segment in self.entry["segments"]:
            if not segment["n"]:
                continue
            sets = [self.docs(segment, t) for t in plan.required]
            sets += [self.docs(segment, p, prefix=True) for p in plan.prefixes]
            for doc in set.intersection(*sets) - set(segment["dead"]):
                urls.add(self.url(segment, doc))
        return urls

    def urls(self) -> set[str]:
        """Every page the index holds."""
        return {
            self.url(segment, doc)
            for segment in self.entry["segments"]
            for doc in range(segment["n"])
            if doc not in set(segment["dead"])
        }
