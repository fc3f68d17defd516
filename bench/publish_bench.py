#!/usr/bin/env python
"""Benchmark of static publishing on generated sites (not a test: it prints figures).

    .venv/bin/python bench/publish_bench.py [--stories 200 2000 20000] [--workdir /tmp/xiaoge-bench] [--busy]

For each size, in a fresh SQLite database (one process per size, run one after the other), it generates the
stories in bulk (bench/bulk_stories.py: about 1,500 Chinese characters each, 3 tags, one street) and prints:
  - the full build's pages per second, next to a plain loop over page.serve() in the same run (the loop
    renders an even sample of --plain-sample stories: it is a rate);
  - the full build's peak memory: the build process and its render workers together (proportional set
    size, so pages the forked workers share are counted once), sampled every 0.1 s;
  - the release's size on disk (each inode once: hard links and twins as they are) and its file count;
  - one publish() of a new story to its release being live (warm worker; median of --publishes), the files
    it rendered again and how many of them are listing pages (front, archive, tag, street pages, feed);
  - with --stream, --publishes more publishes one after the other with no idle moment between them: each
    build's copy of the live release by `cp -al`, then recycled from old releases (median time to live);
  - the machine's load (uptime) before and after: the machine is shared. With --busy a second process keeps one
    core busy during the plain loop and the full build.
Targets (issue 20, ratios in one run): full build >= 4x the plain loop at 2,000 stories (>= 2.5x with --busy); at 20,000 one publish
live in <= 1.2x its time at 2,000 (<= 0.5 s), peak memory <= 1 GB, pages/s within 20 % of the 2,000 figure.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import configure  # noqa: E402  (no Django in it)
from bench.sample import body_text  # noqa: E402  (no Django in it)

parser = argparse.ArgumentParser()
parser.add_argument("--stories", type=int, nargs="+", default=[2000])
parser.add_argument("--workdir", default="/tmp/xiaoge-bench")
parser.add_argument("--keep", action="store_true", help="reuse the generated database if present")
parser.add_argument("--publishes", type=int, default=5, help="single-story publishes to time (the median is reported)")
parser.add_argument("--plain-sample", type=int, default=2000, help="stories the plain serve() loop renders")
parser.add_argument(
    "--skip-full", action="store_true", help="skip the full-build comparison (needs --keep and a built site)"
)
parser.add_argument(
    "--busy",
    action="store_true",
    help="a second process keeps one core busy during the plain loop and the full build (issue 20: >= 2.5x)",
)
parser.add_argument(
    "--stream",
    action="store_true",
    help="also time --publishes publishes one after the other with no idle moment between them (no spare copy),"
    " taking the copy of the live release by cp -al and then from old releases (recycled)",
)
parser.add_argument(
    "--profile", action="store_true", help="cProfile the last measured publish and print the top entries"
)
parser.add_argument(
    "--profile-full",
    action="store_true",
    help="cProfile a full build rendered in this one process (no workers) and print the top entries by own time",
)
args: argparse.Namespace  # the command line's, parsed when this file runs as a script (below)
RESULT = "BENCH-RESULT "


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()  # noqa: S607


def curve():
    """One child process per size, one after the other; then the table of all sizes."""
    rows = []
    for n in args.stories:
        cmd = [sys.executable, __file__, "--stories", str(n), "--workdir", f"{args.workdir}-{n}"]
        cmd += ["--publishes", str(args.publishes), "--plain-sample", str(args.plain_sample)]
        cmd += ["--keep"] if args.keep else []
        cmd += ["--busy"] if args.busy else []
        cmd += ["--skip-full"] if args.skip_full else []
        cmd += ["--stream"] if args.stream else []
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)  # noqa: S603
        for line in proc.stdout:
            if line.startswith(RESULT):
                rows.append(json.loads(line[len(RESULT) :]))
            else:
                print(line, end="", flush=True)
        proc.wait()
    print("\n== 曲线（每个规模一次运行；倍数在同一次运行内计算）")
    head = "| 故事 | 页面/文件 | 全量 页/秒 | 普通循环 页/秒 | 倍数 | 峰值内存（渲染/搜索索引）| 发布体积（磁盘）| 发布→上线 中位数 | 重渲染文件 | 其中列表页 | 负载（前/后）|"
    print(head)
    print("|---" * 11 + "|")
    for r in rows:
        busy = "（另一进程占一核）" if r.get("busy") else ""
        print(
            f"| {r['stories']:,}{busy} | {r['pages']:,} / {r['files']:,} | {r['build_pps']:.0f} | {r['plain_pps']:.0f} | "
            f"{r['ratio']:.2f}× | {r['peak_mb']:.0f} MB（{phase(r, 'build')}/{phase(r, 'search')}）| {r['disk_mb']:.0f} MB | {r['publish_median']:.3f} s | "
            f"{r['rendered']} | {r['listings']} | {r['load_before']} / {r['load_after']} |"
        )


def phase(row: dict, name: str) -> str:
    return f"{row.get('peak_phases_mb', {}).get(name, 0):.0f}"


def child():
    # The build runs in this process when the publish commits (tasks run where they are queued): a warm worker
    # without db_worker's polling. DEBUG off: what production runs, no query log, no template debug info.
    configure(Path(args.workdir), fresh=not args.keep, auto_build=True)
    main(args.stories[0])


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(n: int):
    from django.db import connection

    from cms.publishing.builder import current_release_dir
    from cms.stories.models import StoryIndexPage, StoryPage

    print(f"\n==== {n:,} 篇故事　{uptime()}", flush=True)
    generate(n)
    print(f"SQLite：{connection.settings_dict['NAME']}；CPU 核数 {os.cpu_count()}")
    result = {"stories": n, "load_before": load_average()}
    if args.profile_full:
        return profile_full_build()
    if not args.skip_full or current_release_dir() is None:
        result.update(full_build_figures())
    index = StoryIndexPage.objects.get()
    # Warm the worker the way a running one is warm: one publish first (URL resolver, templates, caches).
    warm = StoryPage.objects.live().order_by("-date", "-pk").first()
    warm.summary += " "
    warm.save_revision().publish()
    print("\n== 发布一篇故事（publish() 到新版本上线）")
    lives, builds, rendered, listings = [], [], [], []
    for k in range(args.publishes):
        live_after, release, returned, touched = publish_one(index, profile=args.profile and k == args.publishes - 1)
        lives.append(live_after)
        builds.append(release.seconds)
        rendered.append(release.rendered)
        listed = sorted(f for f in touched if is_listing(f))
        listings.append(len(listed))
        share = release.rendered / release.files * 100
        print(
            f"  第{k + 1}次：{live_after:.3f} 秒上线（构建 {release.seconds:.3f} 秒）；"
            f"重新渲染 {release.rendered}/{release.files} 个文件（{share:.2f}%），其中列表页 {len(listed)} 个；"
            f"publish() 返回共用 {returned:.2f} 秒"
        )
        print(f"    {release.report}")
        print(f"    列表页：{' '.join(listed)}")
    print(
        f"  publish() 到页面版本上线，中位数：{statistics.median(lives):.3f} 秒（目标 ≤ 0.5 秒），"
        f"范围 {min(lives):.3f}–{max(lives):.3f}；其中构建中位数 {statistics.median(builds):.3f} 秒"
    )
    print(f"  负载：{uptime()}")
    result.update(
        publish_median=statistics.median(lives),
        build_median=statistics.median(builds),
        rendered=f"{min(rendered)}–{max(rendered)}",
        listings=f"{min(listings)}–{max(listings)}",
        load_after=load_average(),
    )
    if args.stream:
        result.update(stream(index))
    print(RESULT + json.dumps(result, ensure_ascii=False), flush=True)


def stream(index) -> dict:
    """Publishes one after the other with no idle moment between them, as under ten editors: the worker has
    no time for its spare copy (nor its idle checks), so each build gets its copy of the live release by
    `cp -al` or from a release old enough to be pruned (cms/publishing/spare.py); both, in this order (the
    first leaves the old releases the second recycles). Prints the median time to live and the CPU of the
    build's child processes (cp, the forked render helper) per publish."""
    import resource

    from cms.publishing import builder
    from cms.publishing.files import discard
    from cms.publishing.releases import current_release_dir, spare_dir

    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    saved = builder.prepare_spare, builder.idle_housekeeping, builder.check_signatures, builder.recycle
    builder.prepare_spare = lambda *a, **k: None
    builder.idle_housekeeping = builder.check_signatures = lambda: None
    figures = {}
    try:
        for mode in ("cp -al", "recycle"):
            builder.recycle = saved[3] if mode == "recycle" else (lambda *a, **k: None)
            live = current_release_dir()
            if spare_dir(live).exists():
                discard(spare_dir(live))
            print(f"\n== 连续发布，中间不空闲（上线版本的副本：{mode}）")
            lives, cpu = [], []
            for k in range(args.publishes):
                before = children()
                live_after, release, _returned, _touched = publish_one(index)
                lives.append(live_after)
                cpu.append(children() - before)
                print(f"  第{k + 1}次：{live_after:.3f} 秒上线；子进程 CPU {cpu[-1]:.2f} 秒；{release.report}")
            print(
                f"  中位数：{statistics.median(lives):.3f} 秒上线，子进程 CPU {statistics.median(cpu):.2f} 秒；"
                f"负载：{uptime()}"
            )
            key = "stream_recycle" if mode == "recycle" else "stream_cp"
            figures[key] = statistics.median(lives)
    finally:
        builder.prepare_spare, builder.idle_housekeeping, builder.check_signatures, builder.recycle = saved
    return figures


def generate(count: int):
    from django.core.management import call_command

    from bench.bulk_stories import bulk_publish

    call_command("migrate", verbosity=0)
    call_command("bootstrap_site", "--no-admin", verbosity=0)
    t0 = time.monotonic()
    made = bulk_publish(count, progress=lambda msg: print(msg, flush=True) if "000/" in msg else None)
    if made:
        print(f"  {made:,} 篇故事，批量写入 {time.monotonic() - t0:.1f} 秒", flush=True)


def plain_loop() -> tuple[int, float]:
    """What a naive exporter does: fetch each page and call serve() with a fresh request (an even sample)."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from cms.stories.models import StoryPage

    ids = list(StoryPage.objects.live().order_by("pk").values_list("pk", flat=True))
    step = max(1, len(ids) // args.plain_sample)
    factory = RequestFactory()
    t0 = time.monotonic()
    count = 0
    for pk in ids[::step]:
        page = StoryPage.objects.get(pk=pk)
        request = factory.get(page.url, HTTP_HOST="localhost")
        request.user = AnonymousUser()
        response = page.serve(request)
        response.render()
        assert response.status_code == 200
        count += 1
    return count, time.monotonic() - t0


class MemorySampler(threading.Thread):
    """The peak of this process's and its descendants' memory (PSS, and RSS for comparison), every 0.1 s;
    also the peak of each phase the build sets (render and the rest, the search index)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_pss = self.peak_rss = 0
        self.phase = "build"
        self.phases: dict[str, int] = {}
        self.stopped = threading.Event()

    @staticmethod
    def tree(pid: int) -> list[int]:
        out = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    for child in f.read().split():
                        out += MemorySampler.tree(int(child))
        except OSError:
            pass
        return out

    @staticmethod
    def usage(pid: int) -> tuple[int, int]:
        pss = rss = 0
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss = int(line.split()[1]) * 1024
                    elif line.startswith("Rss:"):
                        rss = int(line.split()[1]) * 1024
        except OSError:
            pass
        return pss, rss

    def run(self):
        while not self.stopped.wait(0.1):
            pss = rss = 0
            for pid in set(self.tree(os.getpid())):
                p, r = self.usage(pid)
                pss, rss = pss + p, rss + r
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self.phases[self.phase] = max(self.phases.get(self.phase, 0), pss)


def release_size(folder: Path) -> tuple[int, int, int]:
    """Files, bytes (each file), bytes on disk (each inode once, as du counts it)."""
    files, size, seen, disk = 0, 0, set(), 0
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            files += 1
            size += st.st_size
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                disk += st.st_blocks * 512
    return files, size, disk


class BusyCore:
    """A second process that keeps one core busy (a spinning loop at normal priority), as another program on
    the machine would: the full build and the plain loop are measured beside it."""

    def __init__(self, on: bool):
        self.on, self.proc = on, None

    def __enter__(self):
        if self.on:
            self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # noqa: S603
            print(f"  另一个进程（pid {self.proc.pid}）占用一个核，与普通循环和全量构建同时运行", flush=True)
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


def full_build_figures() -> dict:
    with BusyCore(args.busy):
        return measure_full_build()


def measure_full_build() -> dict:
    from cms.publishing.builder import Builder, build_site, current_release_dir

    n_plain, t_plain = plain_loop()
    sampler = MemorySampler()
    search_stage = Builder.update_search_index

    def update_search_index(self, *a, **kw):  # the search index's own peak (cms/publishing/search/)
        sampler.phase = "search"
        try:
            return search_stage(self, *a, **kw)
        finally:
            sampler.phase = "after"

    Builder.update_search_index = update_search_index
    sampler.start()
    try:
        full = build_site(full=True, reason="bench full")
    finally:
        Builder.update_search_index = search_stage
        sampler.stopped.set()
        sampler.join()
    pages = full.release.pages
    files, size, disk = release_size(current_release_dir())
    print("\n== 全量构建（site/releases/<id>/，含校验、搜索索引、原子切换）")
    print(f"  普通循环 page.serve()：{n_plain} 页，{t_plain:.2f} 秒，{n_plain / t_plain:.0f} 页/秒")
    print(
        f"  build_site --full：   {pages} 页（{full.files} 个文件），{full.seconds:.2f} 秒，{pages / full.seconds:.0f} 页/秒"
    )
    print(f"    {full.release.report}")
    ratio = (pages / full.seconds) / (n_plain / t_plain)
    print(f"  倍数：{ratio:.2f}×（目标 ≥ {'2.5× 另一进程占一核' if args.busy else '4× 机器空闲'}）")
    print(
        f"  峰值内存（构建进程和渲染进程合计）：PSS {sampler.peak_pss / 2**20:.0f} MB（RSS 之和 {sampler.peak_rss / 2**20:.0f} MB）"
    )
    phases = "，".join(f"{k} {v / 2**20:.0f} MB" for k, v in sampler.phases.items())
    print(f"    各阶段峰值（PSS）：{phases}（build：签名、渲染、校验；search：搜索索引）")
    print(f"  发布版本：{files:,} 个文件，{size / 2**20:.0f} MB，占用磁盘 {disk / 2**20:.0f} MB")
    print(f"  负载：{uptime()}", flush=True)
    return {
        "pages": pages,
        "files": files,
        "build_seconds": full.seconds,
        "build_pps": pages / full.seconds,
        "plain_pps": n_plain / t_plain,
        "ratio": ratio,
        "peak_mb": sampler.peak_pss / 2**20,
        "peak_rss_mb": sampler.peak_rss / 2**20,
        "peak_phases_mb": {k: v / 2**20 for k, v in sampler.phases.items()},
        "disk_mb": disk / 2**20,
        "bytes_mb": size / 2**20,
        "load_build": load_average(),
        "busy": args.busy,
    }


def profile_full_build():
    """The whole of a full build in this process (the renderer's in-process path), under cProfile."""
    from cms.publishing import render_pool
    from cms.publishing.builder import build_site

    render_pool.PARALLEL_THRESHOLD = render_pool.SPLIT_THRESHOLD = 10**9
    build_site(full=True, reason="bench warm-up")  # static files, renditions, warm caches, as a worker is
    profiler = cProfile.Profile()
    t0 = time.monotonic()
    profiler.enable()
    result = build_site(full=True, reason="bench profile")
    profiler.disable()
    print(f"\n== 全量构建，单进程，cProfile：{result.release.pages} 页，{time.monotonic() - t0:.1f} 秒；{uptime()}")
    print(f"    {result.release.report}")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)


LISTING_PARTS = ("/page/", "/tag/", "/street/")


def is_listing(rel: str) -> bool:
    return rel.startswith("stories/") and (
        rel in ("stories/index.html", "stories/feed.xml") or any(p in rel for p in LISTING_PARTS)
    )


def publish_one(index, profile: bool = False):
    from django.utils import timezone

    from cms.core.models import Street
    from cms.publishing.builder import current_release_dir
    from cms.publishing.models import Release
    from cms.publishing.releases import load_manifest
    from cms.stories.models import StoryPage

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
    old, new = load_manifest(before.name)["files"], load_manifest(after.name)["files"]
    touched = [f for f, meta in new.items() if old.get(f, {}).get("sig") != meta.get("sig")]
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    return (release.finished_at - started).total_seconds(), release, returned, touched


if __name__ == "__main__":
    args = parser.parse_args()
    if len(args.stories) > 1:
        curve()
    else:
        child()
