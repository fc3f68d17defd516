#!/usr/bin/env python
"""Benchmark of publishing to an S3 bucket on loopback (a moto server in its own process): not a test, it
prints figures.

    .venv/bin/python bench/targets_bench.py [--stories 2000] [--publishes 5] [--workdir /tmp/xiaoge-targets-bench]

On N generated stories (bench/bulk_stories.py, as bench/publish_bench.py makes them) in a fresh SQLite database:
  - a full first sync of the live release: objects, bytes, objects per second;
  - one story published, as the admin does (publish → the build worker builds, then syncs): objects and bytes
    uploaded, and the seconds from the release going live locally (its swap) until the bucket holds it all
    (the sync's last write, the release marker), the median of --publishes.
Targets: one publish uploads <= 30 objects and <= 500 KB and is visible in the bucket within 2 s.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import configure, free_port  # noqa: E402  (no Django in it)
from bench.sample import body_text  # noqa: E402

BUCKET = "xiaoge-bench"
TARGETS = {"objects": 30, "kb": 500, "seconds": 2.0}


def start_moto(port: int) -> subprocess.Popen:
    """moto's S3 server in a process of its own, as a bucket on another machine would be."""
    server = subprocess.Popen(  # noqa: S603 - this interpreter
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    server.kill()
    raise SystemExit("moto server did not start")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607


def publish_one(index):
    """A new story published as the admin does; returns (story, release, its sync)."""
    from cms.core.models import Street
    from cms.publishing.models import Release, TargetSync
    from cms.stories.models import StoryPage

    story = StoryPage(
        title="刚刚发布的一篇",
        slug=f"just-published-{time.time_ns()}",
        summary="新故事。",
        date=datetime.date.today(),
        street=Street.objects.first(),
        body=body_text(random.Random(1)),  # noqa: S311 - sample text
    )
    story.tags.add("隐患上报", "培训", "路客联盟")
    index.add_child(instance=story)
    story.save_revision().publish()  # the build and the sync run in this process when the publish commits
    release = Release.objects.filter(content_of__isnull=True, status=Release.STATUS_LIVE).order_by("-pk").first()
    sync = TargetSync.objects.filter(release=release, status=TargetSync.STATUS_DONE).order_by("-seq").first()
    return story, release, sync


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--publishes", type=int, default=5)
    parser.add_argument("--workdir", default="/tmp/xiaoge-targets-bench")
    parser.add_argument("--keep", action="store_true", help="reuse the generated database if present")
    args = parser.parse_args()

    port = free_port()
    moto = start_moto(port)
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - moto's
        AWS_DEFAULT_REGION="us-east-1",
        AWS_S3_ADDRESSING_STYLE="path",
        PUBLISH_TARGETS=f"s3://{BUCKET}/www",
    )
    try:
        run(args)
    finally:
        moto.terminate()
        moto.wait(10)


def run(args):
    configure(Path(args.workdir), fresh=not args.keep, auto_build=True)
    from django.conf import settings
    from django.core.management import call_command

    from bench.bulk_stories import bulk_publish
    from cms.publishing import targets
    from cms.publishing.builder import build_site
    from cms.publishing.models import TargetObject, TargetSync
    from cms.stories.models import StoryIndexPage

    print(f"开始：{uptime()}", flush=True)
    settings.SITE_AUTO_BUILD = False
    call_command("migrate", verbosity=0)
    call_command("bootstrap_site", "--no-admin", verbosity=0)
    made = bulk_publish(args.stories, progress=lambda msg: None)
    print(f"{args.stories:,} 篇故事（新写入 {made:,} 篇）", flush=True)
    t0 = time.monotonic()
    build = build_site(full=True)
    print(f"全量构建：{build.files:,} 个文件，{time.monotonic() - t0:.1f} 秒", flush=True)

    s3 = targets.client()
    s3.create_bucket(Bucket=BUCKET)
    TargetObject.objects.all().delete()  # a fresh bucket: forget what an earlier run's bucket held
    TargetSync.objects.all().delete()
    print(f"首次同步前：{uptime()}", flush=True)
    [first] = targets.sync_live()
    rate = first.uploaded / first.seconds
    print(
        f"首次全量同步：{first.uploaded:,} 个对象，{first.bytes / 1024 / 1024:.1f} MB，"
        f"{first.seconds:.1f} 秒，{rate:.0f} 个对象/秒",
        flush=True,
    )

    settings.SITE_AUTO_BUILD = True
    index = StoryIndexPage.objects.get()
    publish_one(index)  # warm-up: the worker's caches, as a running worker has them
    rows = []
    for n in range(args.publishes):
        story, release, sync = publish_one(index)
        assert sync is not None, "the publish was not synced"
        page = s3.get_object(Bucket=BUCKET, Key=f"www/stories/{story.slug}/index.html")
        assert page["ContentLength"] > 0
        visible = (sync.finished_at - release.finished_at).total_seconds()
        rows.append((sync.uploaded, sync.bytes, visible, sync.seconds))
        print(
            f"  发布 {n + 1}：上传 {sync.uploaded} 个对象，{sync.bytes / 1024:.0f} KB；"
            f"本机上线到存储桶可见 {visible:.2f} 秒（同步本身 {sync.seconds:.2f} 秒）",
            flush=True,
        )
    objects = statistics.median(r[0] for r in rows)
    kb = statistics.median(r[1] for r in rows) / 1024
    seconds = statistics.median(r[2] for r in rows)
    print(f"结束：{uptime()}")
    print(f"\n{args.stories:,} 篇故事，{args.publishes} 次发布的中位数：")
    for label, value, target, unit in (
        ("上传对象", objects, TARGETS["objects"], "个"),
        ("上传字节", kb, TARGETS["kb"], "KB"),
        ("到存储桶可见", seconds, TARGETS["seconds"], "秒"),
    ):
        verdict = "达标" if value <= target else "未达标"
        print(f"  {label}：{value:.2f} {unit}（目标 ≤ {target} {unit}，{verdict}）")


if __name__ == "__main__":
    main()
