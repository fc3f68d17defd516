"""A separate installation of the CMS for a test: its own SQLite database, media and site folders, driven
through manage.py in a subprocess (backups, several processes at once, what a fresh machine does)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def manage(*args, env):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def install(tmp: Path, name: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEDIA_ROOT", "SITE_DIR")}
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp / f'{name}.sqlite3'}",
        "MEDIA_ROOT": str(tmp / f"media-{name}"),
        "SITE_DIR": str(tmp / f"site-{name}"),
        "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "SITE_AUTO_BUILD": "false",
    }
