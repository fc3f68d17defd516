#!/usr/bin/env python
"""Ten editors at once on the CMS, under locust on loopback (a benchmark: it prints figures, it is not a test).

    .venv/bin/python bench/editors_load.py [--db sqlite|postgres] [--pages 2000] [--users 10] [--duration 180]
    make editors PAGES=20000

Issue 9: "10 editors working at once: page editor and publish p95 under 1.5 s with 2,000 pages in the
database, 0 errors, on SQLite and on PostgreSQL". In a fresh work folder (default /tmp/xiaoge-editors-<db>)
with its own database (a SQLite file there, or a throwaway PostgreSQL cluster on a free loopback port,
stopped and deleted at the end), MEDIA_ROOT and SITE_DIR, it:
  1. migrates, sets the page tree up as `make setup` does (bootstrap_site, import_content --publish
     --initial), writes --pages published stories in bulk (bench/bulk_stories.py: the stories
     bench/common.generate_stories would publish one by one, with a related page each; 20,000 in minutes
     instead of hours, on SQLite and on PostgreSQL), makes the accounts and publishes the stories they edit
     once more through Wagtail (a real revision each, as the page editor saves it), rebuilds the search
     and reference indexes (update_index, rebuild_references_index), then builds the site in full, printing
     the progress of the generation and of the build;
  2. runs the CMS the way production would: the production settings (cms.settings.production, with only
     the TLS-only cookie flags and the HTTPS redirect off, since loopback has no TLS), under gunicorn
     (2 x cores + 1 sync workers), plus `manage.py db_worker` (every publish queues a real static build)
     and `manage.py publish_scheduled_loop`;
  3. runs locust headless (bench/locustfile_editors.py) with --users users, each logged in with their own
     account: superusers who publish from the editor (the only accounts allowed to: cms/editorial),
     editors (编辑) who submit for review, and reviewers (审核员) whose approval publishes (4, 4 and 2 of
     ten by default: --editors, --reviewers). Every request
     is one a browser makes in the admin: the explorer listing, the page editor, autosave, the editing
     session ping, save draft, publish, submit for review, the dashboard and approve;
  4. waits for the build worker to finish, then prints per request type the count, failures, median, p95
     and max; whether the page editor, publish and approve p95 are under the target; the errors (failed
     requests, server errors in the logs, failed builds and tasks); the releases built during the run; the
     time from a click on publish or approve to the release showing that revision going live (count,
     median, p95, max, and how many never went live: see click_to_live); whether the last title published
     of every page edited is in SITE_DIR/current; the CPU used by gunicorn, the worker, PostgreSQL, locust
     and the rest of the machine (the machine is shared).

It exits 1 if a target is missed or anything failed (a publish that never went live included). `make
editors` runs it on SQLite and on PostgreSQL, with --pages $(PAGES) (2,000 unless given).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import glob
import html
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, percentile  # noqa: E402
from bench.sample import TAGS as SAMPLE_TAGS  # noqa: E402

TAGS = SAMPLE_TAGS[:10]  # the first ten of bench/sample.py's tags
STREETS = (("bench-a", "陶然亭街道（测试）", "西城区"), ("bench-b", "建外街道（测试）", "朝阳区"))
SLUG_PREFIX = "bench-story-"
KEPT_MANIFESTS = "manifests-seen"
# A child step's stderr lines that begin with this are progress: shown as they come (without it), and logged.
PROGRESS = "[进度]"
PAGES_PER_ACCOUNT = 25
# The request types held to the target, with the locust names bench/locustfile_editors.py gives them.
TARGETED = ["page editor", "publish", "approve (publishes)"]

SETTINGS_MODULE = '''"""Written by bench/editors_load.py: production settings on plain HTTP over loopback."""

from cms.settings.production import *  # noqa: F403

# Loopback has no TLS: the cookies cannot carry production's Secure flag, and nothing redirects to HTTPS.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
CSRF_TRUSTED_ORIGINS = {origins!r}
# Collected static files in the work folder, not the checkout's var/static.
STATIC_ROOT = {static!r}
# Workflow notifications (submitted, approved) are rendered and written to files instead of sent.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = {mail!r}
'''


# ------------------------------------------------------------------------------------------- processes
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and its descendants (those that ended included, once reaped)."""
    parents, stats = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            stats[int(entry.name)] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, 0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total / CLOCK_TICKS


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (every process, everyone's)."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS  # all but idle and iowait


def loadavg() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


class Processes:
    """Every process the benchmark starts, in its own process group, stopped in reverse order."""

    def __init__(self):
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
        out = log.open("ab")
        proc = subprocess.Popen(  # noqa: S603
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        self.procs.append((name, proc))
        return proc

    def stop_all(self):
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()


class Postgres:
    """A throwaway cluster in the work folder on a free loopback port (as .ci/run makes one)."""

    def __init__(self, work: Path):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
        if not bins:
            sys.exit("PostgreSQL 服务器程序不在 /usr/lib/postgresql/*/bin：apt-get install -y postgresql")
        self.bin = Path(bins[-1])
        self.data = work / "pg"
        self.port = free_port()
        self.started = False

    def run(self, *cmd: str):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, stdout=subprocess.DEVNULL, cwd="/")  # noqa: S603

    def start(self) -> str:
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self.run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        # Statements over 250 ms are logged (work/postgres.log): where the database's time goes, if it does.
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c log_min_duration_statement=250"
        self.run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.data / "log"), "-w", "start"
        )
        self.started = True
        self.run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "xiaoge")
        return f"postgres://postgres@127.0.0.1:{self.port}/xiaoge"

    def vacuum_analyze(self):
        """After the bulk load, as a database in service would be: no autovacuum debt during the load."""
        self.run(
            str(self.bin / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-q",
            "-c",
            "VACUUM ANALYZE",
            "xiaoge",
        )

    def postmaster(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        return int(pidfile.read_text().split()[0]) if pidfile.exists() else None

    def save_log(self):
        """The server's log in the work folder, each line cut to 300 characters (bulk inserts are megabytes)."""
        if (self.data / "log").exists():
            lines = (self.data / "log").read_text(errors="replace").splitlines()
            (self.data.parent / "postgres.log").write_text("".join(line[:300] + "\n" for line in lines))

    def stop(self):
        self.save_log()
        if self.started:
            try:
                self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            except subprocess.CalledProcessError as e:
                print(f"pg_ctl stop 失败：{e}", file=sys.stderr)
            self.started = False
        shutil.rmtree(self.data, ignore_errors=True)


def django_env(work: Path, database_url: str, port: int) -> dict[str, str]:
    origins = [f"http://127.0.0.1:{port}"]
    (work / "xiaoge_editors_settings.py").write_text(
        SETTINGS_MODULE.format(origins=origins, static=str(work / "static"), mail=str(work / "mail"))
    )
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="xiaoge_editors_settings",
        PYTHONPATH=os.pathsep.join([str(work), str(ROOT)]),
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        PUBLIC_BASE_URL="https://xiaoge.example.cn",
        WAGTAILADMIN_BASE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(work / "media"),
        SITE_DIR=str(work / "site"),
        SITE_AUTO_BUILD="true",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_logged(cmd: list[str], env: dict, log: Path, *, echo: bool = False, stdout=None) -> int:
    """Run a child with its output (stderr, and stdout unless `stdout` is a file) appended to `log` as it
    comes; with `echo`, its progress lines (those starting with PROGRESS, shown without it) on our stdout too.
    Returns the exit code."""
    with log.open("a") as out:
        proc = subprocess.Popen(  # noqa: S603
            cmd,
            cwd=ROOT,
            env=env,
            stdout=stdout or subprocess.PIPE,
            stderr=subprocess.PIPE if stdout else subprocess.STDOUT,
            text=True,
        )
        for line in proc.stderr if stdout else proc.stdout:
            out.write(line)
            out.flush()
            if echo and line.startswith(PROGRESS):
                print(line[len(PROGRESS) :], end="", flush=True)
        return proc.wait()


def manage(env: dict, *args: str, log: Path, **extra: str):
    code = run_logged([str(BIN / "python"), "manage.py", *args], {**env, **extra}, log)
    if code:
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise RuntimeError(f"manage.py {' '.join(args)} 失败（退出码 {code}，见 {log}）")


def helper(env: dict, *args: str, log: Path, echo: bool = False, **extra: str) -> str:
    """Run this script's Django-side step (generate, build, report) in a child process with the work
    settings; its stderr goes to `log` (and its progress to our stdout with `echo`), its stdout is returned."""
    with tempfile.TemporaryFile("w+") as stdout:
        code = run_logged([str(BIN / "python"), __file__, *args], {**env, **extra}, log, echo=echo, stdout=stdout)
        stdout.seek(0)
        result = stdout.read()
    if code:
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise RuntimeError(f"{' '.join(args)} 失败（退出码 {code}，见 {log}）")
    return result


def wait_http(url: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} 没有响应")
        time.sleep(0.5)


# ------------------------------------------------------------------------ Django side (child processes)
def step_generate(count: int, roles: list[str], plan_path: Path):
    """Published stories in bulk (bench/bulk_stories.py: the stories generate_stories would publish one by
    one, with a related page each), then one account per user; the stories the accounts edit are then
    published once more through Wagtail, as the editor would, their bulk revision removed."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from wagtail.models import Revision

    from bench.bulk_stories import bulk_publish
    from cms.stories.models import StoryIndexPage, StoryPage
    from cms.users.models import User

    settings.SITE_AUTO_BUILD = False  # run() builds once everything is there
    t0 = time.monotonic()
    rng = random.Random(7)  # noqa: S311 - reproducible sample data

    def progress(message: str):
        done, total = (int(x) for x in re.search(r"(\d+)/(\d+)", message).groups())
        if done % 2000 == 0 or done == total:
            print(PROGRESS + message.rstrip(), file=sys.stderr, flush=True)

    bulk_publish(
        count,
        rng=rng,
        slug_prefix=SLUG_PREFIX,
        street_spec=STREETS,
        tag_names=TAGS,
        related_chain=True,
        progress=progress,
    )
    index = StoryIndexPage.objects.get()

    groups = {"editor": Group.objects.get(name="编辑"), "reviewer": Group.objects.get(name="审核员")}
    names = {"publisher": "zhubian", "editor": "bianji", "reviewer": "shenhe"}
    stories = [
        {"id": pk, "slug": slug, "title": title}
        for pk, slug, title in StoryPage.objects.filter(slug__startswith=SLUG_PREFIX)
        .order_by("pk")
        .values_list("pk", "slug", "title")
    ]
    rng.shuffle(stories)
    per_account = min(PAGES_PER_ACCOUNT, len(stories) // max(1, sum(1 for r in roles if r != "reviewer")))
    accounts, counts = [], {}
    for role in roles:
        counts[role] = counts.get(role, 0) + 1
        username = f"{names[role]}{counts[role]:02d}"
        password = secrets.token_urlsafe(12)
        if role == "publisher":
            user = User.objects.create_superuser(username, f"{username}@example.org", password)
        else:
            user = User.objects.create_user(username, f"{username}@example.org", password)
            user.groups.add(groups[role])
        pages = []
        if role != "reviewer":
            pages, stories = stories[:per_account], stories[per_account:]
        accounts.append({"username": user.username, "password": password, "role": role, "pages": pages})
    edited = [page["id"] for account in accounts for page in account["pages"]]
    for pk in edited:
        story = StoryPage.objects.get(pk=pk)
        bulk_revision = story.live_revision_id
        story.save_revision().publish()
        Revision.objects.filter(pk=bulk_revision).delete()
    print(f"{PROGRESS}  账号要编辑的 {len(edited)} 篇故事由 Wagtail 重新发布（一个版本）", file=sys.stderr, flush=True)
    plan = {"index_id": index.pk, "accounts": accounts}
    plan_path.write_text(json.dumps(plan, ensure_ascii=False, indent=1))
    plan_path.chmod(0o600)
    print(json.dumps({"stories": StoryPage.objects.count(), "seconds": time.monotonic() - t0}))


def step_build():
    """The first full build, as `manage.py build_site --full` makes it (no publish target here), printing
    its progress every 15 seconds (the command draws its bars only on a terminal)."""
    import django

    django.setup()
    from cms.publishing.builder import Builder
    from cms.publishing.releases import build_lock

    t0 = time.monotonic()
    last: dict[str, float] = {}

    def progress(stage: str, done: int, total: int):
        now = time.monotonic()
        if (done >= total and total) or now - last.get(stage, t0) >= 15:
            last[stage] = now
            print(f"{PROGRESS}  全量构建：{stage} {done}/{total}（{now - t0:.0f} 秒）", file=sys.stderr, flush=True)

    with build_lock():
        result = Builder(full=True, reason="editors_load 全量构建", progress=progress).run()
    release = result.release
    print(json.dumps({"pages": release.pages, "files": release.files, "seconds": release.seconds}))


def step_settle(since: str, settle: float):
    """Wait (at most `settle` seconds) until no build is waiting or running and no task is left."""
    import django

    django.setup()
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from cms.publishing.models import BuildRequest, Release

    deadline = time.monotonic() + settle
    while True:
        busy = (
            BuildRequest.objects.filter(done=False).exists()
            or Release.objects.filter(status=Release.STATUS_BUILDING).exists()
            or DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()
        )
        if not busy or time.monotonic() > deadline:
            break
        connection.close()
        time.sleep(1)
    print(json.dumps({"busy": busy}))


def step_report(since: str, work: Path):
    """What was built since `since`, the tasks that failed, and when each publish went live (click_to_live)."""
    import django

    django.setup()
    from django_tasks_db.models import DBTaskResult
    from wagtail.models import Page, WorkflowState

    from cms.publishing.models import BuildRequest, Release

    started = datetime.datetime.fromisoformat(since)
    releases = list(Release.objects.filter(started_at__gte=started).order_by("pk"))
    page_releases = [r for r in releases if r.content_of_id is None]
    requests = BuildRequest.objects.filter(created_at__gte=started).count()
    failed_tasks = DBTaskResult.objects.filter(status="FAILED", enqueued_at__gte=started)
    live = {p.pk: p.title for p in Page.objects.filter(live=True, slug__startswith="bench-story-")}
    report = {
        "page_releases": len(page_releases),
        "search_releases": len(releases) - len(page_releases),
        "statuses": {s: sum(1 for r in releases if r.status == s) for s in {r.status for r in releases}},
        "failed_releases": [f"{r.name}: {r.report[:300]}" for r in releases if r.status == Release.STATUS_FAILED],
        "build_seconds": [r.seconds for r in page_releases if r.finished_at],
        "search_seconds": [r.seconds for r in releases if r.content_of_id is not None and r.finished_at],
        "rendered": [r.rendered for r in page_releases if r.finished_at],
        "files": page_releases[-1].files if page_releases else 0,
        "build_requests": requests,
        "click_to_live": click_to_live(
            read_jsonl(work / "published.jsonl"), started, [work / KEPT_MANIFESTS, work / "site" / "manifests"]
        ),
        "failed_tasks": [f"{t.task_path}: {t.exception_class_path}" for t in failed_tasks[:10]],
        "failed_task_count": failed_tasks.count(),
        "in_review": WorkflowState.objects.filter(status=WorkflowState.STATUS_IN_PROGRESS).count(),
        "live_titles": {str(k): v for k, v in live.items()},
        "pages_total": Page.objects.count(),
    }
    print(json.dumps(report, ensure_ascii=False))


def click_to_live(events: list[dict], since: datetime.datetime, manifest_dirs: list[Path]) -> dict:
    """For each publish and approval locust made (published.jsonl: page, click and answer times), the seconds
    from the click to the first release showing the revision it published, or a later one of that page,
    going live (Release.finished_at: set when site/current points at it).

    The revision is the one Wagtail's publish log entry of that page names, logged between the click and the
    answer. Which revision of each page a release shows is in its manifest ("pages"); pruning removes old
    manifests, so ManifestKeeper keeps a hard link to each as it appears. PageState says, for each page,
    which revision the live site shows and which release first showed it (or the search-index release that
    took that release's place): it gives the same answer for every page's last publish (counted), and
    stands in for a release whose manifest was not seen."""
    from wagtail.models import PageLogEntry

    from cms.publishing.models import PageState, Release

    out = {"publish": [], "approve": [], "never": [], "unmatched": 0, "checked": 0, "disagree": [], "no_manifest": []}
    if not events:
        return out
    pages = {e["page"] for e in events}
    logged: dict[int, list[tuple[float, int]]] = {}
    for page_id, revision_id, when in (
        PageLogEntry.objects.filter(action="wagtail.publish", page_id__in=pages, timestamp__gte=since)
        .order_by("timestamp", "pk")
        .values_list("page_id", "revision_id", "timestamp")
    ):
        logged.setdefault(page_id, []).append((when.timestamp(), revision_id))
    releases = list(
        Release.objects.filter(content_of__isnull=True, started_at__gte=since, finished_at__isnull=False)
        .exclude(status=Release.STATUS_FAILED)
        .order_by("finished_at")
    )
    shown: dict[str, dict[int, int]] = {}
    wanted = {r.name for r in releases}
    for folder in manifest_dirs:
        for path in folder.glob("*.json") if folder.is_dir() else []:
            if path.stem in wanted and path.stem not in shown:
                pages_of = json.loads(path.read_text()).get("pages", {})
                shown[path.stem] = {int(k): v for k, v in pages_of.items() if int(k) in pages and v is not None}
    states = {
        s.page_id: (s.revision_id, s.release)
        for s in PageState.objects.filter(page_id__in=pages).select_related("release__content_of")
    }
    last_event = {e["page"]: i for i, e in enumerate(events)}
    out["no_manifest"] = sorted(wanted - set(shown))
    for i, event in enumerate(events):
        page = event["page"]
        # Locust and the CMS read the same clock: the entry is written between the click and the answer (the
        # page's previous publish may be a fraction of a second before the click).
        revisions = [rev for when, rev in logged.get(page, []) if event["clicked"] - 0.01 <= when <= event["answered"]]
        if not revisions:
            out["unmatched"] += 1
            continue
        revision = revisions[-1]
        live = next((r for r in releases if shown.get(r.name, {}).get(page, 0) >= revision), None)
        state_revision, state_release = states.get(page, (None, None))
        if state_revision == revision and state_release is not None:
            first = state_release.content_of or state_release  # a search-index release refreshes its page release
            if live is None:
                live = first
            elif last_event[page] == i:
                out["checked"] += 1
                if first.pk != live.pk:
                    out["disagree"].append(f"页面 {page} 版本 {revision}：清单 {live.name}，PageState {first.name}")
        if live is None:
            out["never"].append(f"页面 {page} 版本 {revision}（{event['how']}）")
        else:
            out[event["how"]].append(live.finished_at.timestamp() - event["clicked"])
    return out


# ------------------------------------------------------------------------------------------ the report
class ManifestKeeper(threading.Thread):
    """A hard link in work/<KEPT_MANIFESTS> to every release manifest as it appears (each build prunes the
    manifests of old releases), so that click_to_live knows which revisions every release showed."""

    def __init__(self, site: Path, keep: Path):
        super().__init__(daemon=True)
        self.source, self.keep, self.done = site / "manifests", keep, threading.Event()
        keep.mkdir(exist_ok=True)

    def scan(self):
        for path in self.source.glob("*.json") if self.source.is_dir() else []:
            with contextlib.suppress(FileNotFoundError, FileExistsError):
                os.link(path, self.keep / path.name)

    def run(self):
        while not self.done.wait(0.5):
            self.scan()

    def stop(self):
        self.done.set()
        self.join()


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def live_site_check(site_current: Path, published: list[dict], plan: dict, db_titles: dict) -> tuple[int, list]:
    """The last title published for every page must be its live title and be in its file in the live release."""
    slugs = {p["id"]: p["slug"] for a in plan["accounts"] for p in a["pages"]}
    last: dict[int, dict] = {}
    for event in published:
        last[event["page"]] = event  # the journal is in the order the admin answered
    problems = []
    for page_id, event in sorted(last.items()):
        path = site_current / "stories" / slugs[page_id] / "index.html"
        text = path.read_text() if path.exists() else ""
        if html.escape(event["title"], quote=False) not in text:
            problems.append(f"{path.relative_to(site_current)} 里没有“{event['title']}”")
        elif db_titles.get(str(page_id)) != event["title"]:
            problems.append(f"页面 {page_id} 的在线标题是“{db_titles.get(str(page_id))}”，不是“{event['title']}”")
    return len(last), problems


LOGS = ("gunicorn.log", "worker.log", "scheduler.log", "access.log")


def log_sizes(work: Path) -> dict[str, int]:
    return {name: (work / name).stat().st_size if (work / name).exists() else 0 for name in LOGS}


def log_text(work: Path, name: str, offsets: dict[str, int]) -> str:
    path = work / name
    if not path.exists():
        return ""
    with path.open("rb") as f:
        f.seek(offsets.get(name, 0))
        return f.read().decode(errors="replace")


def count_server_errors(work: Path, offsets: dict[str, int]) -> list[str]:
    """Server errors logged since the load started: tracebacks, 500s, killed or timed-out workers."""
    found = []
    for name in LOGS[:3]:
        for line in log_text(work, name, offsets).splitlines():
            if (
                "Traceback" in line
                or "Internal Server Error" in line
                or "[CRITICAL]" in line
                or "WORKER TIMEOUT" in line
            ):
                found.append(f"{name}: {line.strip()[:200]}")
    for line in log_text(work, "access.log", offsets).splitlines():
        parts = line.split('"')
        status = parts[2].split()[0] if len(parts) > 2 and parts[2].split() else ""
        if status.startswith("5"):
            found.append(f"access.log: {line[:200]}")
    return found


# -------------------------------------------------------------------------------------------- the run
def split_roles(users: int, editors: int | None, reviewers: int | None) -> list[str]:
    """By default four in ten publish directly, four in ten submit for review and two in ten review (with ten
    users about as many approvals as direct publishes in three minutes)."""
    if reviewers is None:
        reviewers = max(1, round(users * 0.2)) if users >= 3 else 0
    if editors is None:
        editors = round(users * 0.4) if reviewers else 0
    publishers = users - editors - reviewers
    if publishers < 0 or (editors and not reviewers):
        sys.exit("--editors 和 --reviewers 加起来不能超过 --users；有提交审核的编辑就要有审核员")
    return ["publisher"] * publishers + ["editor"] * editors + ["reviewer"] * reviewers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pages", type=int, default=2000, help="generated published stories")
    parser.add_argument("--users", type=int, default=10, help="locust users, each with their own account")
    parser.add_argument("--duration", type=int, default=180, help="seconds of load (locust --run-time)")
    parser.add_argument("--editors", type=int, default=None, help="of the users, editors (编辑) who submit for review")
    parser.add_argument("--reviewers", type=int, default=None, help="of the users, reviewers (审核员) who approve")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--target", type=float, default=1.5, help="p95 target in seconds")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="run db_worker under nice N (10: as make run and docs/operations.md run it; 0: at the CMS's priority)",
    )
    parser.add_argument("--workdir", default=None, help="default /tmp/xiaoge-editors-<db>")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (PostgreSQL's cluster is always removed)"
    )
    args = parser.parse_args()

    roles = split_roles(args.users, args.editors, args.reviewers)
    work = Path(args.workdir or f"/tmp/xiaoge-editors-{args.db}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "mail").mkdir()
    processes = Processes()
    postgres = Postgres(work) if args.db == "postgres" else None

    def on_signal(signum, frame):
        raise SystemExit(f"收到信号 {signum}，停止")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        return run(args, roles, work, processes, postgres)
    finally:
        processes.stop_all()
        if postgres:
            postgres.stop()
        if not args.keep:
            for name in ("site", "media", "static", KEPT_MANIFESTS, "db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
                target = work / name
                if target.is_dir():
                    shutil.rmtree(target, ignore_errors=True)
                elif target.exists():
                    target.unlink()


def run(args, roles: list[str], work: Path, processes: Processes, postgres: Postgres | None) -> int:
    load_start = loadavg()
    print(f"== {args.users} 位编辑同时工作（locust，回环地址），数据库：{args.db}；CPU 核数 {os.cpu_count()}")
    print(f"  开始时负载（1/5/15 分钟）：{load_start}；工作目录 {work}", flush=True)
    port = free_port()
    database_url = postgres.start() if postgres else f"sqlite:///{work}/db.sqlite3"
    env = django_env(work, database_url, port)
    setup_log = work / "setup.log"

    t0 = time.monotonic()
    setup_started = datetime.datetime.now(datetime.UTC).isoformat()
    manage(env, "migrate", "--noinput", "-v0", log=setup_log)
    # No build requests from the setup (make setup's own build_site covers them; here the full build below
    # does): the worker would otherwise start with a build of the whole site if cms/ changed meanwhile.
    manage(env, "bootstrap_site", "--no-admin", log=setup_log, SITE_AUTO_BUILD="false")
    manage(env, "import_content", "--publish", "--initial", log=setup_log, SITE_AUTO_BUILD="false")
    print(f"  migrate、bootstrap_site、import_content：{time.monotonic() - t0:.0f} 秒", flush=True)
    t0 = time.monotonic()
    # The stories are written in bulk (bench/bulk_stories.py), without search or reference-index entries; the
    # accounts' stories are then published again through Wagtail with its search and reference-index tasks
    # dropped, and both indexes are rebuilt in bulk afterwards (Wagtail's database search backend on
    # PostgreSQL recomputes the title norms over the whole index after every object it indexes).
    print(f"  生成 {args.pages} 篇已发布的故事（批量写入）……", flush=True)
    generated = json.loads(
        helper(
            env,
            "--_generate",
            str(args.pages),
            ",".join(roles),
            str(work / "plan.json"),
            log=setup_log,
            echo=True,
            SITE_AUTO_BUILD="false",
            TASKS_BACKEND="django_tasks.backends.dummy.DummyBackend",
        )
    )
    print(f"  生成 {args.pages} 篇已发布的故事和 {len(roles)} 个账号：{time.monotonic() - t0:.0f} 秒", flush=True)
    t0 = time.monotonic()
    print("  搜索索引（update_index）……", flush=True)
    manage(env, "update_index", log=setup_log)
    print(f"  搜索索引：{time.monotonic() - t0:.0f} 秒；引用索引（rebuild_references_index）……", flush=True)
    t1 = time.monotonic()
    manage(env, "rebuild_references_index", log=setup_log)
    print(f"  引用索引：{time.monotonic() - t1:.0f} 秒", flush=True)
    if postgres:
        postgres.vacuum_analyze()
    t0 = time.monotonic()
    print("  全量构建……", flush=True)
    built = json.loads(helper(env, "--_build", log=setup_log, echo=True))
    print(
        f"  全量构建：{time.monotonic() - t0:.0f} 秒，{built['pages']} 个页面，{built['files']} 个文件；"
        f"数据库里共 {generated['stories']} 篇故事；负载 {loadavg()}",
        flush=True,
    )

    base = f"http://127.0.0.1:{port}"
    processes.start(
        "gunicorn",
        [
            str(BIN / "gunicorn"),
            "cms.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "60",
            "--access-logfile",
            str(work / "access.log"),
            "--access-logformat",
            '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
        ],
        env,
        work / "gunicorn.log",
    )
    processes.start(
        "db_worker",
        [
            *(["nice", "-n", str(args.worker_nice)] if args.worker_nice else []),
            str(BIN / "python"),
            "manage.py",
            "db_worker",
            "--interval",
            "0.5",
            "--no-startup-delay",
        ],
        env,
        work / "worker.log",
    )
    processes.start(
        "scheduler", [str(BIN / "python"), "manage.py", "publish_scheduled_loop"], env, work / "scheduler.log"
    )
    wait_http(f"{base}/admin/login/")
    nice = f"（nice {args.worker_nice}）" if args.worker_nice else ""
    print(
        f"  CMS：gunicorn {args.workers} 个工作进程，{base}/admin/；db_worker{nice}；publish_scheduled_loop", flush=True
    )
    # The worker first runs what the setup queued (import_content's search and reference-index tasks), as
    # after `make setup`; the load starts on an empty queue.
    t0 = time.monotonic()
    helper(env, "--_settle", setup_started, "600", log=setup_log)
    drained = json.loads(helper(env, "--_report", setup_started, str(work), log=setup_log))
    print(f"  db_worker 做完安装时排队的任务：{time.monotonic() - t0:.0f} 秒", flush=True)
    if drained["failed_task_count"]:
        print(
            f"  注意：其中 {drained['failed_task_count']} 个失败（不计入本次结果），例如 {drained['failed_tasks'][:1]}"
        )
    offsets = log_sizes(work)

    since = datetime.datetime.now(datetime.UTC).isoformat()
    counts = {r: roles.count(r) for r in ("publisher", "editor", "reviewer")}
    print(
        f"\n== locust：{args.users} 个用户（{counts['publisher']} 位超级用户直接发布，{counts['editor']} 位编辑提交审核，"
        f"{counts['reviewer']} 位审核员批准即发布），{args.duration} 秒",
        flush=True,
    )
    locust_env = {**env, "XIAOGE_EDITORS_PLAN": str(work / "plan.json"), "XIAOGE_EDITORS_OUT": str(work)}
    keeper = ManifestKeeper(work / "site", work / KEPT_MANIFESTS)
    keeper.start()
    pids = {name: proc.pid for name, proc in processes.procs}
    if postgres:
        pids["postgres"] = postgres.postmaster()
    cpu_start = {name: tree_cpu(pid) for name, pid in pids.items()}
    busy_start, children_start = machine_busy(), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with (work / "locust.log").open("wb") as out:
        locust = subprocess.run(  # noqa: S603
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile_editors.py"),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(args.users),
                "--run-time",
                f"{args.duration}s",
                "--stop-timeout",
                "60",
                "--host",
                base,
                "--csv",
                str(work / "locust"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=locust_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    ran = time.monotonic() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = children.ru_utime + children.ru_stime - children_start.ru_utime - children_start.ru_stime
    load_after_locust = loadavg()
    t0 = time.monotonic()
    busy_at_end = json.loads(helper(env, "--_settle", since, "180", log=work / "report.log"))["busy"]
    settled = time.monotonic() - t0
    load_end = loadavg()
    cpu = {name: tree_cpu(pid) - cpu_start[name] for name, pid in pids.items()}
    cpu["locust"] = locust_cpu
    cpu["machine"] = machine_busy() - busy_start
    cpu["capacity"] = (ran + settled) * (os.cpu_count() or 1)
    report = json.loads(helper(env, "--_report", since, str(work), log=work / "report.log"))
    report["busy_at_end"] = busy_at_end
    keeper.stop()
    if postgres:
        postgres.save_log()
    return print_report(
        args,
        work,
        roles,
        locust.returncode,
        ran,
        settled,
        report,
        offsets,
        cpu,
        (load_start, load_after_locust, load_end),
    )


def print_click_to_live(live: dict, by_name: dict[str, list[dict]]) -> bool:
    """The time from a click on publish (or approve) to the page live; True if every publish went live."""
    lags = live["publish"] + live["approve"]
    failed = sum(1 for name in ("publish", "approve (publishes)") for r in by_name.get(name, []) if r["failed"])
    print("  从点击到页面上线（点击“发布”或“批准”到含该版本的页面版本上线，Release.finished_at）：")
    for label, values in (("全部", lags), ("直接发布", live["publish"]), ("审核批准", live["approve"])):
        if values:
            print(
                f"    {label}：{len(values)} 次，中位数 {statistics.median(values):.1f} 秒，"
                f"p95 {percentile(values, 95):.1f} 秒，最长 {max(values):.1f} 秒"
            )
    never, unmatched = len(live["never"]), live["unmatched"]
    print(
        f"    到结束仍未上线：{never} 次"
        + (f"，例如 {live['never'][:3]}" if never else "")
        + (f"；没有找到发布记录（PageLogEntry）：{unmatched} 次" if unmatched else "")
        + (f"；失败的发布和批准请求 {failed} 次不在其中" if failed else "")
    )
    print(
        f"    与 PageState 核对（每个页面最后一次发布上线的版本）：{live['checked'] - len(live['disagree'])}"
        f"/{live['checked']} 一致"
        + (f"，不一致：{live['disagree'][:3]}" if live["disagree"] else "")
        + (f"；没有看到构建清单的版本 {len(live['no_manifest'])} 个" if live["no_manifest"] else "")
    )
    return not never and not unmatched and not live["disagree"]


def print_report(args, work, roles, locust_rc, ran, settled, report, offsets, cpu, loads) -> int:
    samples = read_jsonl(work / "requests.jsonl")
    published = read_jsonl(work / "published.jsonl")
    failures = read_jsonl(work / "failures.jsonl")
    plan = json.loads((work / "plan.json").read_text())
    by_name: dict[str, list[dict]] = {}
    for s in samples:
        by_name.setdefault(s["name"], []).append(s)
    order = [
        "login",
        "explorer listing",
        "dashboard",
        "page editor",
        "autosave",
        "editing session ping",
        "save draft",
        "publish",
        "submit for review",
        "approve (publishes)",
    ]
    names = [n for n in order if n in by_name] + sorted(set(by_name) - set(order))
    ok = True
    print(f"\n== 请求（locust 实测 {ran:.0f} 秒，含 --stop-timeout 里做完的操作；时间为点击到下一页显示完）")
    print(f"  {'request':<22} {'count':>6} {'failed':>6} {'median':>8} {'p95':>8} {'max':>8}")
    all_failed = 0
    for name in names:
        rows = by_name[name]
        times = [r["ms"] / 1000 for r in rows]
        failed = sum(1 for r in rows if r["failed"])
        all_failed += failed
        print(
            f"  {name:<22} {len(rows):>6} {failed:>6} {statistics.median(times):>7.3f}s {percentile(times, 95):>7.3f}s "
            f"{max(times):>7.3f}s"
        )
    times = [r["ms"] / 1000 for r in samples]
    if times:
        print(
            f"  {'all':<22} {len(samples):>6} {all_failed:>6} {statistics.median(times):>7.3f}s "
            f"{percentile(times, 95):>7.3f}s {max(times):>7.3f}s"
        )
    print(f"\n== 目标：p95 < {args.target} 秒，0 个错误")
    for name in TARGETED:
        if name not in by_name:
            if name == "approve (publishes)" and "reviewer" not in roles:
                continue
            print(f"  {name}：没有测到 ✗")
            ok = False
            continue
        p95 = percentile([r["ms"] / 1000 for r in by_name[name]], 95)
        hit = p95 < args.target
        ok &= hit
        print(f"  {name}：p95 {p95:.3f} 秒 {'✓' if hit else '✗ 未达标'}（{len(by_name[name])} 次）")

    server_errors = count_server_errors(work, offsets)
    # Exceptions raised in the locust users' code (not failed requests): a bug there is an error too.
    exceptions_csv = work / "locust_exceptions.csv"
    exceptions = list(csv.DictReader(exceptions_csv.open())) if exceptions_csv.exists() else []
    server_errors += [f"locust: {e['Count']} × {e['Message'][:200]}" for e in exceptions]
    errors = all_failed + len(server_errors) + len(report["failed_releases"]) + report["failed_task_count"]
    print(
        f"  错误：{errors}（失败的请求 {all_failed}，服务器日志和 locust 用户代码里的错误 {len(server_errors)}，失败的构建 "
        f"{len(report['failed_releases'])}，失败的后台任务 {report['failed_task_count']}，locust 退出码 {locust_rc}）"
        + (" ✓" if errors == 0 and locust_rc == 0 else " ✗")
    )
    ok &= errors == 0 and locust_rc == 0
    for f in failures[:10]:
        print(f"    {f['name']}：{f['error'][:300]}")
    for line in server_errors[:10] + report["failed_releases"][:5] + report["failed_tasks"][:5]:
        print(f"    {line}")

    print("\n== 静态网站")
    kinds = {}
    for event in published:
        kinds[event["how"]] = kinds.get(event["how"], 0) + 1
    print(
        f"  发布 {len(published)} 次（直接发布 {kinds.get('publish', 0)}，审核批准 {kinds.get('approve', 0)}）；"
        f"构建请求 {report['build_requests']} 个；构建了 {report['page_releases']} 个页面版本和 "
        f"{report['search_releases']} 个搜索索引版本，状态 {report['statuses']}"
    )
    if report["build_seconds"]:
        print(
            f"  每次构建用时中位数 {statistics.median(report['build_seconds']):.1f} 秒（{min(report['build_seconds']):.1f}–"
            f"{max(report['build_seconds']):.1f}），重新渲染文件中位数 {statistics.median(report['rendered']):.0f} 个"
            f"（共 {report['files']} 个文件）"
        )
    if report["search_seconds"]:
        print(
            f"  搜索索引合并（compaction）的版本：中位数 {statistics.median(report['search_seconds']):.1f} 秒"
            f"（{min(report['search_seconds']):.1f}–{max(report['search_seconds']):.1f}）"
        )
    ok &= print_click_to_live(report["click_to_live"], by_name)
    print(
        f"  locust 结束后等构建完成：{settled:.0f} 秒" + ("（到时仍有构建未完成 ✗）" if report["busy_at_end"] else "")
    )
    ok &= not report["busy_at_end"]
    checked, problems = live_site_check(work / "site" / "current", published, plan, report["live_titles"])
    print(
        f"  最后发布的标题在线上静态网站（SITE_DIR/current）：{checked - len(problems)}"
        f"/{checked} 个页面" + (" ✓" if not problems and checked else " ✗")
    )
    for p in problems[:10]:
        print(f"    {p}")
    ok &= not problems and checked > 0
    mails = len(list((work / "mail").iterdir()))
    print(f"  审核流程：结束时仍在审核中的页面 {report['in_review']} 个；通知邮件 {mails} 封（写入文件）")
    print(
        f"\n负载（1/5/15 分钟）：开始 {loads[0]}，locust 结束 {loads[1]}，全部结束 {loads[2]}；数据库中共 {report['pages_total']} 个页面"
    )
    ours = sum(cpu.get(k, 0) for k in ("gunicorn", "db_worker", "scheduler", "locust", "postgres"))
    print(
        f"CPU（locust 开始到构建完成，{cpu['capacity']:.0f} CPU 秒可用）：整机忙 {cpu['machine']:.0f} 秒"
        f"（{cpu['machine'] / cpu['capacity']:.0%}）；其中 gunicorn {cpu['gunicorn']:.0f}，db_worker（构建、搜索索引、"
        f"后台任务）{cpu['db_worker']:.0f}，"
        + (f"PostgreSQL {cpu['postgres']:.0f}，" if "postgres" in cpu else "")
        + f"locust {cpu['locust']:.0f}，publish_scheduled_loop {cpu['scheduler']:.0f}，"
        f"其余（机器上的其他进程）{max(0.0, cpu['machine'] - ours):.0f}"
    )
    slow = work / "postgres.log"
    if slow.exists():
        durations = re.findall(r"duration: ([0-9.]+) ms", slow.read_text(errors="replace"))
        print(f"PostgreSQL 超过 250 ms 的语句：{len(durations)} 条（包括安装阶段；见 {slow}）")
    print(f"日志和 locust 的 CSV：{work}")
    print("结果：" + ("全部达标" if ok else "未达标"))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_generate":
        step_generate(int(sys.argv[2]), sys.argv[3].split(","), Path(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--_build":
        step_build()
    elif len(sys.argv) > 1 and sys.argv[1] == "--_report":
        step_report(sys.argv[2], Path(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--_settle":
        step_settle(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit(main())
