#!/usr/bin/env python
"""Benchmark of static publishing on a generated site (not a test: it prints figures).

    .venv/bin/python bench/publish_bench.py [--stories 2000] [--workdir /tmp/xiaoge-bench]

Generates N stories (about 1,500 Chinese characters each, 3 tags, one street) in a fresh SQLite
database, then prints, in one run:
  - the full build's pages per second, next to a plain loop over page.serve() on the same pages;
  - the time from publish() of one new story to its release being live, with a warm worker;
  - how many files that publish rendered again, of how many in the release.
Targets: full build >= 2.5x the plain loop; one publish live in < 0.5 s, rendering < 2 % of the files.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import os
import pstats
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser()
parser.add_argument("--stories", type=int, default=2000)
parser.add_argument("--workdir", default="/tmp/xiaoge-bench")
parser.add_argument("--keep", action="store_true", help="reuse the generated database if present")
parser.add_argument("--publishes", type=int, default=5, help="single-story publishes to time (the median is reported)")
parser.add_argument(
    "--skip-full", action="store_true", help="skip the full-build comparison (needs --keep and a built site)"
)
parser.add_argument(
    "--profile", action="store_true", help="cProfile the last measured publish and print the top entries"
)
args = parser.parse_args()

work = Path(args.workdir)
if not args.keep:
    shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True, exist_ok=True)
os.environ.update(
    DJANGO_SETTINGS_MODULE="cms.settings.dev",
    DATABASE_URL=f"sqlite:///{work}/db.sqlite3",
    MEDIA_ROOT=str(work / "media"),
    SITE_DIR=str(work / "site"),
    SITE_AUTO_BUILD="true",
    # The build runs in this process when the publish commits: a warm worker without db_worker's polling.
    TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
)

import django  # noqa: E402

django.setup()

from django.conf import settings as _settings  # noqa: E402

_settings.DEBUG = False  # measure what production runs: no query log, no template debug info

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.sample import TAGS, body_text  # noqa: E402
from cms.core.models import Street  # noqa: E402
from cms.publishing.builder import build_site, current_release_dir  # noqa: E402
from cms.publishing.models import Release  # noqa: E402
from cms.stories.models import StoryIndexPage, StoryPage  # noqa: E402


def generate(count: int):
    call_command("migrate", verbosity=0)
    call_command("bootstrap_site", "--no-admin", verbosity=0)
    if StoryPage.objects.count() >= count:
        return
    settings.SITE_AUTO_BUILD = False
    streets = [
        Street.objects.get_or_create(slug=slug, defaults={"name": name, "district": d})[0]
        for slug, name, d in (
            ("taoranting", "陶然亭街道", "西城区"),
            ("jianwai", "建外街道", "朝阳区"),
            ("huilongguan", "回龙观街道", "昌平区"),
        )
    ]
    index = StoryIndexPage.objects.get()
    rng = random.Random(7)
    start = datetime.date.today() - datetime.timedelta(days=count + 10)
    t0 = time.monotonic()
    for i in range(count):
        story = StoryPage(
            title=f"小哥的故事第{i + 1}篇",
            slug=f"story-{i + 1}",
            summary="快递小哥参与社区治理的一个故事。",
            date=start + datetime.timedelta(days=i),
            street=streets[i % 3],
            body=body_text(rng),
        )
        for tag in rng.sample(TAGS, 3):
            story.tags.add(tag)
        index.add_child(instance=story)
        story.save_revision().publish()
        if (i + 1) % 250 == 0:
            print(f"  生成 {i + 1}/{count} 篇（{time.monotonic() - t0:.0f} 秒）", flush=True)
    settings.SITE_AUTO_BUILD = True


def plain_loop() -> tuple[int, float]:
    """What a naive exporter does: fetch each page and call serve() with a fresh request."""
    pages = list(StoryPage.objects.live().order_by("pk"))
    factory = RequestFactory()
    t0 = time.monotonic()
    for page in pages:
        request = factory.get(page.url, HTTP_HOST="localhost")
        request.user = __import__("django.contrib.auth.models", fromlist=["AnonymousUser"]).AnonymousUser()
        response = page.serve(request)
        response.render()
        assert response.status_code == 200
    return len(pages), time.monotonic() - t0


def main():
    print(f"生成 {args.stories} 篇故事 …", flush=True)
    generate(args.stories)
    print(f"SQLite：{connection.settings_dict['NAME']}；CPU 核数 {os.cpu_count()}")
    if not args.skip_full or current_release_dir() is None:
        full_build_figures()
    index = StoryIndexPage.objects.get()
    # Warm the worker the way a running one is warm: one publish first (URL resolver, templates, caches).
    warm = StoryPage.objects.live().order_by("-date", "-pk").first()
    warm.summary += " "
    warm.save_revision().publish()
    print("\n== 发布一篇故事（publish() 到新版本上线）")
    lives, builds = [], []
    for n in range(args.publishes):
        live_after, release, returned = publish_one(index, profile=args.profile and n == args.publishes - 1)
        lives.append(live_after)
        builds.append(release.seconds)
        share = release.rendered / release.files * 100
        print(
            f"  第{n + 1}次：{live_after:.3f} 秒上线（构建 {release.seconds:.3f} 秒）；"
            f"重新渲染 {release.rendered}/{release.files} 个文件（{share:.2f}%）；publish() 返回共用 {returned:.2f} 秒"
        )
        print(f"    {release.report}")
    print(
        f"  publish() 到页面版本上线，中位数：{statistics.median(lives):.3f} 秒（目标 < 0.5 秒），"
        f"范围 {min(lives):.3f}–{max(lives):.3f}；其中构建中位数 {statistics.median(builds):.3f} 秒"
    )


def full_build_figures():
    build_site(full=True, reason="bench warm-up")  # renders renditions, collects static files once
    n_plain, t_plain = plain_loop()
    full = build_site(full=True, reason="bench full")
    pages = full.release.pages
    print("\n== 全量构建（site/releases/<id>/，含校验、搜索索引、原子切换）")
    print(f"  普通循环 page.serve()：{n_plain} 页，{t_plain:.2f} 秒，{n_plain / t_plain:.0f} 页/秒")
    print(
        f"  build_site --full：   {pages} 页（{full.files} 个文件），{full.seconds:.2f} 秒，{pages / full.seconds:.0f} 页/秒"
    )
    ratio = (pages / full.seconds) / (n_plain / t_plain)
    print(f"  倍数：{ratio:.2f}×（目标 ≥ 2.5×）")


def publish_one(index, profile: bool = False):
    slug = f"just-published-{time.time_ns()}"
    story = StoryPage(
        title="刚刚发布的一篇",
        slug=slug,
        summary="新故事。",
        date=datetime.date.today(),
        street=Street.objects.first(),
        body=body_text(random.Random(1)),
    )
    story.tags.add("隐患上报", "培训", "路客联盟")
    index.add_child(instance=story)
    revision = story.save_revision()
    before = current_release_dir()
    profiler = cProfile.Profile() if profile else None
    started = timezone.now()
    t0 = time.monotonic()
    if profiler:
        profiler.enable()
    revision.publish()  # the signal enqueues the build; the warm in-process worker runs it on commit
    if profiler:
        profiler.disable()
    returned = time.monotonic() - t0
    after = current_release_dir()
    release = Release.objects.filter(content_of__isnull=True).order_by("-pk").first()
    assert after != before and (after / f"stories/{slug}/index.html").exists()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    return (release.finished_at - started).total_seconds(), release, returned


if __name__ == "__main__":
    main()
