"""Restore a backup made by backup_site into this installation's database and media folder.

Refuses to overwrite a database that already has pages unless --force. After a restore, run
`manage.py build_site --full`: the release it makes is identical to the one built before the backup.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from .backup_site import pg_env, pg_tool


class Command(BaseCommand):
    help = "从 backup_site 生成的压缩包恢复数据库和媒体文件。"

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--force", action="store_true", help="覆盖已有内容的数据库")

    def handle(self, *args, **options):
        archive = Path(options["archive"])
        if not archive.is_file():
            raise CommandError(f"找不到备份文件 {archive}")
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(tmp, filter="data")  # no absolute paths, no links out of tmp
            manifest_path = Path(tmp) / "backup.json"
            if not manifest_path.is_file():
                raise CommandError(f"{archive} 不是 backup_site 生成的备份（缺少 backup.json）")
            manifest = json.loads(manifest_path.read_text())
            vendor = connection.vendor
            if manifest["database"] != vendor:
                raise CommandError(f"备份来自 {manifest['database']} 数据库，不能恢复到 {vendor}")
            if not options["force"] and self.has_pages():
                raise CommandError("数据库里已经有页面：确认要覆盖就加 --force")
            if vendor == "sqlite":
                connection.close()
                shutil.copyfile(Path(tmp) / "db.sqlite3", settings.DATABASES["default"]["NAME"])
            else:
                args, env = pg_env()
                name = settings.DATABASES["default"]["NAME"]
                connection.close()
                dump = str(Path(tmp) / "db.pgdump")
                result = subprocess.run(  # noqa: S603 - fixed program, arguments from settings
                    [pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", *args, "-d", name, dump],
                    env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if result.returncode:
                    raise CommandError(f"pg_restore 失败：{result.stderr.strip()[-2000:]}")
            media = Path(settings.MEDIA_ROOT)
            restored = Path(tmp) / "media"
            if media.exists():
                shutil.rmtree(media)
            if restored.is_dir():
                shutil.copytree(restored, media)
            else:
                media.mkdir(parents=True, exist_ok=True)
        self.stdout.write(
            f"已从 {archive} 恢复（备份时间 {manifest['created']}）。请运行 manage.py build_site --full。"
        )

    def has_pages(self) -> bool:
        from django.db.utils import DatabaseError
        from wagtail.models import Page

        try:  # Wagtail's first migration makes a placeholder "Welcome" page: that is still an empty site
            return Page.objects.filter(depth__gt=1).exclude(content_type__model="page").exists()
        except DatabaseError:
            return False
