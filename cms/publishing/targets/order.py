"""The order in which a sync uploads a release's objects, so that a reader never meets a page whose links or
files are not in the bucket yet (cms/publishing/targets/sync.py)."""

from __future__ import annotations

import re
from collections import defaultdict

IMMUTABLE = re.compile(r"^(static/|media/images/|searchindex/[cd]-)")
# Site-wide files that list other pages: uploaded after every page they could name.
LAST = re.compile(r"(^|/)feed\.xml$|^sitemap-\d+-of-\d+\.xml$|^api/v2/pages/index\.json$|^searchindex/index\.json$")
# The sitemap index and robots.txt, which names it: after the sitemap files the index names.
FINAL = re.compile(r"^(sitemap\.xml|robots\.txt)$")


def upload_order(changed: list[str], links: dict[str, list[str]], present: set[str] = frozenset()) -> list[list[str]]:
    """Waves of objects to upload one after the other (each wave in parallel): assets; pages by depth, a page
    after the new pages it links to; then the site-wide files; then the sitemap index (and robots.txt). A link
    to a page the bucket already has (`present`: its earlier version serves meanwhile) orders nothing, so a
    new story goes up before the listings that name it although it links back to them; only new pages that
    link to each other in a cycle (a new course's lessons) share a wave."""
    assets = sorted(r for r in changed if IMMUTABLE.match(r) or r.startswith("media/"))
    last = sorted(r for r in changed if LAST.search(r) and r not in assets)
    final = sorted(r for r in changed if FINAL.match(r))
    skip = set(assets) | set(last) | set(final)
    pages = sorted(r for r in changed if r not in skip)
    levels = link_levels(pages, {r: [t for t in links.get(r, ()) if t != r and t not in present] for r in pages})
    waves: dict[int, list[str]] = defaultdict(list)
    for rel in pages:
        waves[levels[rel]].append(rel)
    return [w for w in (assets, *(waves[d] for d in sorted(waves)), last, final) if w]


def link_levels(nodes: list[str], edges: dict[str, list[str]]) -> dict[str, int]:
    """For each node, 0 if it links to no other node, else one more than the deepest node it links to;
    nodes that link to each other in a cycle share a level (Tarjan's strongly connected components,
    iterative: chains of thousands of pages)."""
    members = set(nodes)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter([t for t in edges.get(root, ()) if t in members]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter([t for t in edges.get(child, ()) if t in members])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = len(components)
                    group.append(member)
                    if member == node:
                        break
                components.append(group)
    # Tarjan emits a component after every component it links to: levels in one pass.
    level: list[int] = []
    for i, group in enumerate(components):
        deps = {component[t] for n in group for t in edges.get(n, ()) if t in members and component[t] != i}
        level.append(1 + max((level[d] for d in deps), default=-1))
    return {n: level[component[n]] for n in nodes}
