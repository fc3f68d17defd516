"""Import content/: validate every file first, then write everything in one transaction, or nothing.

The stable key of a page is its path inside content/. A file whose digest has not changed since the
last import makes no new revision.

The parts, by concern (an `Importer` is all of them over one shared state, `state.ImportState`):

- `scan`: the tree of content/ → its Markdown and data files
- `data`: site.yaml, streets.yaml, people.yaml, sources.yaml → snippet items
- `validate`: each page file → a page item (fields by its schema, body, links, files)
- `files`: the images and documents pages use: found, checked and written the same way (`resolve_file`, `write_files`)
- `references`: what files name across each other exists (streets, people, sources, quotes, pages)
- `pages`: a page's fields, written where its schema says the page keeps them
- `write`: the transaction: snippets, files, pages as revisions, their order
- `run`: `run_import`
"""

from .items import Report
from .run import Importer, run_import

__all__ = ["Importer", "Report", "run_import"]
