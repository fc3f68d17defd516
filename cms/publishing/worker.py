"""What a process that builds keeps between builds, in one object, and how its forked helpers end.

The task worker (`manage.py db_worker`) stays warm on purpose: the manifest it last wrote, the API index
entries, the digests of the template and code trees, the parts of the large files it scanned for
personal data and how long each file took to render all live on into the next build. The render
workers a build forks inherit this object as it is at the fork (their changes stay theirs, except the
render costs that the small build's helper sends back), and `renderer`/`build_args` describe the build
they render for.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WorkerState:
    # The last manifest this process wrote: a warm worker skips reading it.
    manifests: dict[str, dict] = field(default_factory=dict)
    # Manifests of live releases that a full disk kept from being written. The next build in this process
    # writes them first and, failing that, still builds incrementally from them: without a manifest a build
    # renders the whole site into fresh files, which needs a release's worth of free space, more than a
    # nearly full disk has.
    unsaved_manifests: dict[str, dict] = field(default_factory=dict)
    # The build's renderer (render.Renderer): one per process and build, made on first use from build_args
    # (site id, output folder, the build's state, the sitemap's and API index's entries).
    renderer: Any = None
    build_args: tuple = ()
    # (the release it went live in, routes.SignaturePass) of this process's last build: the next build, a
    # publish, brings it up to date for the pages it changed instead of reading the whole site.
    signatures: tuple | None = None
    # How long each file took to render in this process's last builds: a small build hands out the slowest first.
    last_cost: dict[str, float] = field(default_factory=dict)
    # Page id → (the signature pass's row of the page, the base URL, its entry in the API index as JSON).
    api_rows: dict[int, tuple] = field(default_factory=dict)
    # (a release, how many of its files use each asset): left by the build that made the release.
    asset_counts: tuple[str, Any] | None = None
    # A sitemap URL → ((the base URL, its page's last publication), its <url> row).
    sitemap_rows: dict[str, tuple] = field(default_factory=dict)
    # A light page row (and the base URL) → its entry in the API index, as JSON.
    api_items: dict[tuple, str] = field(default_factory=dict)
    # (path, size, mtime) of every file of a tree → the tree's digest (routes.tree_digest).
    tree_digests: dict[tuple, str] = field(default_factory=dict)
    # Per composite file (the API index, the sitemap), what each of its parts held when last scanned
    # for personal data and development hosts, with the allowed contacts of that scan (verify.scan_parts).
    scanned_parts: dict[str, tuple[tuple[str, ...], dict[str, tuple[list, list[str]]]]] = field(default_factory=dict)
    # What every file of one build reads the same (the operator's contacts, the recorded quotes): filled on
    # first use while a build renders (render_pool.render_routes), None outside a build.
    build_memo: dict[str, Any] | None = None

    def once(self, key: str, compute):
        """compute() once per build (every call outside a build)."""
        if self.build_memo is None:
            return compute()
        if key not in self.build_memo:
            self.build_memo[key] = compute()
        return self.build_memo[key]


worker = WorkerState()


def die_with_parent(parent: int):
    """A forked helper must not outlive a killed build: it would keep the build lock's file open (and so
    the lock held) and write into a folder the next build removes. Linux: PR_SET_PDEATHSIG."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
