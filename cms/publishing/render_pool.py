"""Spreading a build's routes over processes: in this process, with one forked helper (small builds), or
with a pool of forked workers (large builds). Each process renders with its own Renderer, made from the
build's arguments (worker.build_args) on first use."""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
import os
import time
import traceback
from pathlib import Path
from sys import intern

from django.db import connections
from wagtail.models import Site

from cms.core.publishing_protocol import BuildState

from .render import Rendered, Renderer, RenderError, write_file
from .routes import Route
from .worker import die_with_parent, worker

PARALLEL_THRESHOLD = 120  # from this many routes: a pool of forked workers, in chunks
CHUNKS_PER_WORKER = 6  # a large build's routes in this many chunks per worker, whatever the site's size: each
# chunk fetches its pages in one query plan per page type, so a build's queries do not grow with its pages
MAX_CHUNK = 2500  # routes: above 30,000 routes (10,000 stories) chunks stop growing and their number grows
# instead, so a worker's memory (one chunk's pages) stays flat; each worker is forked anew for each chunk
POOL_NICENESS = 5
SPLIT_THRESHOLD = 4  # from this many (small builds): one forked helper shares the routes with this process


def _renderer() -> Renderer:
    if worker.renderer is None:
        site_id, _root, state, extra = worker.build_args
        worker.renderer = Renderer(Site.objects.select_related("root_page").get(pk=site_id), state, extra)
    return worker.renderer


def _render_chunk(routes: list[Route], keep_pages: bool = True) -> list[Rendered]:
    renderer = _renderer()
    if not keep_pages:  # a pool's chunk: the pages of earlier chunks are not rendered again here
        renderer.pages.clear()
    renderer.load_pages({r.page_id for r in routes if r.page_id})
    if not keep_pages:
        renderer.prepare_routes(routes)
    out = []
    for route in routes:
        data = renderer.render(route)
        out.append(write_file(Path(worker.build_args[1]), route.file, data, renderer.parts))
    return out


def _claim_and_render(routes: list[Route], counter) -> list[Rendered]:
    """Render routes in order, each claimed from the counter shared with the other process."""
    out = []
    while True:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        if index >= len(routes):
            return out
        route = routes[index]
        started = time.perf_counter()
        out.extend(_render_chunk([route]))
        worker.last_cost[route.file] = time.perf_counter() - started


def _split_helper(parent: int, routes: list[Route], counter, conn, parent_end):
    """The forked helper of a small build: render what it claims, send back the results (or the error)."""
    die_with_parent(parent)
    parent_end.close()  # so a send fails (instead of blocking) if the parent is gone
    try:
        conn.send(("ok", _claim_and_render(routes, counter), dict(worker.last_cost)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the build
        conn.send(("error", f"{exc}", traceback.format_exc(limit=5)))
    finally:
        conn.close()


def _render_split(routes: list[Route], progress) -> list[Rendered]:
    """Render a small build on two cores: this process and one forked helper (which inherits the warm
    caches and what the signatures computed) claim routes one by one, the slowest last time first. The
    special files (API index, sitemap) stay in this process, where their caches live on between builds."""
    own = [r for r in routes if r.kind == "special"]
    shared = [r for r in routes if r.kind != "special"]
    shared.sort(key=lambda r: worker.last_cost.get(r.file, 0.02), reverse=True)
    # Every page of the build fetched once, before the fork: one query plan per page type, and the helper
    # inherits them (claimed one by one, each route would fetch its page with all its prefetches).
    _renderer().load_pages({r.page_id for r in routes if r.page_id})
    _renderer().prepare_routes(routes)
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)
    reader, writer = ctx.Pipe(duplex=False)
    connections.close_all()  # neither process may use the other's database connection
    helper = ctx.Process(target=_split_helper, args=(os.getpid(), shared, counter, writer, reader), daemon=True)
    helper.start()
    writer.close()
    try:
        mine = _render_chunk(own) + _claim_and_render(shared, counter)
        progress(len(mine), len(routes))
        try:
            status, payload, extra = reader.recv()
        except EOFError:
            raise RenderError("渲染子进程意外退出") from None
        if status != "ok":
            raise RenderError(payload)
        done_here = {r.file for r in mine}
        worker.last_cost.update((k, v) for k, v in extra.items() if k not in done_here)
    finally:
        reader.close()
        helper.join(5)
        if helper.is_alive():
            helper.kill()
            helper.join()
    progress(len(routes), len(routes))
    return mine + payload


def _reset_worker(parent: int):
    die_with_parent(parent)
    worker.renderer = None
    connections.close_all()
    # A full build's workers take the cores only when nobody else wants them (the CMS, its editors).
    os.nice(POOL_NICENESS)


def _chunk_process(parent: int, routes: list[Route], conn):
    """A forked worker of a large build: render one chunk, send back the results (or the error), exit."""
    _reset_worker(parent)
    try:
        conn.send(("ok", _render_chunk(routes, keep_pages=False)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the build
        conn.send(("error", f"{exc}", traceback.format_exc(limit=5)))
    finally:
        conn.close()


def _render_pool(routes: list[Route], workers: int, progress) -> list[Rendered]:
    """A large build: its routes in chunks, each rendered by a worker forked for it from this process, at
    most `workers` at a time. A worker that rendered a chunk keeps that chunk's pages and caches as its
    high-water mark; a fresh one per chunk starts from this process's heap again, which it shares, so the
    build's memory stays at that of a chunk per core (at 20,000 stories: 1.2 GB with long-lived workers)."""
    total = len(routes)
    chunks = split_evenly(routes, max(workers * CHUNKS_PER_WORKER, -(-total // MAX_CHUNK)))
    chunks.reverse()  # popped from the end: in order
    ctx = multiprocessing.get_context("fork")
    connections.close_all()  # no worker may use this process's database connection
    # The workers share this process's heap (the routes, the signatures' state, the imported code) page by
    # page until they write to it. The cyclic garbage collector writes to every object it visits: frozen,
    # those objects are never visited, and the workers keep sharing them instead of each copying them.
    gc.collect()
    gc.freeze()
    running: dict = {}  # the pipe a worker answers on: the worker
    out: list[Rendered] = []
    try:
        while chunks or running:
            while chunks and len(running) < workers:
                reader, writer = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_chunk_process, args=(os.getpid(), chunks.pop(), writer), daemon=True)
                process.start()
                writer.close()
                running[reader] = process
            for reader in multiprocessing.connection.wait(list(running)):
                process = running.pop(reader)
                try:
                    status, payload, *_ = reader.recv()
                except EOFError:
                    raise RenderError("渲染子进程意外退出") from None
                finally:
                    reader.close()
                    process.join()
                if status != "ok":
                    raise RenderError(payload)
                out += map(shared_strings, payload)
                progress(len(out), total)
    finally:
        gc.unfreeze()
        for reader, process in running.items():
            process.kill()
            process.join()
            reader.close()
    return out


def render_routes(
    site: Site,
    routes: list[Route],
    root: Path,
    all_routes: dict[str, Route],
    state: BuildState | None = None,
    progress=None,
    pages: dict | None = None,
    sitemap: list[set[str]] | None = None,
) -> list[Rendered]:
    """Render the routes into root. Large builds use one process per core (fork), small ones stay in process.
    `pages`: the signature pass's live pages ({id: routes.LivePage}), which the sitemap and the API index list
    (read from the database if not given); `sitemap`: the signature pass's sitemap URLs by bucket (else
    computed from `all_routes`)."""
    progress = progress or (lambda done, total: None)
    worker.build_args = (site.pk, str(root), state if state is not None else BuildState(), (all_routes, pages, sitemap))
    worker.renderer = None
    worker.build_memo = {}
    total = len(routes)
    workers = min(os.cpu_count() or 1, 4)
    out: list[Rendered] = []
    try:
        if SPLIT_THRESHOLD <= total < PARALLEL_THRESHOLD and workers >= 2 and not _in_memory_db():
            return _render_split(routes, progress)
        if total < PARALLEL_THRESHOLD or workers < 2 or _in_memory_db():
            _renderer().load_pages({r.page_id for r in routes if r.page_id})  # all at once: one query plan
            _renderer().prepare_routes(routes)
            step = max(1, total // 50)
            for start in range(0, total, step):
                out += _render_chunk(routes[start : start + step])
                progress(min(start + step, total), total)
            return out
        return _render_pool(routes, workers, progress)
    finally:
        worker.renderer = None
        worker.build_memo = None


def shared_strings(rendered: Rendered) -> Rendered:
    """A worker's result with its links and assets as this process's one copy of each string: most of them
    (the menu, the footer, the stylesheet) are on every page, and 60,000 files' lists hold millions."""
    rendered.links = [intern(link) for link in rendered.links]
    rendered.assets = [intern(asset) for asset in rendered.assets]
    return rendered


def split_evenly(routes: list[Route], count: int) -> list[list[Route]]:
    """The routes in `count` chunks (fewer for few routes) of nearly equal size, each kind of route spread
    over all of them (every chunk has its share of stories, listings, documents)."""
    count = max(1, min(count, len(routes)))
    return [routes[i::count] for i in range(count)]


def _in_memory_db() -> bool:
    """True when rendering must stay in this process: an in-memory SQLite database cannot be shared, and a
    build inside an open transaction (a test's, or a caller's atomic block) would lose it if the
    connection were closed for a fork, and forked processes could not see its uncommitted rows."""
    conn = connections["default"]
    return (conn.vendor == "sqlite" and conn.is_in_memory_db()) or conn.in_atomic_block
