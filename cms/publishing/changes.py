"""What a build must do against the live release's manifest: which routes to render, which files leave,
which kept files must be rendered again because they link to one that leaves, and each asset's users."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .routes import Route, url_to_file
from .worker import worker


@dataclass
class Changes:
    """What a build has to do, against the live release's manifest."""

    previous: dict  # the live release's manifest; {} for a full build or a first one
    todo: list[Route]  # the routes to render
    removed: set[str]  # files of the live release that the new one no longer has

    @property
    def prev_files(self) -> dict[str, dict]:
        return self.previous.get("files", {})


def changed_routes(routes: dict[str, Route], prev_files: dict, full: bool) -> list[Route]:
    """The routes whose signature differs from the live release's manifest (all of them in a full build)."""
    return [r for r in routes.values() if full or prev_files.get(r.file, {}).get("sig") != r.signature]


def asset_users(release: str | None, files: dict) -> Counter:
    """How many of the release's files use each asset: as the build that made the release left them (a copy),
    else counted from its manifest."""
    if release is not None and worker.asset_counts is not None and worker.asset_counts[0] == release:
        return Counter(worker.asset_counts[1])
    return Counter(a for meta in files.values() for a in meta.get("assets", ()))


def changes_among(routes: dict[str, Route], prev_files: dict, touched: set[str]) -> tuple[list[Route], set[str]] | None:
    """changed_routes and the files that leave the release, when every route but the `touched` URLs is as the
    manifest has it (a pass in sync with it, brought up to date): the work follows the change, not the
    155,000 routes of a large site. None if the counts do not add up (then compare everything)."""
    todo, removed, added = [], set(), 0
    for url in touched:
        route = routes.get(url)
        if route is None:
            rel = url_to_file(url)
            if rel in prev_files:
                removed.add(rel)
            continue
        kept = prev_files.get(route.file)
        if kept is None:
            added += 1
        if kept is None or kept.get("sig") != route.signature:
            todo.append(route)
    if len(routes) != len(prev_files) - len(removed) + added:
        return None
    return todo, removed


def files_linking_to(removed: set[str], prev_files: dict, rendered: set[str]) -> set[str]:
    """Kept files (not rendered anyway) whose manifest lists a link to a file that leaves the release."""
    return {
        rel for rel, meta in prev_files.items()
        if rel not in rendered and rel not in removed and removed.intersection(meta.get("links", ()))
    }  # fmt: skip
