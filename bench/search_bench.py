#!/usr/bin/env python
"""Benchmark of the public site's static search index (not a test: it prints figures; only recall is checked).

    .venv/bin/python bench/search_bench.py [--sizes 2000 20000] [--workdir /tmp/xiaoge-search-bench]

For each size, in a process of its own (so that its max RSS is its own), N stories are generated from the
sentences of the real Markdown under content/ (no database: records go straight to store_record), indexed by
cms.publishing.search.update_index, and served with their pages, the built search page and its static files
(from site/current, with the working tree's search.js and analyzer.js) by tests.support.browser.serve. It prints:

  1. the full index (compact=True): time, tracemalloc peak of the call (a second run, up to
     --trace-full-max stories: tracemalloc makes it ~4x slower), max RSS, size on disk, files, index.json;
  2. one publish's search update (a new story; an existing one changed; a delta at DELTA_LIMIT), median of
     --publishes runs, max and tracemalloc peak, and the compaction that follows once the delta passes
     DELTA_LIMIT. Targets: at the largest size <= 1.2x the time at the smallest, and < 300 MB;
  3. bytes over the wire (Brotli, as Chromium accepts it) for a first query on a fresh page and a second one.
     Target: a first query <= 150 KB;
  4. find(query) p50/p95 in Chromium, cold (a new browser context each) and warm, and the time until the
     search page lists its results;
  5. recall (must be 100 %; the exit status is 1 otherwise) and precision of IndexReader.find over sampled
     words, and of find() in Chromium.

Times are wall clock and, for update_index, also this process's CPU time: on a shared machine the load
average (printed at the start and end of each size) moves wall times far more than CPU times.
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import socketserver
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402

QUERIES = [
    "外卖骑手",
    "网格员",
    "党支部",
    "陶然亭",
    "同心驿站",
    "快递员",
    "骑士驿站",
    "隐患",
    "独居老人",
    "副楼长",
    "AED",
    "心肺复苏",
]
# First query, then a different one on the same page (bytes downloaded).
QUERY_PAIRS = [
    ("外卖骑手", "网格员"),
    ("陶然亭", "心肺复苏"),
    ("独居老人", "AED"),
    ("党支部", "隐患"),
    ("骑士驿站", "快递员"),
]
PUBLISH_TARGET_RATIO = 1.2
PUBLISH_TARGET_MB = 300
FIRST_QUERY_TARGET_KB = 150

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉萍红鹏飞宇浩然欣怡子轩梓涵诺思远博文俊晨阳雨婷嘉琪佳慧建国志海燕晓东春梅秋菊冬生德胜永福金凤兰荣立新秀云翠"
PLACES = ["社区", "小区", "胡同", "家园", "里", "苑", "北街", "南路"]
STREETS = ["陶然亭街道", "建外街道", "回龙观街道"]
HAN = re.compile(r"[\u4e00-\u9fff]")


def log(msg: str = ""):
    print(msg, flush=True)


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB"


# ---------------------------------------------------------------------------------------------- texts


def sentence_pool() -> list[str]:
    """The sentences (split on 。！？) of the real Markdown under content/, with their front matter's texts."""
    found: set[str] = set()
    for path in sorted((ROOT / "content").rglob("*.md")):
        text = path.read_text()
        if text.startswith("---"):
            front, _, text = text[3:].partition("\n---")
            for line in front.splitlines():
                m = re.match(r"\s*(title|summary|caption|label|alt):\s*(.+)", line)
                if m:
                    text += "\n" + m.group(2)
        text = re.sub(r"^:::.*?^:::", "", text, flags=re.S | re.M)  # figure blocks: key: value lines
        text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
        text = re.sub(r"^[#>\-*\s|]+|^\d+\.\s*|[*_`]+", "", text, flags=re.M)
        for line in text.splitlines():
            if re.match(r"^[a-z_]+:", line):
                continue
            for piece in re.findall(r"[^。！？]+[。！？]?", line):
                piece = piece.strip()
                if len(HAN.findall(piece)) >= 6:
                    # A line's last piece may have no full stop: give it one, so that sentences put side by
                    # side in a paragraph do not run into each other ("打120" + "AED的" is "120aed", one word).
                    found.add(piece if piece[-1] in "。！？" else piece + "。")
    return sorted(found)


class Stories:
    """Seeded stories of 800–1,500 characters from the program's own sentences, with names, places and
    numbers varied per story (the vocabulary a growing site adds), and their pages in the real story
    template (site/current), whose search region gives exactly the record built here."""

    def __init__(self, seed: int, template: str):
        self.seed = seed
        self.pool = sentence_pool()
        self.pieces = sorted(
            {p.strip() for s in self.pool for p in re.split(r"[，、：；。！？“”（）]", s) if 4 <= len(p.strip()) <= 14}
        )
        self.pieces = [p for p in self.pieces if len(HAN.findall(p)) >= 4]
        head, rest = template.split('<article class="story" data-search-body', 1)
        tail = rest[rest.index('\n    <footer class="story__footer" data-search-ignore>') :]
        self.template_title = re.search(r"<h1 data-search-title>(.*?)</h1>", rest).group(1)
        self.head, self.tail = head, tail

    def name(self, rng) -> str:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))

    def sentence(self, rng, people, place) -> str:
        s = rng.choice(self.pool)
        if rng.random() < 0.5:
            s = re.sub(r"\d+", lambda m: str(rng.randrange(1, 10 ** len(m.group()))), s)
        roll = rng.random()
        if roll < 0.12:
            s = f"{rng.choice(people)}说：{s}"
        elif roll < 0.2:
            s = f"在{place}，{s}"
        return s

    def story(self, i: int, revision: int = 0) -> tuple[str, dict, str]:
        """(release file, search record, page HTML) of story i."""
        rng = random.Random(f"{self.seed}-{i}-{revision}")
        people = [self.name(rng) for _ in range(rng.randint(1, 3))]
        place = "".join(rng.choice(GIVEN) for _ in range(2)) + rng.choice(PLACES)
        title = "：".join(rng.sample(self.pieces, rng.randint(1, 2)))
        summary = self.sentence(rng, people, place)
        section = rng.choice(STREETS)
        date = f"{rng.randint(2019, 2026)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
        target = rng.randint(800, 1500)
        blocks: list[tuple[str, str]] = []
        size = len(title) + len(summary)
        while size < target:
            if blocks and rng.random() < 0.3:
                blocks.append(("h2", rng.choice(self.pieces)))
                size += len(blocks[-1][1])
            para = "".join(self.sentence(rng, people, place) for _ in range(rng.randint(2, 5)))
            blocks.append(("p", para))
            size += len(para)
        minutes = max(1, size // 500)
        meta = f"{date} {section} 阅读约 {minutes} 分钟"
        slug = f"g{i:05d}"
        url = f"/stories/{slug}/"
        text = "\n".join([title, summary, meta, *(b for _, b in blocks)])
        record = {"url": url, "title": title, "kind": "故事", "section": section, "text": text}
        e = html.escape
        prose = "\n".join(f"<{tag}>{e(body, quote=False)}</{tag}>" for tag, body in blocks)
        page = (
            self.head.replace(self.template_title, e(title, quote=False))
            + f'<article class="story" data-search-body data-search-kind="故事" data-search-section="{e(section)}">\n'
            + '    <header class="story__header">\n'
            + f"      <h1 data-search-title>{e(title, quote=False)}</h1>\n"
            + f'      <p class="story__summary">{e(summary, quote=False)}</p>\n'
            + f'      <p class="story__meta"><time datetime="2023-03-21">{date}</time> <a href="/stories/">{e(section)}</a>'
            + f" <span>阅读约 {minutes} 分钟</span></p>\n"
            + "    </header>\n"
            + f'    <div class="prose">\n{prose}\n    </div>'
            + self.tail
        )
        return f"stories/{slug}/index.html", record, page


_WORKER: dict = {}  # what the generating processes inherit (fork)


def write_story_page(rel: str, page: str) -> int:
    import brotli

    path = _WORKER["release"] / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = page.encode()
    path.write_bytes(data)
    path.with_name(path.name + ".br").write_bytes(brotli.compress(data, quality=7))  # as put_file does
    return len(data)


def make_stories(span: tuple[int, int]) -> list:
    """Stories start…end: records stored, pages written (in a worker process)."""
    from cms.publishing import search

    made = []
    for i in range(*span):
        rel, record, page = _WORKER["gen"].story(i)
        made.append((rel, search.store_record(record), record, write_story_page(rel, page)))
    return made


def sample_words(texts: dict[str, str], count: int, rng, low: int = 2, high: int = 6) -> list[str]:
    """Chinese words of low–high characters cut at random places from the pages' texts."""
    from cms.core import analyzer

    urls = sorted(texts)
    words: set[str] = set()
    while len(words) < count:
        runs = [r for r, han in analyzer.runs(texts[rng.choice(urls)]) if han and len(r) >= low]
        if not runs:
            continue
        run = rng.choice(runs)
        size = rng.randint(low, min(high, len(run)))
        start = rng.randrange(len(run) - size + 1)
        words.add(run[start : start + size])
    return sorted(words)


# ---------------------------------------------------------------------------------------------- one size


def index_files(folder: Path) -> dict:
    raw = br = gz = 0
    count = twins = 0
    for path in (folder / "searchindex").iterdir():
        size = path.stat().st_size
        if path.name.endswith(".br"):
            br += size
            twins += 1
        elif path.name.endswith(".gz"):
            gz += size
            twins += 1
        else:
            raw += size
            count += 1
    return {"raw": raw, "br": br, "gz": gz, "files": count, "twins": twins}


def copy_index(src: Path, dst: Path):
    """A publish's release starts as a hard-link copy of the live one (the builder's cp -al)."""
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    subprocess.run(["cp", "-al", str(src / "searchindex"), str(dst / "searchindex")], check=True)  # noqa: S603,S607


def timed_update(search, put, out: Path, docs: dict, previous, compact: bool, trace: bool = False, touched=None):
    """update_index once: (result, wall seconds, CPU seconds of this process, tracemalloc peak or 0). touched:
    the files the publish wrote or removed, as the builder passes them."""
    gc.collect()
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    result = search.update_index(out, docs, previous, put, compact=compact, touched=touched)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, seconds, cpu, peak


def run_size(args, n: int) -> dict:
    work = Path(args.workdir) / str(n)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ.update(DJANGO_SETTINGS_MODULE="cms.settings.dev", SITE_DIR=str(work / "site"))
    import django

    django.setup()
    from cms.core import analyzer
    from cms.publishing import search
    from cms.publishing.builder import put_file

    out: dict = {"n": n}
    t0 = time.perf_counter()

    def step(msg):
        log(f"  [{time.perf_counter() - t0:6.1f} s] {msg}")

    log(f"\n=== {n:,} stories ===  load average at start: {load_text()}  (nproc {os.cpu_count()})")
    live = (ROOT / "site" / "current").resolve()
    story_page = next(p for p in sorted((live / "stories").glob("*/index.html")) if "data-search-body" in p.read_text())
    gen = Stories(args.seed, story_page.read_text())
    step(f"sentence pool: {len(gen.pool):,} sentences from content/, {len(gen.pieces):,} title pieces")

    # -- stories, records and pages -------------------------------------------------------------------
    release = work / "release"
    docs: dict[str, str] = {}
    records: dict[str, dict] = {}  # url → record (what the index should hold)
    for i in range(30):
        rel, record, page = gen.story(i)
        got = search.extract_record(record["url"], page)
        if got != record:
            raise SystemExit(f"generated page and record disagree for {rel}:\n{got}\n{record}")
    _WORKER.update(gen=gen, release=release)
    chars, page_bytes = 0, 0
    starts = range(0, n, 500)
    with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
        for k, made in enumerate(pool.imap(make_stories, [(i, min(n, i + 500)) for i in starts])):
            for rel, key, record, size in made:
                docs[rel] = key
                records[record["url"]] = record
                chars += len(record["text"])
                page_bytes += size
            if (k + 1) % 10 == 0:
                step(f"generated {(k + 1) * 500:,} stories")
    step(
        f"generated {n:,} stories, records stored, pages written: {chars / n:,.0f} characters per record on average, "
        f"pages {page_bytes / n / 1024:.1f} KB on average"
    )

    # -- 1. full index ---------------------------------------------------------------------------------
    log("\n  1. Full index (update_index(..., compact=True) over every record)")
    rss_before = rss_mb()
    full, seconds, cpu, _ = timed_update(search, put_file, release, docs, None, True)
    rss_after_full = maxrss_mb()
    peak, traced_seconds = 0, 0.0
    if n <= args.trace_full_max:
        scratch = work / "scratch"
        shutil.rmtree(scratch, ignore_errors=True)
        _, traced_seconds, _, peak = timed_update(search, put_file, scratch, docs, None, True, trace=True)
        shutil.rmtree(scratch, ignore_errors=True)
    files = index_files(release)
    entry_path = release / "searchindex" / "index.json"
    entry = json.loads(entry_path.read_text())
    entry_br = entry_path.with_name("index.json.br")
    base_seg = entry["segments"][0]
    log(f"     time                    {seconds:8.2f} s wall, {cpu:.2f} s CPU   ({n / seconds:,.0f} documents/s)")
    if peak:
        log(
            f"     tracemalloc peak        {peak / 1e6:8.1f} MB   (a second run, {traced_seconds:.0f} s under tracemalloc)"
        )
    else:
        log(
            f"     tracemalloc peak               -   (not traced above --trace-full-max {args.trace_full_max}: ~4x the time)"
        )
    log(
        f"     process max RSS         {rss_after_full:8.1f} MB   (RSS before the call {rss_before:.1f} MB: "
        f"the call grew it by up to {rss_after_full - rss_before:,.0f} MB)"
    )
    log(f"     index on disk           {mb(files['raw'])} raw, {mb(files['br'])} .br, {mb(files['gz'])} .gz")
    log(
        f"     files                   {files['files']:,} ({base_seg['b']:,} buckets, {-(-n // entry['table']):,} tables, "
        f"index.json) + {files['twins']:,} compressed twins"
    )
    log(
        f"     index.json              {kb(entry_path.stat().st_size)} raw, "
        f"{kb(entry_br.stat().st_size) if entry_br.exists() else '-'} .br"
    )
    state_bytes = len(json.dumps(full.state))
    log(f"     search state            {kb(state_bytes)} of JSON in each release's manifest")
    out["full"] = {
        "seconds": seconds,
        "cpu": cpu,
        "peak": peak,
        "maxrss_mb": rss_after_full,
        "rss_before_mb": rss_before,
        **files,
        "entry": entry_path.stat().st_size,
        "entry_br": entry_br.stat().st_size if entry_br.exists() else 0,
        "state": state_bytes,
    }

    # -- 2. one publish's search update ----------------------------------------------------------------
    log(f"\n  2. One publish's search update (update_index(..., previous state, compact=False), {args.publishes} runs)")
    base_state = full.state
    pub = work / "publish"

    def publish_runs(label: str, make_docs, previous, source: Path, reps: int, before: dict) -> dict:
        """before: the files as the previous state has them (what the publish changes is touched)."""
        walls, cpus, last = [], [], None

        def touched(new_docs):
            return {rel for rel in new_docs.keys() | before.keys() if new_docs.get(rel) != before.get(rel)}

        for k in range(reps):
            new_docs = make_docs(k)
            told = touched(new_docs)
            copy_index(source, pub)
            last, wall, cpu, _ = timed_update(search, put_file, pub, new_docs, previous, False, touched=told)
            walls.append(wall)
            cpus.append(cpu)
        copy_index(source, pub)
        new_docs = make_docs(reps)
        _, _, _, peak = timed_update(
            search, put_file, pub, new_docs, previous, False, trace=True, touched=touched(new_docs)
        )
        median, cpu = statistics.median(walls), statistics.median(cpus)
        log(
            f"     {label:<27} median {median * 1000:7.1f} ms (CPU {cpu * 1000:6.1f} ms)   max {max(walls) * 1000:7.1f} ms   "
            f"tracemalloc peak {peak / 1e6:5.1f} MB   [delta {last.state['delta']['n']} docs, "
            f"needs compaction: {last.needs_compaction}]"
        )
        return {"median": median, "cpu": cpu, "max": max(walls), "peak": peak, "times": walls, "cpus": cpus}

    extra: dict[int, tuple[str, dict, str]] = {}

    def new_story(k: int):
        if k not in extra:
            extra[k] = gen.story(n + k)
            search.store_record(extra[k][1])
        return extra[k]

    def with_new(k):
        rel, record, _ = new_story(k)
        return {**docs, rel: search.record_digest(record)}

    rels = sorted(docs)
    changed: dict[int, tuple[str, dict, str]] = {}

    def with_changed(k):
        if k not in changed:
            rel = rels[random.Random(k).randrange(len(rels))]
            i = int(rel.split("/")[1][1:])
            changed[k] = gen.story(i, revision=1 + k)
            search.store_record(changed[k][1])
        rel, record, _ = changed[k]
        return {**docs, rel: search.record_digest(record)}

    out["publish_new"] = publish_runs("a new story", with_new, base_state, release, args.publishes, docs)
    out["publish_changed"] = publish_runs(
        "an existing story changed", with_changed, base_state, release, args.publishes, docs
    )

    # A delta just under DELTA_LIMIT: the largest a publish's update gets before a compaction.
    limit = search.DELTA_LIMIT
    big = dict(docs)
    for k in range(100, 100 + limit - 1):
        rel, record, _ = new_story(k)
        big[rel] = search.record_digest(record)
    near = work / "near-limit"
    copy_index(release, near)
    near_state = search.update_index(near, big, base_state, put_file, compact=False).state

    def with_big(k):
        rel, record, _ = new_story(1000 + k)
        return {**big, rel: search.record_digest(record)}

    out["publish_limit"] = publish_runs(f"new story, delta at {limit}", with_big, near_state, near, 3, big)
    copy_index(near, pub)
    compaction_docs = with_big(0)
    result, comp_seconds, comp_cpu, _ = timed_update(search, put_file, pub, compaction_docs, None, True)
    log(
        f"     compaction (the delta of {len(compaction_docs) - n} folded into a new base of {result.indexed:,}, "
        f"update_index(..., None, compact=True) in a hard-link copy): {comp_seconds:.2f} s wall, {comp_cpu:.2f} s CPU"
    )
    out["compaction"] = comp_seconds
    out["compaction_cpu"] = comp_cpu
    shutil.rmtree(near, ignore_errors=True)
    shutil.rmtree(pub, ignore_errors=True)

    def write_page(rel: str, page: str):
        _WORKER.update(release=release)
        write_story_page(rel, page)

    # The served release: the base and a delta of a new story and a changed one, as after a publish.
    rel_new, rec_new, page_new = new_story(0)
    rel_chg, rec_chg, page_chg = changed[0]
    final_docs = {**docs, rel_new: search.record_digest(rec_new), rel_chg: search.record_digest(rec_chg)}
    search.update_index(release, final_docs, base_state, put_file, compact=False)
    write_page(rel_new, page_new)
    write_page(rel_chg, page_chg)
    records[rec_new["url"]] = rec_new
    records[rec_chg["url"]] = rec_chg
    texts = {url: analyzer.normalize(r["title"] + "\n" + r["text"]) for url, r in records.items()}

    # -- 5a. recall through the Python reader ----------------------------------------------------------
    log(f"\n  5. Recall and precision ({args.words} sampled words of 2–6 characters, and the program's words)")
    rng = random.Random(args.seed)
    words = sorted(set(sample_words(texts, args.words, rng)) | set(QUERIES))
    reader = search.IndexReader(release)
    started = time.perf_counter()
    missed, got_total, right_total, empty = {}, 0, 0, 0
    truth: dict[str, set[str]] = {}
    for word in words:
        key = analyzer.normalize(word)
        want = {url for url, text in texts.items() if key in text}
        truth[word] = want
        got = reader.find(word)
        if want - got:
            missed[word] = len(want - got)
        got_total += len(got)
        right_total += len(got & want)
        empty += not want
    recall = 1 - len(missed) / len(words)
    precision = right_total / got_total if got_total else 1.0
    log(
        f"     IndexReader.find: {len(words)} words, recall {recall:.1%} "
        f"({'every page found' if not missed else f'MISSED pages for {len(missed)} words: {dict(list(missed.items())[:10])}'}), "
        f"precision {precision:.1%} ({right_total:,} of {got_total:,} pages found hold the word), "
        f"{(time.perf_counter() - started) * 1000 / len(words):.1f} ms/word"
    )
    fixed = ", ".join(f"{w} {len(truth[w])}" for w in QUERIES)
    log(f"     pages holding the program's words: {fixed}; {empty} of the {len(words)} words are on no page")
    out["recall"] = recall
    out["precision"] = precision

    # -- 3, 4, 5b. in Chromium -------------------------------------------------------------------------
    if not args.no_browser:
        out.update(browser_figures(args, n, release, live, words, truth, texts, rng, step))

    log(f"\n  load average at end: {load_text()}   total {time.perf_counter() - t0:.0f} s")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return out


# ---------------------------------------------------------------------------------------------- browser


def prepare_release(release: Path, live: Path) -> str:
    """The built search page and static files beside the generated index and pages; the working tree's
    search.js and analyzer.js under the built names (they may be newer than site/current's build)."""
    from cms.publishing.builder import compress_twins

    (release / "search").mkdir(exist_ok=True)
    for name in ("index.html", "index.html.br", "index.html.gz"):
        if (live / "search" / name).exists():
            shutil.copy(live / "search" / name, release / "search" / name)
    shutil.rmtree(release / "static", ignore_errors=True)
    shutil.copytree(live / "static", release / "static")
    page = (live / "search" / "index.html").read_text()
    js = release / "static" / "js"
    notes = []
    loaded = re.search(r'src="/static/js/(search\.[0-9a-f]+\.js)"', page)
    if not loaded:
        raise SystemExit("site/current/search/index.html loads no search.<hash>.js: run make setup")
    todo, done = [loaded.group(1)], set()
    while todo:  # search.js and the modules it imports, each under its built name
        name = todo.pop()
        done.add(name)
        source = (ROOT / "site_templates" / "static" / "js" / (name.split(".")[0] + ".js")).read_text()

        def built_name(m):
            found = sorted(js.glob(f"{m.group(2)}.*.js"))
            if not found:
                notes.append(f"no built {m.group(2)}.js in site/current")
                return m.group(0)
            if found[0].name not in done:
                todo.append(found[0].name)
            return f'{m.group(1)}"./{found[0].name}"'

        source = re.sub(r'(from\s*)"\./([\w-]+)\.js"', built_name, source)
        if source != (js / name).read_text():
            notes.append(f"{name.split('.')[0]}.js from the working tree (differs from site/current's build)")
            (js / name).write_text(source)
            for suffix in (".br", ".gz"):
                (js / (name + suffix)).unlink(missing_ok=True)
            compress_twins(js / name)
    return "; ".join(notes) or "site/current's search.js and its modules (the same as the working tree)"


def category(url: str) -> str:
    path = urlparse(url).path
    if path.startswith("/searchindex/"):
        name = path.rsplit("/", 1)[1]
        return {"c": "buckets", "d": "tables"}.get(name[:1], "index.json")
    if path.startswith("/stories/"):
        return "excerpts"
    return "page"


CATEGORIES = ["page", "index.json", "buckets", "tables", "excerpts"]

IMPORT = "(await import(document.querySelector('script[type=module]').src))"
FIND = (
    "async (q) => { const m = " + IMPORT + "; const t = performance.now(); const r = await m.find(q);"
    " return [performance.now() - t, r]; }"
)
# The search box as a reader submits it: time until the status shows the count (first results listed).
UI = """async (q) => {
  const status = document.querySelector('[data-search-status]');
  const form = document.querySelector('[data-search-form]');
  status.textContent = '';
  const done = () => /^(找到|没有找到|搜索暂时)/.test(status.textContent);
  const t = performance.now();
  form.querySelector('input[name=q]').value = q;
  form.requestSubmit();
  await new Promise((resolve) => {
    if (done()) return resolve();
    new MutationObserver((_, o) => { if (done()) { o.disconnect(); resolve(); } })
      .observe(status, { childList: true, characterData: true, subtree: true });
  });
  return [performance.now() - t, status.textContent];
}"""


class Traffic:
    """Every response of a page, by category: the body's bytes as sent (Content-Length of the .br twin)."""

    def __init__(self, page):
        self.requests: list = []
        self.pending = 0
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)

    def _start(self, request):
        self.pending += 1
        self.requests.append(request)

    def _end(self, request):
        self.pending -= 1

    def settle(self, page, quiet_ms: int = 400, timeout: float = 60):
        """Until the search status is final and no request has been open for quiet_ms."""
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            status = page.evaluate("document.querySelector('[data-search-status]').textContent")
            if self.pending == 0 and status and not status.startswith("正在"):
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= quiet_ms / 1000:
                    return status
            else:
                quiet_since = None
            page.wait_for_timeout(50)
        raise TimeoutError("the search page did not settle")

    def take(self) -> dict:
        """Bytes and counts by category since the last take; also checks the compressed twin was sent."""
        sums = {c: 0 for c in CATEGORIES}
        counts = {c: 0 for c in CATEGORIES}
        uncompressed = []
        for request in self.requests:
            response = request.response()
            if response is None:
                continue
            headers = response.headers
            body = request.sizes()["responseBodySize"]
            length = int(headers.get("content-length", body))
            if body > 0 and body != length:
                uncompressed.append(f"{request.url} body {body} ≠ content-length {length}")
            cat = category(request.url)
            sums[cat] += length
            counts[cat] += 1
            if headers.get("content-encoding") != "br" and length > 1024 and not request.url.endswith(".svg"):
                uncompressed.append(f"{urlparse(request.url).path} sent without br ({length} bytes)")
        self.requests = []
        return {"bytes": sums, "counts": counts, "warnings": uncompressed}


def browser_figures(args, n, release, live, words, truth, texts, rng, step) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import launch, serve

    out: dict = {}
    handle_error = socketserver.BaseServer.handle_error

    def quiet(server, request, client_address):  # a closed context leaves excerpt fetches unfinished
        if not isinstance(sys.exc_info()[1], ConnectionError):
            handle_error(server, request, client_address)

    socketserver.BaseServer.handle_error = quiet
    note = prepare_release(release, live)
    step(f"release for Chromium ready: {note}")
    queries = list(QUERIES) + sample_words(texts, args.queries - len(QUERIES), random.Random(args.seed + 1), 2, 4)
    rare = sample_words(texts, 2, random.Random(args.seed + 2), 5, 6)
    pairs = [*QUERY_PAIRS, (rare[0], rare[1])]
    with serve(release) as base, sync_playwright() as p:
        browser = launch(p)
        step(f"Chromium {browser.version}")

        # -- 3. bytes -------------------------------------------------------------------------------
        log(
            "\n  3. Bytes over the wire (response bodies as sent, Brotli; a fresh browser context per pair; "
            "search page = HTML+CSS+JS+icon)"
        )
        log(
            f"     {'first → second query':<22} {'results':>13}  {'first: total':>12} = {'page':>8} + {'index':>8}"
            f" + {'excerpts':>8}   {'second: total':>13} = {'index':>8} + {'excerpts':>8}"
        )
        rows = []
        warnings: list[str] = []
        for first, second in pairs:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            traffic = Traffic(page)
            page.goto(f"{base}/search/?q={quote(first)}")
            status1 = traffic.settle(page)
            a = traffic.take()
            page.evaluate("document.querySelector('[data-search-status]').textContent = ''")
            page.fill("#search-q", second)
            page.press("#search-q", "Enter")
            status2 = traffic.settle(page)
            b = traffic.take()
            context.close()
            warnings += a["warnings"] + b["warnings"]

            def parts(t):
                s = t["bytes"]
                return s["page"], s["index.json"] + s["buckets"] + s["tables"], s["excerpts"]

            pa, ia, ea = parts(a)
            pb, ib, eb = parts(b)
            count1 = re.sub(r"\D", "", status1) or "0"
            count2 = re.sub(r"\D", "", status2) or "0"
            log(
                f"     {first + ' → ' + second:<22} {count1:>6}/{count2:<6}  {kb(pa + ia + ea):>12} = {kb(pa):>8} + "
                f"{kb(ia):>8} + {kb(ea):>8}   {kb(pb + ib + eb):>13} = {kb(ib):>8} + {kb(eb):>8}"
            )
            detail = ", ".join(f"{c} {a['counts'][c]} ({kb(a['bytes'][c])})" for c in CATEGORIES)
            detail2 = ", ".join(f"{c} {b['counts'][c]} ({kb(b['bytes'][c])})" for c in CATEGORIES[1:])
            log(f"        first: {detail}\n        second: {detail2}")
            rows.append({"pair": [first, second], "first": a, "second": b, "first_total": pa + ia + ea,
                         "first_index": ia, "second_total": pb + ib + eb, "second_index": ib})  # fmt: skip
        for warning in sorted(set(warnings))[:10]:
            log(f"     WARNING: {warning}")
        worst = max(rows, key=lambda r: r["first_total"])
        log(
            f"     first query: max {kb(worst['first_total'])} ({worst['pair'][0]}), median "
            f"{kb(statistics.median(r['first_total'] for r in rows))}; index part max "
            f"{kb(max(r['first_index'] for r in rows))}; second query max {kb(max(r['second_total'] for r in rows))}"
            f" — target first query ≤ {FIRST_QUERY_TARGET_KB} KB: "
            f"{'holds' if worst['first_total'] <= FIRST_QUERY_TARGET_KB * 1024 else 'MISSED'}"
        )
        out["bytes"] = rows

        # -- 4. query time --------------------------------------------------------------------------
        log(
            f"\n  4. Query time in Chromium ({len(queries)} queries: the program's words and sampled 2–4 character words)"
        )

        def fresh_page():
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{base}/search/")
            page.evaluate("async () => { " + IMPORT + "; }")
            return context, page

        cold_find, cold_ui, counts = [], [], []
        for k, q in enumerate(queries):
            context, page = fresh_page()
            ms, found = page.evaluate(FIND, q)
            context.close()
            cold_find.append(ms)
            counts.append(len(found))
            context, page = fresh_page()
            ms, _status = page.evaluate(UI, q)
            context.close()
            cold_ui.append(ms)
            if (k + 1) % 25 == 0:
                step(f"cold queries: {k + 1}/{len(queries)}")
        context, page = fresh_page()
        for q in queries:
            page.evaluate(FIND, q)
        warm_find = [page.evaluate(FIND, q)[0] for q in queries]
        for q in queries:
            page.evaluate(UI, q)
        warm_ui = [page.evaluate(UI, q)[0] for q in queries]

        def line(label, values):
            log(
                f"     {label:<44} p50 {percentile(values, 50):7.1f} ms   p95 {percentile(values, 95):7.1f} ms   max {max(values):7.1f} ms"
            )

        line("find(q), cold (new context, page loaded)", cold_find)
        line("find(q), warm", warm_find)
        line("search box until results listed, cold", cold_ui)
        line("search box until results listed, warm", warm_ui)
        log(f"     results per query: median {statistics.median(counts):.0f}, max {max(counts)}")
        out["query"] = {"cold_find": cold_find, "warm_find": warm_find, "cold_ui": cold_ui, "warm_ui": warm_ui}

        # -- 5b. recall in Chromium -----------------------------------------------------------------
        spot = random.Random(args.seed + 3).sample(words, min(args.browser_words, len(words)))
        missed, got_total, right_total = {}, 0, 0
        for word in spot:
            found = set(page.evaluate(FIND, word)[1])
            want = truth[word]
            if want - found:
                missed[word] = len(want - found)
            got_total += len(found)
            right_total += len(found & want)
        context.close()
        browser.close()
        recall = 1 - len(missed) / len(spot)
        log(
            f"\n     find() in Chromium: {len(spot)} words, recall {recall:.1%}"
            f"{' MISSED ' + str(missed) if missed else ''}, precision {right_total / max(got_total, 1):.1%}"
        )
        out["browser_recall"] = recall
    return out


# ---------------------------------------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--workdir", default="/tmp/xiaoge-search-bench")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--publishes", type=int, default=5, help="timed runs of each publish update")
    parser.add_argument("--words", type=int, default=200, help="sampled words for the recall check")
    parser.add_argument("--browser-words", type=int, default=20, help="of those, checked through find() in Chromium")
    parser.add_argument("--queries", type=int, default=50, help="queries timed in Chromium")
    parser.add_argument(
        "--trace-full-max",
        type=int,
        default=2000,
        help="trace the full index with tracemalloc up to this size (a second run, ~4x slower: 8 min at 20,000)",
    )
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated files under --workdir")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size, in this process
    args = parser.parse_args()

    if args.one:
        result = run_size(args, args.one)
        Path(args.workdir, f"result-{args.one}.json").write_text(json.dumps(result, ensure_ascii=False))
        if result["recall"] < 1 or result.get("browser_recall", 1) < 1:
            sys.exit(1)
        return

    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    log(f"Search index benchmark — nproc {os.cpu_count()}, load average {load_text()}, sizes {args.sizes}")
    results, failed = [], False
    for n in args.sizes:
        Path(args.workdir, f"result-{n}.json").unlink(missing_ok=True)
        child = [sys.executable, __file__, "--one", str(n), *sys.argv[1:]]
        code = subprocess.run(child, check=False).returncode  # noqa: S603
        failed |= code != 0
        path = Path(args.workdir, f"result-{n}.json")
        if path.exists():
            results.append(json.loads(path.read_text()))
    if len(results) >= 2:
        small, large = results[0], results[-1]
        log(
            f"\n=== Publish update, {large['n']:,} vs {small['n']:,} stories (target ≤ {PUBLISH_TARGET_RATIO}× and < {PUBLISH_TARGET_MB} MB) ==="
        )
        for key, label in (("publish_new", "a new story"), ("publish_changed", "an existing story changed"),
                           ("publish_limit", "delta at DELTA_LIMIT")):  # fmt: skip
            ratio = large[key]["median"] / small[key]["median"]
            cpu_ratio = large[key]["cpu"] / small[key]["cpu"]
            peak = large[key]["peak"] / 1e6
            ok = max(ratio, cpu_ratio) <= PUBLISH_TARGET_RATIO and peak < PUBLISH_TARGET_MB
            log(
                f"  {label:<26} wall {small[key]['median'] * 1000:7.1f} → {large[key]['median'] * 1000:7.1f} ms "
                f"({ratio:.2f}×), CPU {small[key]['cpu'] * 1000:7.1f} → {large[key]['cpu'] * 1000:7.1f} ms "
                f"({cpu_ratio:.2f}×), peak {small[key]['peak'] / 1e6:.1f} → {peak:.1f} MB: {'holds' if ok else 'MISSED'}"
            )
        f_small, f_large = small["full"], large["full"]
        log(
            f"  full index {f_small['seconds']:.1f} s → {f_large['seconds']:.1f} s (CPU {f_small['cpu']:.1f} → "
            f"{f_large['cpu']:.1f} s), max RSS {f_small['maxrss_mb']:,.0f} → {f_large['maxrss_mb']:,.0f} MB; "
            f"compaction {small['compaction']:.1f} s → {large['compaction']:.1f} s "
            f"(CPU {small['compaction_cpu']:.1f} → {large['compaction_cpu']:.1f} s)"
        )
        for r in results:
            if r.get("bytes"):
                first = max(x["first_total"] for x in r["bytes"])
                log(
                    f"  {r['n']:,} stories: first query max {kb(first)} (target ≤ {FIRST_QUERY_TARGET_KB} KB: "
                    f"{'holds' if first <= FIRST_QUERY_TARGET_KB * 1024 else 'MISSED'}), find() p50/p95 cold "
                    f"{percentile(r['query']['cold_find'], 50):.0f}/{percentile(r['query']['cold_find'], 95):.0f} ms, warm "
                    f"{percentile(r['query']['warm_find'], 50):.0f}/{percentile(r['query']['warm_find'], 95):.0f} ms"
                )
    log(f"\nload average at the end: {load_text()}")
    if failed:
        log("RECALL BELOW 100 % (or a size failed): see above")
        sys.exit(1)


if __name__ == "__main__":
    main()
