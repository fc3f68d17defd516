"""The site's search index: Pagefind's extended build (it segments Chinese) over the release's HTML.

The index is a folder of static files (release/pagefind/) that the search page's script reads, so
search works on any static host and offline. Only elements marked data-pagefind-body are indexed.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

INDEX_DIR = "pagefind"


def _die_with_build():
    """Pagefind is killed when the build that started it is (Linux: PR_SET_PDEATHSIG)."""
    import ctypes
    import signal

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class SearchIndexError(Exception):
    pass


def build_search_index(out: Path):
    """Index every page of the release (Pagefind has no incremental mode; 2,000 pages take a few seconds)."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pagefind",
            "--site",
            str(out),
            "--output-subdir",
            INDEX_DIR,
            "--force-language",
            "zh",
            "--silent",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_die_with_build,  # noqa: PLW1509 - a killed build must not leave Pagefind writing on
    )
    if result.returncode != 0 or not (out / INDEX_DIR / "pagefind.js").exists():
        raise SearchIndexError(f"搜索索引生成失败：{(result.stderr or result.stdout).strip()[:500]}")
    # The UI bundles Pagefind ships are not used: our search page has its own small script.
    for name in (
        "pagefind-ui.js",
        "pagefind-ui.css",
        "pagefind-modular-ui.js",
        "pagefind-modular-ui.css",
        "pagefind-component-ui.js",
        "pagefind-component-ui.css",
        "pagefind-highlight.js",
    ):
        (out / INDEX_DIR / name).unlink(missing_ok=True)
