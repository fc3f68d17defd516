"""What the benchmarks share: a free port on loopback, a work folder's Django environment, generated stories
and percentiles. No Django at import: a script imports this, then sets Django up (or starts processes that do).

    sys.path.insert(0, str(ROOT)); from bench.common import free_port, django_env, configure, ...
"""

from __future__ import annotations

import datetime
import math
import os
import random
import shutil
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sample import TAGS, body_text  # noqa: E402  (no Django in it)

# (slug, name, district) of the streets generated stories take in turn.
STREETS = (
    ("taoranting", "陶然亭街道", "西城区"),
    ("jianwai", "建外街道", "朝阳区"),
    ("huilongguan", "回龙观街道", "昌平区"),
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def django_env(work: Path, *, auto_build: bool = False) -> dict[str, str]:
    """The environment of a Django process working in `work`: the dev settings, its own SQLite database,
    media and SITE_DIR, tasks run in the process that queues them. Without `auto_build`, publishes queue no
    build (the script calls build_site() itself)."""
    return {
        "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
        "DATABASE_URL": f"sqlite:///{work}/db.sqlite3",
        "MEDIA_ROOT": str(work / "media"),
        "SITE_DIR": str(work / "site"),
        "SITE_AUTO_BUILD": "true" if auto_build else "false",
        "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
    }


def configure(work: Path, fresh: bool = True, *, auto_build: bool = False):
    """Set Django up in this process on `work` (emptied first if `fresh`), with DEBUG off: what production
    runs, without the query log or template debug information."""
    if fresh:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    os.environ.update(django_env(work, auto_build=auto_build))
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False


def generate_stories(
    count: int,
    *,
    streets: Sequence[tuple[str, str, str]] = STREETS[:2],
    tags: Sequence[str] = TAGS,
    slug_prefix: str = "story-",
    marker_title: str | None = None,
    related_chain: bool = False,
    rng: random.Random | None = None,
    progress_every: int = 0,
    setup: bool = True,
):
    """Publish `count` stories one by one through Wagtail (one a day, the oldest first; about 1,500
    characters of bench/sample.py's text, three of `tags`, the streets in turn), after migrating and setting
    the page tree up (`setup`). The newest one gets `marker_title` if given; with `related_chain` each story
    names the one before it as related. `rng` (seeded 7 if not given) draws the texts and tags. Publishes queue
    no build. Returns the newest story."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from cms.core.models import Street
    from cms.stories.models import StoryIndexPage, StoryPage, StoryRelatedPage

    settings.SITE_AUTO_BUILD = False
    if setup:
        call_command("migrate", verbosity=0)
        call_command("bootstrap_site", "--no-admin", verbosity=0)
    rows = [
        Street.objects.get_or_create(slug=slug, defaults={"name": name, "district": district})[0]
        for slug, name, district in streets
    ]
    index = StoryIndexPage.objects.get()
    rng = rng or random.Random(7)  # noqa: S311 - reproducible sample data
    start = datetime.date.today() - datetime.timedelta(days=count + 10)
    t0 = time.monotonic()
    story = None
    for i in range(count):
        with transaction.atomic():
            previous, story = (
                story,
                StoryPage(
                    title=marker_title if marker_title and i == count - 1 else f"小哥的故事第{i + 1}篇",
                    slug=f"{slug_prefix}{i + 1}",
                    summary="快递小哥参与社区治理的一个故事。",
                    date=start + datetime.timedelta(days=i),
                    street=rows[i % len(rows)],
                    body=body_text(rng),
                ),
            )
            for tag in rng.sample(list(tags), 3):
                story.tags.add(tag)
            if related_chain and previous is not None:
                story.related_links = [StoryRelatedPage(related_page=previous)]
            index.add_child(instance=story)
            story.save_revision().publish()
        if progress_every and (i + 1) % progress_every == 0:
            print(f"  生成 {i + 1}/{count} 篇（{time.monotonic() - t0:.0f} 秒）", file=sys.stderr, flush=True)
    return story


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile q (0–100) of the values: the smallest value with at least q % of them at
    or below it (what locust reports, without its rounding of response times)."""
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[min(len(ordered) - 1, max(0, rank - 1))]
