"""The pool of a large build (render_pool._render_pool): every route rendered once, each chunk by a worker
forked for it, and a worker that fails or dies fails the build at once without leaving processes behind.
The chunks' rendering is replaced by a stand-in that records which process rendered what (the real render
needs a database the forked workers can share; tests/test_publishing.py builds real sites in processes)."""

from __future__ import annotations

import os
import time

import pytest

from cms.publishing import render_pool
from cms.publishing.render import Rendered, RenderError
from cms.publishing.routes import Route


def routes(count: int) -> list[Route]:
    return [Route(f"/r/{n}/", f"r/{n}/index.html", "page", n, "", f"sig{n}") for n in range(count)]


def stand_in(chunk: list[Route], keep_pages: bool = True) -> list[Rendered]:
    """What _render_chunk returns, with the worker's pid in place of the digest and a menu link each."""
    assert not keep_pages  # a pool's worker starts every chunk with no pages of an earlier one
    return [Rendered(r.file, str(os.getpid()), 1, links=["index.html", f"r/{r.page_id}/"]) for r in chunk]


def children() -> set[int]:
    found = set()
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children") as f:
            found |= {int(pid) for pid in f.read().split()}
    return found


def fails_cleanly(monkeypatch, render_chunk, message: str):
    """A build of 400 routes with `render_chunk` in the workers fails with `message`, no worker left."""
    monkeypatch.setattr(render_pool, "_render_chunk", render_chunk)
    before = children()
    with pytest.raises(RenderError, match=message):
        render_pool._render_pool(routes(400), 2, lambda done, total: None)
    assert children() == before


def test_every_route_once_each_chunk_by_a_fresh_worker(monkeypatch):
    monkeypatch.setattr(render_pool, "_render_chunk", stand_in)
    monkeypatch.setattr(render_pool, "MAX_CHUNK", 50)  # 700 routes: 14 chunks (more than 2 workers x 6)
    before = children()
    seen = []
    out = render_pool._render_pool(routes(700), 2, lambda done, total: seen.append((done, total)))

    assert sorted(r.file for r in out) == sorted(r.file for r in routes(700))
    by_worker: dict[str, int] = {}
    for rendered in out:
        by_worker[rendered.sha] = by_worker.get(rendered.sha, 0) + 1
    assert len(by_worker) == 14 and set(by_worker.values()) == {50}  # one chunk per worker, none reused
    assert seen[-1] == (700, 700) and len(seen) == 14
    # One copy of each string the pages share, in this process (the results came through a pipe).
    assert len({id(r.links[0]) for r in out}) == 1
    assert children() == before  # every worker joined


def test_a_failing_chunk_fails_the_build_with_its_message(monkeypatch):
    def failing(chunk, keep_pages=True):
        if any(r.page_id == 123 for r in chunk):
            raise ValueError("第 123 页的模板出错")
        return stand_in(chunk, keep_pages)

    fails_cleanly(monkeypatch, failing, "第 123 页的模板出错")


def test_a_worker_that_dies_fails_the_build_and_no_worker_is_left(monkeypatch):
    def dying(chunk, keep_pages=True):
        if any(r.page_id == 5 for r in chunk):
            os._exit(9)  # killed: the out-of-memory killer, a segfault in a C extension
        time.sleep(0.2)
        return stand_in(chunk, keep_pages)

    fails_cleanly(monkeypatch, dying, "渲染子进程意外退出")
