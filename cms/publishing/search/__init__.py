"""The public site's search: each page's search record (records.py) and the static index made of them
inside the release (index.py). See docs/publishing.md, "Search"."""

from .index import DELTA_LIMIT, INDEX_DIR, IndexReader, UpdateResult, update_index
from .records import SearchIndexError, extract_record, load_record, prune_records, record_digest, store_record

__all__ = [
    "DELTA_LIMIT",
    "INDEX_DIR",
    "IndexReader",
    "SearchIndexError",
    "UpdateResult",
    "extract_record",
    "load_record",
    "prune_records",
    "record_digest",
    "store_record",
    "update_index",
]
