"""Back up the CMS: the database and the uploaded media, in one archive.

SQLite is copied with SQLite's online backup (consistent while the CMS runs); PostgreSQL is dumped with
pg_dump (custom format). The archive also records which kind it is, so restore_site knows what to do.
The static releases are not backed up: `build_site --full` makes an identical release from a restore.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone


def pg_tool(name: str) -> str:
    """The full path of a PostgreSQL client program (pg_dump, pg_restore), or a clear error."""
    import glob
    import shutil

    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise CommandError(f"找不到 {name}：请安装 PostgreSQL 客户端（Debian：apt install postgresql-client）")
    return found


def pg_env() -> tuple[list[str], dict]:
    """Connection arguments for pg_dump/pg_restore/psql from Django's settings (the password via env)."""
    db = settings.DATABASES["default"]
    args = ["-h", db.get("HOST") or "localhost", "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres"]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


class Command(BaseCommand):
    help = "备份数据库和上传的媒体文件到一个压缩包（默认 var/backups/）。"

    def add_arguments(self, parser):
        parser.add_argument("--output", help="压缩包路径；默认 var/backups/xiaoge-<时间>.tar.gz")

    def handle(self, *args, **options):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        out = Path(options["output"] or Path(settings.BASE_DIR) / "var" / "backups" / f"xiaoge-{stamp}.tar.gz")
        out.parent.mkdir(parents=True, exist_ok=True)
        vendor = connection.vendor
        with tempfile.TemporaryDirectory() as tmp:
            dump = Path(tmp) / ("db.sqlite3" if vendor == "sqlite" else "db.pgdump")
            if vendor == "sqlite":
                source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
                target = sqlite3.connect(dump)
                with target:
                    source.backup(target)
                source.close()
                target.close()
            elif vendor == "postgresql":
                args, env = pg_env()
                name = settings.DATABASES["default"]["NAME"]
                result = subprocess.run(  # noqa: S603 - fixed program, arguments from settings
                    [pg_tool("pg_dump"), "-Fc", "--no-owner", *args, "-f", str(dump), name],
                    env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if result.returncode:
                    raise CommandError(f"pg_dump 失败：{result.stderr.strip()}")
            else:
                raise CommandError(f"不支持备份这种数据库：{vendor}")
            partial = out.with_name(out.name + ".part")
            with tarfile.open(partial, "w:gz") as tar:
                manifest = {"format": 1, "database": vendor, "created": stamp}
                data = json.dumps(manifest).encode()
                info = tarfile.TarInfo("backup.json")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                tar.add(dump, arcname=dump.name)
                media = Path(settings.MEDIA_ROOT)
                if media.is_dir():
                    tar.add(media, arcname="media")
            partial.replace(out)  # never a half-written archive under the final name
        size = out.stat().st_size
        self.stdout.write(f"已备份到 {out}（{size / 1024 / 1024:.1f} MB，数据库：{vendor}）")
        if settings.MEDIA_STORAGE_URL:
            self.stderr.write(
                f"注意：上传的图片和文档在对象存储 {settings.MEDIA_STORAGE_URL}（MEDIA_STORAGE_URL），不在这个备份里；"
                "请用存储桶的版本控制或跨区域复制备份它们。"
            )
