"""Listings split into stable archive pages, so that publishing one new item changes few files.

Items are numbered from the oldest. Archive page k holds items (k-1)*n … k*n-1 counted from the oldest,
so a new item never moves the items of existing archive pages; it only changes the listing's front
page and, once the newest group is full, adds one archive page. The front page shows the newest n.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchivePage:
    number: int  # 1 = oldest
    items: list  # newest first
    newer: int | None  # archive number of the next newer page; 0 = the front page
    older: int | None


@dataclass(frozen=True)
class Archive:
    front: list  # the newest items, newest first
    pages: list[ArchivePage]  # oldest first

    @property
    def newest_archive(self) -> int | None:
        return self.pages[-1].number if self.pages else None

    def page(self, number: int) -> ArchivePage | None:
        return self.pages[number - 1] if 1 <= number <= len(self.pages) else None


def build_archive(items_newest_first: list, per_page: int) -> Archive:
    total = len(items_newest_first)
    oldest_first = items_newest_first[::-1]
    head = total % per_page or (per_page if total else 0)
    count = (total - head) // per_page
    pages = []
    for k in range(1, count + 1):
        chunk = oldest_first[(k - 1) * per_page : k * per_page][::-1]
        pages.append(ArchivePage(k, chunk, newer=k + 1 if k < count else 0, older=k - 1 if k > 1 else None))
    return Archive(items_newest_first[:per_page], pages)
