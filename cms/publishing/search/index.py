"""The public site's search index: static files in the release, read by the search page's script.

The index holds the pages' search records (records.py), analyzed with the project's one analyzer
(cms/core/analyzer.py): overlapping pairs of Chinese characters, Latin words, and triples as phrase keys.
The browser runs the same analyzer on the query (static/js/analyzer.js) and fetches only the few small
files that hold the query's keys.

Layout (``release/searchindex/``):

- ``index.json`` the entry: the segments, each with its id, its number of documents and of buckets, and
  its deleted documents; a few hundred bytes whatever the size of the site;
- ``c-<segment id>-<k>.bin`` bucket k of a segment: the keys whose CRC-32 (of their UTF-8) modulo the
  number of buckets is k, each with its postings (see encode_key); about BUCKET_BYTES each, so that a query
  of five characters fetches a handful of small files, not whole ranges of a sorted term list;
- ``d-<segment id>-<t>.json`` table t of a segment: TABLE_SIZE documents, each [url, title, kind, section].

A segment's id is the digest of its files' contents: every name is immutable, cached for a year.

Keys: a term (a pair, a Latin word, a number) as the analyzer makes it; a phrase key (PHRASE_MARK and a
triple); and, for what a query may hold as a prefix (a lone Chinese character, the Latin word still being
typed), PREFIX_MARK and the prefix, whose postings are the union of the postings of every term it prefixes
(analyzer.prefix_matches): a lookup, like any other key. A lone Chinese character is a query's prefix,
never a required term, so the index keeps no exact single-character terms.

Two segments, like the segments of Lucene: the **base** holds the site as it was at the last full index;
the **delta** holds the pages published or changed since, and the base's copies of them are listed as
deleted. A publish rebuilds only the delta, and reads and writes nothing whose size grows with the site
(given the files the build touched); when the delta grows past DELTA_LIMIT the worker folds it into a new
base in a release of its own, after the publish is live.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cms.core import analyzer

from .records import SearchIndexError, load_record

INDEX_DIR = "searchindex"
ENTRY = "index.json"
FORMAT = 2
TABLE_SIZE = 32  # documents per table file: a page of results needs a few small tables
BUCKET_BYTES = 8_000  # target size of a bucket before compression
DELTA_LIMIT = 300  # documents in the delta (and deleted from the base) before the worker folds it into a base
LEVEL_TF = 1  # posting level bits: the term occurs three times or more …
LEVEL_TITLE = 2  # … the term is in the title
KIND_ORDER = {"手册": 0, "模式": 1, "培训": 2, "故事": 3}
PREFIX_MARK = "\x02"  # prefix keys live apart from terms (a Latin word is a term and a prefix)


# ---------------------------------------------------------------------------------------------- format


def varint(value: int, out: bytearray):
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


_HIGH = bytes(range(0x80, 0x100))


def encode_key(key: str, postings: bytes) -> bytes:
    """One key: its UTF-8 (length first), the number of postings, then the postings, each a varint of
    (doc id − previous doc id) << 2 | level, where level's bits are LEVEL_TF and LEVEL_TITLE."""
    out = bytearray()
    raw = key.encode()
    varint(len(raw), out)
    out += raw
    varint(len(postings.translate(None, _HIGH)), out)  # a varint's last byte is the one below 0x80
    out += postings
    return bytes(out)


def bucket_of(key: str, buckets: int) -> int:
    """The bucket of a key (static/js/search.js computes the same: CRC-32 of the UTF-8, modulo)."""
    return zlib.crc32(key.encode()) % buckets


def segment_files(seg: dict) -> list[str]:
    """The files of a segment (seg: its part of the state or of the entry, with id, b and t)."""
    if not seg.get("n"):
        return []
    return [f"c-{seg['id']}-{k}.bin" for k in range(seg["b"])] + [f"d-{seg['id']}-{t}.json" for t in range(seg["t"])]


class _Postings:
    """Postings of every key, encoded as documents are added in order (a bytearray per key: a tuple per
    posting held the full index of 20,000 stories in 2.1 GB)."""

    def __init__(self):
        self.data: dict[str, bytearray] = {}
        self.last: dict[str, int] = {}

    def add(self, key: str, doc: int, level: int):
        data = self.data.get(key)
        if data is None:
            data = self.data[key] = bytearray()
            previous = 0
        else:
            previous = self.last[key]
        varint(((doc - previous) << 2) | level, data)
        self.last[key] = doc

    def add_document(self, doc: int, record: dict):
        title_terms, title_keys = analyzer.analyze(record["title"])
        counts, phrases = analyzer.analyze(record["title"] + "\n" + record["text"])
        prefixes: dict[str, int] = {}
        for term, count in counts.items():
            level = (LEVEL_TF if count >= 3 else 0) | (LEVEL_TITLE if term in title_terms else 0)
            if analyzer.is_han(term):
                # What a lone character finds: the character, or a pair that begins with it.
                prefix = PREFIX_MARK + term[0]
                prefixes[prefix] = max(prefixes.get(prefix, 0), level)
                if len(term) == 1:
                    continue  # never looked up as a term
            else:
                for end in range(1, len(term) + 1):
                    prefix = PREFIX_MARK + term[:end]
                    prefixes[prefix] = max(prefixes.get(prefix, 0), level)
            self.add(term, doc, level)
        for phrase in phrases:
            self.add(phrase, doc, LEVEL_TITLE if phrase in title_keys else 0)
        for prefix, level in prefixes.items():
            self.add(prefix, doc, level)


def build_segment(rels: list[str], records: dict[str, dict], write) -> dict:
    """Index records (rels in document order; records by rel) into bucket and table files, written by
    write(name, data). Returns the segment: {id, n, b, t}."""
    postings = _Postings()
    for doc, rel in enumerate(rels):
        postings.add_document(doc, records[rel])
    encoded = {key: encode_key(key, data) for key, data in postings.data.items()}
    del postings
    size = sum(len(e) for e in encoded.values())
    buckets = max(1, -(-size // BUCKET_BYTES)) if rels else 0
    grouped: list[list[str]] = [[] for _ in range(buckets)]
    for key in encoded:
        grouped[bucket_of(key, buckets)].append(key)
    bodies = []
    for keys in grouped:
        body = bytearray()
        varint(len(keys), body)
        for key in sorted(keys):
            body += encoded[key]
        bodies.append(bytes(body))
    del encoded
    tables = [
        json.dumps(
            [[records[r]["url"], records[r]["title"], records[r]["kind"], records[r]["section"]] for r in chunk],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        for chunk in (rels[i : i + TABLE_SIZE] for i in range(0, len(rels), TABLE_SIZE))
    ]
    digest = hashlib.sha256(f"{FORMAT}:{len(rels)}:{buckets}:{len(tables)}".encode())
    for data in (*bodies, *tables):
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    seg = {"id": digest.hexdigest()[:16], "n": len(rels), "b": buckets, "t": len(tables)}
    names = segment_files(seg)
    for name, data in zip(names, (*bodies, *tables), strict=True):
        write(name, data)
    return seg


def doc_order(record: dict) -> tuple:
    return (KIND_ORDER.get(record["kind"], 9), record["url"])


# ---------------------------------------------------------------------------------------------- update


@dataclass
class UpdateResult:
    state: dict
    compacted: bool
    indexed: int  # documents indexed by this update
    needs_compaction: bool


def _valid(previous: dict | None) -> bool:
    return bool(previous) and previous.get("format") == FORMAT and "base" in previous and "delta" in previous


def update_index(
    out: Path,
    docs: dict[str, str],
    previous: dict | None,
    put,
    *,
    compact: bool,
    touched: Iterable[str] | None = None,
) -> UpdateResult:
    """Bring out/searchindex/ up to date with docs ({release file: record digest}).

    previous is the search state kept in the previous release's manifest. With compact (or without a
    usable previous state) every document goes into a new base; otherwise the base stays and only the delta
    is rebuilt. touched names the release files that may have changed since the previous state (written or
    removed by this build); the others are taken to be as they were, so a publish's work does not grow with
    the site. Without it every file is compared. put(path, data) writes a file and its compressed twins as
    new inodes (a release shares unchanged files with the live one by hard link); index.json is written
    last; files no segment uses are removed.
    """
    folder = out / INDEX_DIR
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, data: bytes):
        if not (folder / name).exists():  # named by content: an existing file holds these bytes
            put(folder / name, data)

    def records(pairs: Iterable[tuple[str, str]]) -> dict[str, dict]:
        return {rel: load_record(key, out, rel) for rel, key in pairs}

    if compact or not _valid(previous):
        loaded = records(docs.items())
        rels = sorted(loaded, key=lambda r: doc_order(loaded[r]))
        base = build_segment(rels, loaded, write)
        base["docs"] = {rel: [i, docs[rel]] for i, rel in enumerate(rels)}
        delta_docs: dict[str, str] = {}
        dead: set[int] = set()
        delta = build_segment([], {}, write)
        indexed, compacted = len(rels), True
    else:
        base = previous["base"]  # unchanged, not copied: its document map is the size of the site
        base_docs = base["docs"]
        delta_docs = dict(previous["delta"]["docs"])
        dead = set(previous["dead"])
        rels_to_check = set(touched) if touched is not None else set(docs) | set(base_docs) | set(delta_docs)
        for rel in rels_to_check:
            new, old = docs.get(rel), base_docs.get(rel)
            if old is not None and old[1] == new:  # as the base has it (again)
                delta_docs.pop(rel, None)
                dead.discard(old[0])
                continue
            if old is not None:
                dead.add(old[0])
            if new is None:
                delta_docs.pop(rel, None)
            else:
                delta_docs[rel] = new
        loaded = records(delta_docs.items())
        rels = sorted(loaded, key=lambda r: doc_order(loaded[r]))
        delta = build_segment(rels, loaded, write)
        indexed, compacted = len(rels), False
    delta["docs"] = {rel: delta_docs[rel] for rel in rels} if not compacted else {}
    entry = {
        "v": FORMAT,
        "table": TABLE_SIZE,
        "segments": [
            {"id": base["id"], "n": base["n"], "b": base["b"], "dead": sorted(dead)},
            {"id": delta["id"], "n": delta["n"], "b": delta["b"], "dead": []},
        ],
    }
    # A publish checks and sweeps only the delta's files: the base's are the live release's (hard links),
    # written and checked when the base is made, and swept then.
    keep = set(segment_files(delta)) | (set(segment_files(base)) if compacted else set())
    for name in keep:
        if not (folder / name).exists():
            raise SearchIndexError(f"搜索索引缺少文件 {name}")
    put(folder / ENTRY, json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode())
    if compacted:
        keep |= {ENTRY}
        leftovers = [p.name for p in folder.iterdir()]
    elif previous["delta"]["id"] not in (delta["id"], base["id"]):
        leftovers = [name + twin for name in segment_files(previous["delta"]) for twin in ("", ".gz", ".br")]
    else:
        leftovers = []  # the same delta as before (or none): nothing to sweep
    for full_name in leftovers:
        if full_name.removesuffix(".gz").removesuffix(".br") not in keep:
            (folder / full_name).unlink(missing_ok=True)
    state = {"format": FORMAT, "base": base, "delta": delta, "dead": sorted(dead)}
    needs = len(delta_docs) + len(dead) > DELTA_LIMIT
    return UpdateResult(state, compacted, indexed, needs)


# ---------------------------------------------------------------------------------------------- reading


def decode_bucket(data: bytes) -> dict[str, list[tuple[int, int]]]:
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

    keys = {}
    for _ in range(read()):
        length = read()
        key = data[pos : pos + length].decode()
        pos += length
        doc, postings = 0, []
        for _ in range(read()):
            value = read()
            doc += value >> 2
            postings.append((doc, value & 3))
        keys[key] = postings
    return keys


class IndexReader:
    """Reads a release's search index as the browser does (static/js/search.js), for tests and benchmarks:
    which pages a query finds (all of them, unranked)."""

    def __init__(self, release: Path):
        self.folder = release / INDEX_DIR
        self.entry = json.loads((self.folder / ENTRY).read_text())
        self._buckets: dict[str, dict] = {}
        self._tables: dict[str, list] = {}

    def files(self) -> set[str]:
        """Every file the entry names."""
        out = {ENTRY}
        for seg in self.entry["segments"]:
            tables = -(-seg["n"] // self.entry["table"])
            out.update(segment_files({**seg, "t": tables}))
        return out

    def postings(self, segment: dict, key: str) -> list[tuple[int, int]]:
        name = f"c-{segment['id']}-{bucket_of(key, segment['b'])}.bin"
        if name not in self._buckets:
            self._buckets[name] = decode_bucket((self.folder / name).read_bytes())
        return self._buckets[name].get(key, [])

    def docs(self, segment: dict, key: str, prefix: bool = False) -> set[int]:
        return {doc for doc, _level in self.postings(segment, PREFIX_MARK + key if prefix else key)}

    def row(self, segment: dict, doc: int) -> list:
        name = f"d-{segment['id']}-{doc // self.entry['table']}.json"
        if name not in self._tables:
            self._tables[name] = json.loads((self.folder / name).read_text())
        return self._tables[name][doc % self.entry["table"]]

    def url(self, segment: dict, doc: int) -> str:
        return self.row(segment, doc)[0]

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
