#!/usr/bin/env python
"""Ten editors at once on the CMS, under locust on loopback (a benchmark: it prints figures, it is not a test).

    .venv/bin/python bench/editors_load.py [--db sqlite|postgres] [--pages 2000] [--users 10] [--duration 180]

Issue 9: "10 editors working at once: page editor and publish p95 under 1.5 s with 2,000 pages in the
database, 0 errors, on SQLite and on PostgreSQL". In a fresh work folder (default /tmp/xiaoge-editors-<db>)
with its own database (a SQLite file there, or a throwaway PostgreSQL cluster on a free loopback port,
stopped and deleted at the end), MEDIA_ROOT and SITE_DIR, it:
  1. migrates, sets the page tree up as `make setup` does (bootstrap_site, import_content --publish
     --initial), generates --pages published stories (real Wagtail pages with a revision each, as
     bench/publish_bench.py makes them; the search and reference indexes rebuilt in bulk afterwards) and
     the accounts, then builds the site (build_site --full);
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
     requests, server errors in the logs, failed builds and tasks); the releases built during the run and
     whether the last title published of every page edited is in SITE_DIR/current; the CPU used by
     gunicorn, the worker, PostgreSQL, locust and the rest of the machine (the machine is shared).

It exits 1 if a target is missed or anything failed. `make editors` runs it on SQLite and on PostgreSQL.
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
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, generate_stories, percentile  # noqa: E402
from bench.sample import TAGS as SAMPLE_TAGS  # noqa: E402

TAGS = SAMPLE_TAGS[:10]  # the first ten of bench/sample.py's tags
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


def manage(env: dict, *args: str, log: Path, **extra: str):
    with log.open("ab") as out:
        subprocess.run(  # noqa: S603
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env={**env, **extra},
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def helper(env: dict, *args: str, log: Path | None = None, **extra: str) -> str:
    """Run this script's Django-side step (generate, report) in a child process with the work settings."""
    result = subprocess.run(  # noqa: S603
        [str(BIN / "python"), __file__, *args],
        cwd=ROOT,
        env={**env, **extra},
        check=False,
        capture_output=True,
        text=True,
    )
    if log:
        with log.open("a") as out:
            out.write(result.stderr)
    if result.returncode:
        sys.stderr.write(result.stderr[-4000:])
        raise RuntimeError(f"{' '.join(args)} 失败（退出码 {result.returncode}）")
    return result.stdout


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
    """Published stories like bench/publish_bench.py's (with a related page), then one account per user."""
    import django

    django.setup()
    from django.contrib.auth.models import Group

    from cms.stories.models import StoryIndexPage, StoryPage
    from cms.users.models import User

    t0 = time.monotonic()
    rng = random.Random(7)  # noqa: S311 - reproducible sample data
    generate_stories(
        count,
        rng=rng,
        streets=(("bench-a", "陶然亭街道（测试）", "西城区"), ("bench-b", "建外街道（测试）", "朝阳区")),
        tags=TAGS,
        slug_prefix="bench-story-",
        related_chain=True,
        progress_every=250,
        setup=False,  # run() has migrated and set the tree up
    )
    index = StoryIndexPage.objects.get()

    groups = {"editor": Group.objects.get(name="编辑"), "reviewer": Group.objects.get(name="审核员")}
    names = {"publisher": "zhubian", "editor": "bianji", "reviewer": "shenhe"}
    stories = [
        {"id": pk, "slug": slug, "title": title}
        for pk, slug, title in StoryPage.objects.filter(slug__startswith="bench-story-")
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
    plan = {"index_id": index.pk, "accounts": accounts}
    plan_path.write_text(json.dumps(plan, ensure_ascii=False, indent=1))
    plan_path.chmod(0o600)
    print(json.dumps({"stories": StoryPage.objects.count(), "seconds": time.monotonic() - t0}))


def step_report(since: str, settle: float):
    """Wait (at most `settle` seconds) until no build is waiting or running, then report what was built."""
    import django

    django.setup()
    from django.db import connection
    from django_tasks_db.models import DBTaskResult
    from wagtail.models import Page, WorkflowState

    from cms.publishing.models import BuildRequest, Release

    started = datetime.datetime.fromisoformat(since)
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
    releases = list(Release.objects.filter(started_at__gte=started).order_by("pk"))
    page_releases = [r for r in releases if r.content_of_id is None]
    requests = list(BuildRequest.objects.filter(created_at__gte=started).order_by("pk"))
    lags = []
    for req in requests:
        release = next((r for r in page_releases if r.started_at >= req.created_at and r.finished_at), None)
        if release and release.status != Release.STATUS_FAILED:
            lags.append((release.finished_at - req.created_at).total_seconds())
    failed_tasks = DBTaskResult.objects.filter(status="FAILED", enqueued_at__gte=started)
    live = {p.pk: p.title for p in Page.objects.filter(live=True, slug__startswith="bench-story-")}
    report = {
        "busy_at_end": busy,
        "page_releases": len(page_releases),
        "search_releases": len(releases) - len(page_releases),
        "statuses": {s: sum(1 for r in releases if r.status == s) for s in {r.status for r in releases}},
        "failed_releases": [f"{r.name}: {r.report[:300]}" for r in releases if r.status == Release.STATUS_FAILED],
        "build_seconds": [r.seconds for r in page_releases if r.finished_at],
        "search_seconds": [r.seconds for r in releases if r.content_of_id is not None and r.finished_at],
        "rendered": [r.rendered for r in page_releases if r.finished_at],
        "files": page_releases[-1].files if page_releases else 0,
        "build_requests": len(requests),
        "request_to_live": lags,
        "failed_tasks": [f"{t.task_path}: {t.exception_class_path}" for t in failed_tasks[:10]],
        "failed_task_count": failed_tasks.count(),
        "in_review": WorkflowState.objects.filter(status=WorkflowState.STATUS_IN_PROGRESS).count(),
        "live_titles": {str(k): v for k, v in live.items()},
        "pages_total": Page.objects.count(),
    }
    print(json.dumps(report, ensure_ascii=False))


# ------------------------------------------------------------------------------------------ the report
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
        "--worker-nice", type=int, default=0, help="run db_worker under nice N (an experiment: production does not)"
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
            for name in ("site", "media", "static", "db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
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
    manage(env, "bootstrap_site", "--no-admin", log=setup_log)
    manage(env, "import_content", "--publish", "--initial", log=setup_log, SITE_AUTO_BUILD="false")
    print(f"  migrate、bootstrap_site、import_content：{time.monotonic() - t0:.0f} 秒", flush=True)
    t0 = time.monotonic()
    # The search and reference-index tasks of each publish are dropped while generating, and both indexes are
    # rebuilt in bulk afterwards: Wagtail's database search backend on PostgreSQL recomputes the title norms
    # over the whole index after every object it indexes, so 2,000 one-by-one updates take tens of minutes.
    generated = json.loads(
        helper(
            env,
            "--_generate",
            str(args.pages),
            ",".join(roles),
            str(work / "plan.json"),
            log=setup_log,
            SITE_AUTO_BUILD="false",
            TASKS_BACKEND="django_tasks.backends.dummy.DummyBackend",
        )
    )
    print(f"  生成 {args.pages} 篇已发布的故事和 {len(roles)} 个账号：{time.monotonic() - t0:.0f} 秒", flush=True)
    t0 = time.monotonic()
    manage(env, "update_index", log=setup_log)
    manage(env, "rebuild_references_index", log=setup_log)
    print(f"  搜索索引和引用索引（update_index、rebuild_references_index）：{time.monotonic() - t0:.0f} 秒", flush=True)
    if postgres:
        postgres.vacuum_analyze()
    t0 = time.monotonic()
    manage(env, "build_site", "--full", log=setup_log)
    print(f"  全量构建：{time.monotonic() - t0:.0f} 秒；数据库里共 {generated['stories']} 篇故事", flush=True)

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
    drained = json.loads(helper(env, "--_report", setup_started, "600"))
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
    report = json.loads(helper(env, "--_report", since, "180"))
    settled = time.monotonic() - t0
    load_end = loadavg()
    cpu = {name: tree_cpu(pid) - cpu_start[name] for name, pid in pids.items()}
    cpu["locust"] = locust_cpu
    cpu["machine"] = machine_busy() - busy_start
    cpu["capacity"] = (ran + settled) * (os.cpu_count() or 1)
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
            f"  每个页面版本之后的搜索索引版本（Pagefind）：中位数 {statistics.median(report['search_seconds']):.1f} 秒"
            f"（{min(report['search_seconds']):.1f}–{max(report['search_seconds']):.1f}）"
        )
    if report["request_to_live"]:
        lags = report["request_to_live"]
        print(
            f"  发布到页面版本上线（约数：构建请求到其后第一个开始的页面版本完成）：中位数 {statistics.median(lags):.1f} 秒，"
            f"p95 {percentile(lags, 95):.1f} 秒，最长 {max(lags):.1f} 秒"
        )
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
        f"（{cpu['machine'] / cpu['capacity']:.0%}）；其中 gunicorn {cpu['gunicorn']:.0f}，db_worker（构建、Pagefind、"
        f"索引任务）{cpu['db_worker']:.0f}，"
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
    elif len(sys.argv) > 1 and sys.argv[1] == "--_report":
        step_report(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit(main())
