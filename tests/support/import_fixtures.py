"""Tiny content/ trees for import tests: a good tree to start from, and a way to add or spoil files."""

from __future__ import annotations

import io
import time
from pathlib import Path

from PIL import Image as PILImage

STREETS = """\
- slug: taoranting
  name: 陶然亭街道
  district: 西城区
"""

SOURCES = """\
- key: cyd-2023-03-21
  publication: 中国青年报
  title: 快递员如何成为社区基层治理的一把钥匙
  date: 2023-03-21
  authors: 王雪儿、贾骥业、裴思童
  quotes:
    - person: liu-kuo
      text: 和这片儿的居民都熟了，他们家里的人我基本都认识。
"""

PEOPLE = """\
- slug: liu-kuo
  name: 刘阔
  role: 快递员
  organisation: 顺丰速运北京区陶然北岸经营分部
  street: taoranting
  named_in: cyd-2023-03-21
- slug: wang-wu
  name: 王五
  role: 外卖骑手
  street: taoranting
  consent_on_record: false
"""

SITE = """\
home:
  title: 小哥：快递小哥参与社区治理
  lead: 快递员、外卖骑手每天走遍社区的每一条街巷。
settings:
  program_name: 小哥
"""

INDEX = """\
---
title: 故事
slug: stories
---

小哥们的故事。
"""

GOOD_TITLE = "四年，一条街巷的移动探头"


def story(
    title: str = GOOD_TITLE,
    body: str = "据中国青年报报道，刘阔在陶然亭一带送件已有4年。",
    *,
    extra: str = "",
    date: str = "2023-03-02",
) -> str:
    """A valid story file; `extra` is more front matter lines (each ending in a newline), `body` the Markdown."""
    front = (
        f"title: {title}\ndate: {date}\nsummary: 顺丰快递员刘阔在陶然亭送件四年。\nstreet: taoranting\n"
        "sources: [cyd-2023-03-21]\n"
    )
    return f"---\n{front}{extra}---\n\n{body}\n"


def jpeg_bytes(color: str = "#0b4f8a", size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


def hero(path: str) -> str:
    """Front matter naming a hero image at `path`."""
    return f"hero_image:\n  file: {path}\n  alt: 胡同里的三轮车\n"


def write_files(content: Path, files: dict[str, str | bytes]) -> Path:
    """Write files under content/: text as UTF-8, bytes as they are. Returns content."""
    for rel, data in files.items():
        path = content / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return content


def good_tree(tmp_path: Path, *, site: bool = False) -> Path:
    """tmp_path/content with streets, people, the stories section and two stories: good.md and other.md."""
    files = {
        "streets.yaml": STREETS,
        "people.yaml": PEOPLE,
        "sources.yaml": SOURCES,
        "stories/_index.md": INDEX,
        "stories/good.md": story(),
        "stories/other.md": story("小年夜的饺子", "居民和小哥一起包饺子。", date="2023-01-14"),
    }
    if site:
        files["site.yaml"] = SITE
    return write_files(tmp_path / "content", files)


def line_of(text: str, needle: str) -> int:
    """The line (1-based) of the first occurrence of needle in text."""
    return text[: text.index(needle)].count("\n") + 1


def counts() -> dict[str, int]:
    """Rows of everything an import can write."""
    from wagtail.models import Page, Revision

    from cms.content_io.models import ContentSource
    from cms.core.models import Person, Street
    from cms.images.models import CustomImage

    return {
        model.__name__: model.objects.count() for model in (Page, Revision, Street, Person, CustomImage, ContentSource)
    }


# -- refusals: an import that must be refused, whole ------------------------------------------------
BAD = "stories/bad.md"
QUICK = 20  # seconds: every refusal must come well within this, however hostile the file


def refused(root: Path, **kwargs):
    """Import root, expect a refusal, and check that the database is exactly as it was."""
    from cms.content_io.importer import run_import
    from cms.stories.models import StoryPage

    before = counts()
    started = time.monotonic()
    report, plan = run_import(root, publish=True, **kwargs)
    assert time.monotonic() - started < QUICK
    assert not report.ok, "the import should have been refused"
    assert plan == {}
    assert (report.created, report.updated, report.unchanged) == ([], [], [])
    assert counts() == before
    assert StoryPage.objects.get(slug="good").title == GOOD_TITLE
    return report


def problem(report, path: str, reason: str):
    """The problem reported for `path` whose message contains `reason`."""
    found = [p for p in report.rejected if p.path == path and reason in p.message]
    assert found, f"no problem for {path} mentioning {reason!r}; reported:\n" + "\n".join(map(str, report.rejected))
    return found[0]


def add_bad_story(root: Path, text: str | bytes) -> str | bytes:
    write_files(root, {BAD: text})
    return text
