#!/usr/bin/env python
"""Faults during a build leave the live site byte-identical and need no manual repair (a benchmark:
it prints a table of trials, it is not a test).

    .venv/bin/python bench/faults.py [--stories 200] [--kills 20] [--workdir /tmp/xiaoge-faults]

Work folder under /tmp (own SQLite database, media, SITE_DIR). Each trial publishes an edit of one story
(title "故障测试第<n>次", page.save_revision().publish(), no automatic build), then:

  (a) kill: `manage.py build_site` in a subprocess, SIGKILL to that process after a random delay
      (0.1 s to 1.1x a measured build; every fifth trial a --full build). The live tree (SITE_DIR/current
      resolved, every path and byte hashed) must be what it was, or the complete new release if the kill
      came after the swap; no process of the build may survive it and the build lock must be free; the
      next `manage.py build_site` must succeed and show the edit.
  (b) disk full: SITE_DIR moved onto a tmpfs (`mount -t tmpfs -o size=…`, root only; skipped if mount is
      refused) with the live site on it and a filler file leaving too little room for the build. The
      live tree must be unchanged, the failure recorded (a Release with status "failed" and a report,
      shown by the admin's release view and the page editor's status), and after the filler is removed
      the next publish must go live.
  (c) database unavailable: during a subprocess build, another connection holds SQLite's write lock
      (BEGIN IMMEDIATE) for longer than the busy timeout (20 s); and a build started while the database
      file is moved away. The live tree must be unchanged and the next publish must go live.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, configure, django_env  # noqa: E402
from bench.load_publish import generate  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


def tree_hash(site: Path) -> tuple[str, str, int]:
    """(release name, sha256 of every relative path and its bytes, files) of site/current."""
    current = site / "current"
    if not current.is_symlink():
        return "", "", 0
    live = current.resolve()
    h = hashlib.sha256()
    n = 0
    for dirpath, dirs, names in os.walk(live):
        dirs.sort()
        for name in sorted(names):
            path = Path(dirpath) / name
            h.update(str(path.relative_to(live)).encode() + b"\0")
            h.update(path.read_bytes())
            n += 1
    return live.name, h.hexdigest(), n


def lock_free(site: Path, wait: float = 5.0) -> bool:
    deadline = time.monotonic() + wait
    with open(site / ".build.lock", "a") as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fh, fcntl.LOCK_UN)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.1)


def session_pids(sid: int) -> list[tuple[int, str]]:
    """Live processes of the killed build's session (zombies, dead and waiting for PID 1 to reap them, excluded)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,sid=,stat=,args="], capture_output=True, text=True).stdout  # noqa: S603,S607
    rows = [line.split(None, 3) for line in out.splitlines()]
    return [(int(r[0]), r[3][:60] if len(r) > 3 else "") for r in rows if int(r[1]) == sid and not r[2].startswith("Z")]


class Faults:
    def __init__(self, work: Path, stories: int):
        self.work = work
        self.env = {**os.environ, **django_env(work)}
        from django.conf import settings

        self.settings = settings
        self.story = generate(stories, "故障测试第0次")
        self.edits = 0
        self.rows: list[tuple] = []

    @property
    def site(self) -> Path:
        return Path(self.settings.SITE_DIR)

    def publish_edit(self) -> str:
        from cms.stories.models import StoryPage

        self.edits += 1
        page = StoryPage.objects.get(pk=self.story.pk)
        page.title = f"故障测试第{self.edits}次"
        page.save_revision().publish()
        return page.title

    def live_shows(self, title: str) -> bool:
        page = self.site / "current" / self.story.url.strip("/") / "index.html"
        return page.exists() and title in page.read_text()

    def search_finds(self, title: str) -> bool:
        """The live search index is whole (every file its entry names is there) and finds the edit."""
        from cms.publishing.search import IndexReader

        try:
            return self.story.url in IndexReader((self.site / "current").resolve()).find(title)
        except (OSError, ValueError, KeyError, IndexError):
            return False

    def build_cmd(self, full=False, env=None) -> subprocess.Popen:
        args = [PY, "manage.py", "build_site"] + (["--full"] if full else [])
        return subprocess.Popen(  # noqa: S603
            args,
            cwd=ROOT,
            env={**self.env, "SITE_DIR": str(self.site), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def recover(self, title: str) -> tuple[bool, float, str]:
        """The next build, with no repair: must succeed and show the last edit."""
        t0 = time.monotonic()
        proc = self.build_cmd()
        out, err = proc.communicate(timeout=600)
        ok = proc.returncode == 0 and self.live_shows(title)
        if ok and not self.search_finds(title):
            return False, time.monotonic() - t0, "搜索索引找不到这次修改"
        return ok, time.monotonic() - t0, (err or out).strip().splitlines()[-1][:120] if not ok else ""

    def stray_folders(self) -> list[str]:
        from cms.publishing.builder import current_release_dir, spare_dir
        from cms.publishing.models import Release

        known = set(
            Release.objects.filter(status__in=[Release.STATUS_LIVE, Release.STATUS_SUPERSEDED]).values_list(
                "name", flat=True
            )
        )
        live = current_release_dir()
        return [
            f.name
            for f in (self.site / "releases").iterdir()
            if f.name not in known and f != live and f != spare_dir(live)
        ]

    # -------------------------------------------------------------------------------------- (a) kill
    def kills(self, trials: int, rng: random.Random):
        from cms.publishing.models import Release

        timings = {}
        for full in (False, True):
            title = self.publish_edit()
            t0 = time.monotonic()
            proc = self.build_cmd(full=full)
            proc.communicate(timeout=600)
            timings[full] = time.monotonic() - t0
            assert proc.returncode == 0 and self.live_shows(title)
        print(
            f"(a) 一次 manage.py build_site（含 Django 启动）：增量 {timings[False]:.2f} 秒，--full {timings[True]:.2f} 秒",
            flush=True,
        )
        for n in range(1, trials + 1):
            full = n % 5 == 0
            title = self.publish_edit()
            before = tree_hash(self.site)
            last_pk = Release.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            delay = rng.uniform(0.1, 1.1 * timings[full])
            proc = self.build_cmd(full=full)
            time.sleep(delay)
            finished_first = proc.poll() is not None
            if not finished_first:
                os.kill(proc.pid, signal.SIGKILL)  # the build process only, as the OOM killer or `kill -9` would
            proc.communicate()
            time.sleep(0.5)
            survivors = session_pids(proc.pid)
            for pid, _args in survivors:  # processes this script started: reported, then ended
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            lock_ok = lock_free(self.site)
            after = tree_hash(self.site)
            made = list(Release.objects.filter(pk__gt=last_pk).order_by("pk").values_list("status", "content_of"))
            stage = (
                "构建已完成"
                if finished_first
                else "Release 之前"
                if not made
                else "，".join(("索引" if c else "页面") + ":" + s for s, c in made)
            )
            if after == before:
                live = "不变（逐字节相同）"
                live_ok = True
            elif after[0] != before[0] and self.live_shows(title):
                live = "已切换到完整新版本"
                live_ok = True
            else:
                live = f"被改动！{before[0]} → {after[0]}"
                live_ok = False
            ok, secs, why = self.recover(title)
            strays = self.stray_folders()
            self.rows.append(
                (
                    f"a{n:02d}",
                    f"kill -9 {'--full ' if full else ''}{delay:.2f}s",
                    stage,
                    live,
                    f"残留进程 {len(survivors)}{[a for _p, a in survivors] if survivors else ''}，锁{'空闲' if lock_ok else '被占用'}",
                    f"{'成功' if ok else '失败 ' + why}（{secs:.1f}s）" + (f"，残留目录 {strays}" if strays else ""),
                    live_ok and ok and not survivors and lock_ok and not strays,
                )
            )
            print("  " + " | ".join(str(c) for c in self.rows[-1]), flush=True)

    # --------------------------------------------------------------------------------- (b) disk full
    def disk_full(self):
        from django.test import Client

        from cms.publishing.builder import build_site, current_release_dir
        from cms.publishing.models import Release
        from cms.publishing.wagtail_hooks import static_status
        from cms.stories.models import StoryPage

        mnt = self.work / "tmpfs"
        mnt.mkdir(exist_ok=True)
        live = current_release_dir()
        used = int(subprocess.run(["du", "-sb", str(live)], capture_output=True, text=True).stdout.split()[0])  # noqa: S603,S607
        size = int(used * 1.6) + 8 * 1024 * 1024
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True)  # noqa: S603,S607
        if res.returncode != 0:
            print(f"(b) 无法挂载 tmpfs，跳过：{res.stderr.decode().strip()}")
            self.rows.append(("b", "磁盘满", "跳过：mount 被拒绝", "", "", "", True))
            return
        old_site = self.settings.SITE_DIR
        try:
            self.settings.SITE_DIR = mnt / "site"
            self.env["SITE_DIR"] = str(mnt / "site")
            build_site(full=True, reason="faults: site on tmpfs")
            manifest = max((mnt / "site" / "manifests").iterdir(), key=lambda p: p.stat().st_mtime).stat().st_size
            print(
                f"(b) tmpfs {size / 1e6:.1f} MB，上线版本 {used / 1e6:.1f} MB，清单 {manifest / 1e6:.2f} MB",
                flush=True,
            )
            filler = mnt / "filler"
            admin = self._admin_client(Client)
            for label, leave, full in (
                ("增量，剩 64 KB", 64 * 1024, False),
                ("增量，剩一份清单大小", manifest, False),
                ("--full，剩 40% 版本", int(used * 0.4), True),
            ):
                title = self.publish_edit()
                before = tree_hash(self.site)
                free = shutil.disk_usage(mnt).free
                with open(filler, "wb") as fh:  # fill the tmpfs up to `leave` bytes
                    fh.truncate(0)
                    chunk = b"\0" * (1 << 20)
                    todo = max(0, free - leave)
                    while todo > 0:
                        todo -= fh.write(chunk[: min(len(chunk), todo)])
                free_now = shutil.disk_usage(mnt).free
                last_pk = Release.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                error = ""
                try:
                    build_site(full=full, reason=f"faults: disk full ({label})")
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"[:100]
                after = tree_hash(self.site)
                failed = Release.objects.filter(pk__gt=last_pk, status=Release.STATUS_FAILED).order_by("pk").first()
                made = list(Release.objects.filter(pk__gt=last_pk).order_by("pk").values_list("status", flat=True))
                shown = ""
                if failed:
                    inspect = admin.get(f"/admin/releases/inspect/{failed.pk}/", HTTP_HOST="localhost")
                    listing = admin.get("/admin/releases/", HTTP_HOST="localhost")
                    first = failed.report.strip().splitlines()[0][:40] if failed.report.strip() else ""
                    level, _msg = static_status(StoryPage.objects.get(pk=self.story.pk))
                    shown = (
                        f"后台查看页{'有' if first and first in inspect.content.decode() else '无'}报告，"
                        f"列表{'有' if '失败' in listing.content.decode() else '无'}“失败”，编辑页 {level}"
                    )
                live_same = after == before
                # A build that still fitted (the disk is full only after it) is a success, not a fault: its
                # complete release is live and shows this trial's edit.
                fitted = not failed and not error and after[0] != before[0] and self.live_shows(title)
                filler.unlink()
                recovered_title = self.publish_edit()
                try:
                    build_site(reason="faults: after freeing space")
                    recovered = self.live_shows(recovered_title)
                except Exception as exc:
                    recovered, error = False, error + f"；恢复失败：{exc}"[:80]
                    print(f"  恢复失败时 tmpfs 的用量（剩 {shutil.disk_usage(mnt).free / 1024:.0f} KB）：", flush=True)
                    print(
                        subprocess.run(  # noqa: S603
                            ["du", "-sk", *sorted(str(p) for p in (mnt / "site").glob("*/*"))],  # noqa: S607
                            capture_output=True,
                            text=True,
                        ).stdout,
                        flush=True,
                    )
                strays = self.stray_folders()
                self.rows.append(
                    (
                        "b",
                        f"磁盘满：{label}（剩 {free_now / 1024:.0f} KB）",
                        f"Release：{'，'.join(made) or '无'}；{error or '没有异常'}",
                        "不变（逐字节相同）"
                        if live_same
                        else "构建放得下：已切换到完整新版本"
                        if fitted
                        else f"已切换到新版本 {after[0]}，但该 Release 记为 failed"
                        if failed and failed.name == after[0]
                        else f"被改动！{before[0]} → {after[0]}",
                        f"失败已记录：{'是，' + shown if failed else '否（没有失败）' if fitted else '否'}",
                        ("释放空间后下一次发布上线" if recovered else "释放空间后未恢复")
                        + (f"，残留目录 {strays}" if strays else ""),
                        ((live_same and bool(failed)) or fitted)
                        and recovered
                        and not strays
                        and self.live_shows(recovered_title),
                    )
                )
                print("  " + " | ".join(str(c) for c in self.rows[-1]), flush=True)
        finally:
            self.settings.SITE_DIR = old_site
            self.env["SITE_DIR"] = str(old_site)
            subprocess.run(["umount", str(mnt)], check=False)  # noqa: S603,S607

    def _admin_client(self, client_cls):
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.get_or_create(
            username="faults-admin", defaults={"is_superuser": True, "is_staff": True}
        )
        client = client_cls()
        client.force_login(user)
        return client

    # ---------------------------------------------------------------------------- (c) database down
    def database(self, rng: random.Random):
        from django.db import connections

        from cms.publishing.models import Release

        db = self.work / "db.sqlite3"
        for n in range(1, 4):
            title = self.publish_edit()
            before = tree_hash(self.site)
            last_pk = Release.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            delay = rng.uniform(0.5, 2.5)
            proc = self.build_cmd()
            time.sleep(delay)
            locker = sqlite3.connect(db, timeout=30, isolation_level=None)
            locker.execute("BEGIN IMMEDIATE")  # every other writer now waits for the busy timeout, then fails
            held = time.monotonic()
            try:
                out, err = proc.communicate(timeout=120)
            finally:
                time.sleep(max(0.0, 25 - (time.monotonic() - held)))
                locker.execute("ROLLBACK")
                locker.close()
            after = tree_hash(self.site)
            made = list(Release.objects.filter(pk__gt=last_pk).order_by("pk").values_list("status", "report"))
            rc = proc.returncode
            if after == before:
                live, live_ok = "不变（逐字节相同）", True
            elif self.live_shows(title):
                live, live_ok = "已切换到完整新版本", True
            else:
                live, live_ok = f"被改动！{before[0]} → {after[0]}", False
            last_err = (err or out).strip().splitlines()[-1][:70] if (err or out).strip() else ""
            ok, secs, why = self.recover(self.publish_edit())
            strays = self.stray_folders()
            self.rows.append(
                (
                    f"c{n}",
                    f"写锁（BEGIN IMMEDIATE，25 s）于构建开始后 {delay:.2f}s",
                    f"退出码 {rc}；{last_err}；Release：{'，'.join(s for s, _r in made) or '无'}",
                    live,
                    "",
                    f"下一次发布{'上线' if ok else '失败 ' + why}（{secs:.1f}s）"
                    + (f"，残留目录 {strays}" if strays else ""),
                    live_ok and ok and not strays,
                )
            )
            print("  " + " | ".join(str(c) for c in self.rows[-1]), flush=True)

        # The database file moved away while a build starts (a lost volume, a bad restore).
        title = self.publish_edit()
        before = tree_hash(self.site)
        connections.close_all()
        with sqlite3.connect(db) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        aside = self.work / "aside"
        aside.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{db}{suffix}").exists():
                os.rename(f"{db}{suffix}", aside / f"db.sqlite3{suffix}")
        proc = self.build_cmd()
        out, err = proc.communicate(timeout=120)
        after = tree_hash(self.site)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
            if (aside / f"db.sqlite3{suffix}").exists():
                os.rename(aside / f"db.sqlite3{suffix}", f"{db}{suffix}")
        last_err = (err or out).strip().splitlines()[-1][:70] if (err or out).strip() else ""
        ok, secs, why = self.recover(title)
        strays = self.stray_folders()
        self.rows.append(
            (
                "c4",
                "数据库文件在构建前被移走",
                f"退出码 {proc.returncode}；{last_err}",
                "不变（逐字节相同）" if after == before else f"被改动！{before[0]} → {after[0]}",
                "",
                f"放回后下一次构建{'上线' if ok else '失败 ' + why}（{secs:.1f}s）"
                + (f"，残留目录 {strays}" if strays else ""),
                after == before and ok and not strays,
            )
        )
        print("  " + " | ".join(str(c) for c in self.rows[-1]), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workdir", default="/tmp/xiaoge-faults")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--only", default="abc", help="which parts to run, e.g. 'a' or 'bc'")
    args = parser.parse_args()
    work = Path(args.workdir)
    if (work / "tmpfs").is_mount():
        subprocess.run(["umount", str(work / "tmpfs")], check=False)  # noqa: S603,S607
    configure(work)
    from cms.publishing.builder import build_site

    load = os.getloadavg()
    print(f"CPU 核数 {os.cpu_count()}，开始时负载 {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}", flush=True)
    t0 = time.monotonic()
    faults = Faults(work, args.stories)
    build_site(full=True, reason="faults: first build")
    print(f"生成 {args.stories} 篇故事并全量构建：{time.monotonic() - t0:.1f} 秒", flush=True)
    rng = random.Random(args.seed)
    if "a" in args.only:
        faults.kills(args.kills, rng)
    if "c" in args.only:
        faults.database(rng)
    if "b" in args.only:  # last: it moves SITE_DIR to a tmpfs while the database stays the same
        faults.disk_full()
    load = os.getloadavg()
    print(f"\n结束时负载 {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}\n")
    print("| 试验 | 故障 | 构建过程 | 线上网站 | 进程与锁 / 记录 | 下一次构建 | 结果 |")
    print("|---|---|---|---|---|---|---|")
    for row in faults.rows:
        print("| " + " | ".join(str(c) for c in row[:-1]) + f" | {'通过' if row[-1] else '**未通过**'} |")
    failed = sum(1 for r in faults.rows if not r[-1])
    print(f"\n{len(faults.rows)} 次试验，未通过 {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
