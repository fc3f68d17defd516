"""make backup / make restore: a restore into an empty database and media folder rebuilds an identical release."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.import_fixtures import good_tree, jpeg_bytes, story, write_files
from tests.support.installs import ROOT, install, manage, tree_digest


def test_a_restore_rebuilds_an_identical_release(tmp_path):
    content = good_tree(tmp_path)
    write_files(
        content,
        {
            "stories/photo.md": story(
                "带照片的故事", "胡同里的照片。", extra="hero_image:\n  file: images/lane.jpg\n  alt: 胡同\n"
            ),
            "stories/images/lane.jpg": jpeg_bytes(size=(640, 360)),
        },
    )
    first = install(tmp_path, "first")
    manage("migrate", "-v0", env=first)
    manage("bootstrap_site", "--no-admin", env=first)
    manage("import_content", str(content), "--publish", "--initial", env=first)
    manage("build_site", "--full", env=first)
    archive = tmp_path / "backup.tar.gz"
    assert "已备份到" in manage("backup_site", "--output", str(archive), env=first)

    second = install(tmp_path, "second")  # an empty database and an empty media folder
    assert "已从" in manage("restore_site", str(archive), env=second)
    manage("build_site", "--full", env=second)
    releases = [Path(env["SITE_DIR"]) / "current" for env in (first, second)]
    a, b = (tree_digest(r.resolve()) for r in releases)
    assert a.keys() == b.keys()
    assert a == b, [k for k in a if a[k] != b.get(k)][:10]
    assert any(k.startswith("media/images/") for k in a), "the photo's renditions came back from the media backup"


def test_restore_refuses_to_overwrite_a_site_with_pages(tmp_path):
    content = good_tree(tmp_path)
    env = install(tmp_path, "one")
    manage("migrate", "-v0", env=env)
    manage("bootstrap_site", "--no-admin", env=env)
    manage("import_content", str(content), env=env)
    archive = tmp_path / "b.tar.gz"
    manage("backup_site", "--output", str(archive), env=env)
    result = subprocess.run(
        [sys.executable, "manage.py", "restore_site", str(archive)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "--force" in result.stderr


PG_URL = os.environ.get("DATABASE_URL", "")


@pytest.mark.skipif(not PG_URL.startswith("postgres"), reason="PostgreSQL only (.ci/run runs the suite on it too)")
def test_a_postgres_restore_with_pg_dump_rebuilds_an_identical_release(tmp_path):
    import psycopg

    base, _, _name = PG_URL.rpartition("/")
    names = [f"xiaoge_backup_{os.getpid()}_{n}" for n in ("first", "second")]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        content = good_tree(tmp_path)
        first, second = install(tmp_path, "first"), install(tmp_path, "second")
        first["DATABASE_URL"], second["DATABASE_URL"] = (f"{base}/{n}" for n in names)
        manage("migrate", "-v0", env=first)
        manage("bootstrap_site", "--no-admin", env=first)
        manage("import_content", str(content), "--publish", "--initial", env=first)
        manage("build_site", "--full", env=first)
        archive = tmp_path / "backup.tar.gz"
        manage("backup_site", "--output", str(archive), env=first)
        manage("restore_site", str(archive), env=second)
        manage("build_site", "--full", env=second)
        a, b = (tree_digest((Path(env["SITE_DIR"]) / "current").resolve()) for env in (first, second))
        assert a == b
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
