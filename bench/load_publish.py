#!/usr/bin/env python
"""The public site stays up while editors publish (a benchmark: it prints figures, it is not a test).

    .venv/bin/python bench/load_publish.py [--stories 200] [--publishes 100] [--workdir /tmp/xiaoge-load]

What it does, in a work folder under /tmp (its own SQLite database, media and SITE_DIR):
  1. generates N stories and builds the site (full build);
  2. serves SITE_DIR/current with nginx on loopback using deploy/nginx.conf, by the tests' own runner
     (tests/support/nginx_server.py, as tests/test_nginx.py runs it);
  3. puts a bounded load on it with `wrk` (fixed connections, a per-request delay: --connections,
     --delay-ms) over the home page, /stories/, one story and the Atom feed, while a separate sampler
     process (Python HTTP clients, own threads) reads the same URLs and keeps every body;
  4. meanwhile makes --publishes successive publishes: the story shown on all four URLs gets the title
     "负载测试第<n>轮" (Wagtail's API: page.save_revision().publish()), then build_site() makes a new
     release and swaps SITE_DIR/current.

It reports the requests, failed requests (non-2xx or socket errors: must be 0), requests/s and latency
percentiles (wrk's and the sampler's), the publish rate, and whether every sampled body is a complete
document (ends with </html>, or </feed> for the feed) of a release that was live while the request ran:
the round number in the body must be that of the release live when the request started or of one swapped
in before it ended.

wrk is the Debian package `wrk` (`apt-get install -y wrk`, as root). If it is missing, the script tries
that once; if wrk still cannot be run, the sampler's threads are the load (--fallback-threads clients).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import configure, generate_stories, percentile  # noqa: E402
from tests.support.nginx_server import run_nginx  # noqa: E402

TAGS = ["隐患上报", "骑士驿站", "路客联盟", "关爱老人", "培训", "志愿服务", "垃圾分类", "商户联盟"]


# ---------------------------------------------------------------------------------------------- setup
def generate(count: int, marker_title: str):
    """count stories; the newest (shown on the home page, /stories/ and the feed) gets marker_title."""
    return generate_stories(count, tags=TAGS, marker_title=marker_title)


def find_wrk() -> str | None:
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk 未安装，尝试 apt-get install -y wrk …", flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True)  # noqa: S603,S607
    return shutil.which("wrk")


# ------------------------------------------------------------------------------------------- sampler
MARKER = re.compile(r"负载测试第(\d+)轮")


def sample_loop(host: str, paths: list[str], stop, out: Path, threads: int):
    """Runs in its own process: threads of keep-alive HTTP clients; one record per response."""
    records: list[tuple] = []
    lock = threading.Lock()

    def client(k: int):
        conn = http.client.HTTPConnection(host, timeout=10)
        i = k
        mine = []
        while not stop.is_set():
            path = paths[i % len(paths)]
            gz = i % 2 == 0  # half of them as gzip, the .gz twins nginx serves (gzip_static)
            i += 1
            t0 = time.monotonic()
            try:
                conn.request("GET", path, headers={"Accept-Encoding": "gzip"} if gz else {})
                resp = conn.getresponse()
                body = resp.read()
                t1 = time.monotonic()
                if resp.getheader("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                text = body.decode("utf-8")
                end = "</feed>" if path.endswith(".xml") else "</html>"
                complete = text.rstrip().endswith(end)
                rounds = sorted({int(m) for m in MARKER.findall(text)})
                mine.append((path, t0, t1, resp.status, complete, rounds, len(body), ""))
            except Exception as exc:  # a socket error, a short body, bad gzip: all count as failures
                mine.append((path, t0, time.monotonic(), 0, False, [], 0, repr(exc)[:200]))
                conn.close()
                conn = http.client.HTTPConnection(host, timeout=10)
        with lock:
            records.extend(mine)

    workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.write_text(json.dumps(records))


# ---------------------------------------------------------------------------------------------- wrk
WRK_LUA = """
local paths = {%(paths)s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})
end
%(delay)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, "read": %%d, '
    .. '"write": %%d, "status": %%d, "timeout": %%d, "p50": %%d, "p90": %%d, "p99": %%d, "p999": %%d, "max": %%d, "mean": %%f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


def percentiles(values: list[float]) -> str:
    if not values:
        return "—"

    def p(q):
        return percentile(values, q) * 1000

    return f"p50 {p(50):.2f} ms，p90 {p(90):.2f} ms，p99 {p(99):.2f} ms，最大 {max(values) * 1000:.1f} ms"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument("--publishes", type=int, default=100)
    parser.add_argument("--workdir", default="/tmp/xiaoge-load")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--delay-ms", type=float, default=1.0, help="wrk: pause per request and connection (0: none)")
    parser.add_argument("--sampler-threads", type=int, default=2)
    parser.add_argument("--fallback-threads", type=int, default=8, help="sampler clients when wrk is missing")
    args = parser.parse_args()

    work = Path(args.workdir)
    configure(work)
    from django.db import connections

    from cms.publishing.builder import build_site, current_release_dir, site_dir
    from cms.publishing.models import Release
    from cms.stories.models import StoryPage

    load_start = os.getloadavg()
    print(f"CPU 核数 {os.cpu_count()}，开始时负载 {load_start[0]:.2f} / {load_start[1]:.2f} / {load_start[2]:.2f}")
    t0 = time.monotonic()
    story = generate(args.stories, "负载测试第0轮")
    print(f"生成 {args.stories} 篇故事：{time.monotonic() - t0:.1f} 秒", flush=True)
    t0 = time.monotonic()
    full = build_site(full=True, reason="load bench: full")
    print(f"全量构建：{full.pages} 页，{full.files} 个文件，{time.monotonic() - t0:.1f} 秒", flush=True)

    nginx = contextlib.ExitStack()  # the one nginx runner of the tests (deploy/nginx.conf on loopback)
    served = nginx.enter_context(run_nginx(work / "nginx", site_dir() / "current", connections=256))
    host, error_log = served.site.removeprefix("http://"), work / "nginx" / "error.log"
    paths = ["/", "/stories/", story.url, "/stories/feed.xml"]
    for path in paths:  # every URL is a 200 with the marker, not a redirect
        conn = http.client.HTTPConnection(host, timeout=5)
        conn.request("GET", path)
        resp = conn.getresponse()
        text = resp.read().decode()
        assert resp.status == 200, (path, resp.status)
        assert MARKER.search(text), f"{path} 不含本轮标记"
    print(f"nginx：http://{host}，网址 {paths}")

    wrk = find_wrk()
    connections.close_all()  # no SQLite connection crosses the fork
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    sample_file = work / "samples.json"
    sampler_threads = args.sampler_threads if wrk else args.fallback_threads
    sampler = ctx.Process(target=sample_loop, args=(host, paths, stop, sample_file, sampler_threads))
    sampler.start()
    wrk_proc = None
    if wrk:
        lua = work / "paths.lua"
        delay = f"delay = function() return {args.delay_ms} end" if args.delay_ms > 0 else ""
        lua.write_text(WRK_LUA % {"paths": ", ".join(f'"{p}"' for p in paths), "delay": delay})
        wrk_proc = subprocess.Popen(  # noqa: S603
            [
                wrk,
                f"-t{args.wrk_threads}",
                f"-c{args.connections}",
                "-d3600s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                str(lua),
                f"http://{host}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        print(f"wrk：{args.connections} 个连接，{args.wrk_threads} 个线程，每个请求后停 {args.delay_ms} ms")
    else:
        print(f"wrk 不可用：由 {sampler_threads} 个 Python HTTP 客户端线程施加负载")
    time.sleep(2)  # the load runs on the first release for a moment

    windows = []  # (round, build started, build returned): release <round> went live within the window
    publish_secs, build_secs = [], []
    started = time.monotonic()
    for n in range(1, args.publishes + 1):
        page = StoryPage.objects.get(pk=story.pk)
        page.title = f"负载测试第{n}轮"
        t0 = time.monotonic()
        page.save_revision().publish()
        t1 = time.monotonic()
        result = build_site(reason=f"load bench: round {n}")
        t2 = time.monotonic()
        assert result.release is not None and (current_release_dir() / page.url.strip("/") / "index.html").exists()
        windows.append((n, t1, t2))
        publish_secs.append(t1 - t0)
        build_secs.append(t2 - t1)
        if n % 10 == 0:
            print(f"  第 {n} 次发布，{time.monotonic() - started:.1f} 秒", flush=True)
    elapsed = time.monotonic() - started
    time.sleep(1)
    load_end = os.getloadavg()
    stop.set()
    wrk_stats = None
    if wrk_proc:
        wrk_proc.send_signal(signal.SIGINT)
        output, _ = wrk_proc.communicate(timeout=30)
        line = next((ln for ln in output.splitlines() if ln.startswith("WRKJSON ")), None)
        wrk_stats = json.loads(line[8:]) if line else None
        if wrk_stats is None:
            print(output)
    sampler.join(timeout=60)
    nginx.close()

    # ---------------------------------------------------------------------------- what was served
    records = json.loads(sample_file.read_text())
    windows = [(0, float("-inf"), float("-inf")), *windows]
    live_from = {n: ws for n, ws, _we in windows}  # earliest moment release n can have been live
    done_by = {n: we for n, _ws, we in windows}  # by then release n was live
    bad_status, incomplete, errors, mixed, stale, future = [], [], [], [], [], []
    seen = set()
    for path, t0, t1, status, complete, rounds, _size, err in records:
        if err:
            errors.append((path, err))
            continue
        if not 200 <= status < 300:
            bad_status.append((path, status))
        if not complete:
            incomplete.append(path)
        if len(rounds) != 1:
            mixed.append((path, rounds))
            continue
        m = rounds[0]
        seen.add(m)
        # Release m may have been served if it could be live at some moment of [t0, t1]: it went live
        # before t1 and the next one was not yet certainly live at t0.
        if live_from[m] > t1:
            future.append((path, m))
        if m + 1 in done_by and done_by[m + 1] < t0:
            stale.append((path, m))
    print("\n== 负载（nginx，deploy/nginx.conf，回环地址）")
    print(f"  发布期间共 {elapsed:.1f} 秒；负载 {load_start[0]:.2f} → {load_end[0]:.2f}（1 分钟平均，2 核）")
    if wrk_stats:
        secs = wrk_stats["duration_us"] / 1e6
        failed = sum(wrk_stats[k] for k in ("connect", "read", "write", "status", "timeout"))
        print(
            f"  wrk：{wrk_stats['requests']} 个请求，{wrk_stats['requests'] / secs:.0f} 请求/秒，"
            f"{wrk_stats['bytes'] / secs / 1e6:.1f} MB/秒；失败 {failed}"
            f"（connect {wrk_stats['connect']}，read {wrk_stats['read']}，write {wrk_stats['write']}，"
            f"非 2xx/3xx {wrk_stats['status']}，timeout {wrk_stats['timeout']}）"
        )
        print(
            f"  wrk 延迟：p50 {wrk_stats['p50'] / 1000:.2f} ms，p90 {wrk_stats['p90'] / 1000:.2f} ms，"
            f"p99 {wrk_stats['p99'] / 1000:.2f} ms，p99.9 {wrk_stats['p999'] / 1000:.2f} ms，最大 {wrk_stats['max'] / 1000:.1f} ms"
            f"（不含 wrk 每请求 {args.delay_ms} ms 的停顿）"
        )
    s_secs = max(r[2] for r in records) - min(r[1] for r in records)
    print(
        f"  采样客户端（{sampler_threads} 线程，保存每个响应体）：{len(records)} 个请求，{len(records) / s_secs:.0f} 请求/秒；"
        f"{percentiles([r[2] - r[1] for r in records])}"
    )
    print(
        f"  失败：非 2xx {len(bad_status)}，套接字/解码错误 {len(errors)}，不完整的文档 {len(incomplete)}，"
        f"标记不唯一 {len(mixed)}"
    )
    print(
        f"  版本归属：每个响应都是请求期间在线的版本 —— 过时 {len(stale)}，来自未来 {len(future)}；"
        f"采样看到 {len(seen)} 个不同版本（共 {args.publishes + 1} 个）"
    )
    for name, items in (("非 2xx", bad_status), ("错误", errors), ("不完整", incomplete), ("混合", mixed)):
        for item in items[:5]:
            print(f"    {name}：{item}")
    for name, items in (("过时", stale), ("未来", future)):
        for item in items[:5]:
            print(f"    {name}：{item}")
    log = error_log.read_text() if error_log.exists() else ""
    print(f"  nginx error.log：{len(log.splitlines())} 行" + (f"，首行：{log.splitlines()[0]}" if log else ""))
    print("\n== 发布（page.save_revision().publish()，然后 build_site()，每次一个新版本）")
    print(
        f"  {args.publishes} 次发布，{elapsed:.1f} 秒：{args.publishes / elapsed * 60:.1f} 次/分钟；"
        f"publish() 中位数 {statistics.median(publish_secs):.3f} 秒，build_site() 中位数 "
        f"{statistics.median(build_secs):.3f} 秒（{min(build_secs):.2f}–{max(build_secs):.2f}，含 Pagefind 索引版本）"
    )
    last = Release.objects.filter(content_of__isnull=True).order_by("-pk").first()
    print(f"  最后一个页面版本：{last.name}，重新渲染 {last.rendered}/{last.files} 个文件；{last.report}")
    failed_total = len(bad_status) + len(errors) + len(incomplete) + len(mixed) + len(stale) + len(future)
    if wrk_stats:
        failed_total += sum(wrk_stats[k] for k in ("connect", "read", "write", "status", "timeout"))
    print(f"\n结果：{'通过' if failed_total == 0 else '未通过'}（失败 {failed_total}，目标 0）")
    return 0 if failed_total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
