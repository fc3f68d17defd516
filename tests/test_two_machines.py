"""Two CMS machines: separate site folders and media folders, one PostgreSQL database, one media bucket and one
public bucket (moto on loopback). One build at a time across them (a database lock: their lock files are in
different folders), both build with the uploaded media, and the machine whose folder is behind does not push
its older release over the newer one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import test_targets
from tests.support.import_fixtures import good_tree, jpeg_bytes, story, write_files
from tests.support.installs import ROOT, install, manage

moto = test_targets.moto
PG_URL = os.environ.get("DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not PG_URL.startswith("postgres"), reason="PostgreSQL only (.ci/run runs the suite on it too)"
)


def machine(tmp: Path, name: str, database: str, endpoint: str, media: str, site: str) -> dict:
    env = install(tmp, name)
    env.update(
        DATABASE_URL=database,
        MEDIA_ROOT=str(tmp / f"media-{name}-unused"),
        MEDIA_STORAGE_URL=f"s3://{media}/cms",
        PUBLISH_TARGETS=f"s3://{site}/www",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's
        AWS_DEFAULT_REGION="us-east-1",
        AWS_S3_ADDRESSING_STYLE="path",
    )
    return env


def test_two_cms_machines_share_postgresql_and_the_buckets(tmp_path, moto):
    import boto3
    import psycopg

    base = PG_URL.rpartition("/")[0]
    name = f"xiaoge_machines_{os.getpid()}"
    media, site = f"media-{os.getpid()}", f"site-{os.getpid()}"
    s3 = boto3.client(
        "s3", endpoint_url=moto, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    s3.create_bucket(Bucket=media)
    s3.create_bucket(Bucket=site)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        a, b = (machine(tmp_path, m, f"{base}/{name}", moto, media, site) for m in ("a", "b"))
        content = good_tree(tmp_path)
        photo = "hero_image:\n  file: images/lane.jpg\n  alt: 胡同\n"
        write_files(
            content,
            {
                "stories/photo.md": story("带照片的故事", "胡同里的照片。", extra=photo),
                "stories/images/lane.jpg": jpeg_bytes(size=(640, 360)),
            },
        )
        manage("migrate", "-v0", env=a)
        manage("bootstrap_site", "--no-admin", env=a)
        manage("import_content", str(content), "--publish", "--initial", env=a)  # uploaded on machine a
        originals = [o["Key"] for o in s3.list_objects_v2(Bucket=media).get("Contents", [])]
        assert any(k.startswith("cms/original_images/") for k in originals), originals

        builds = [
            subprocess.Popen(  # noqa: S603 - this interpreter and manage.py
                [sys.executable, "manage.py", "build_site", "--full"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for env in (a, b)
        ]
        for process in builds:
            out, err = process.communicate(timeout=600)
            assert process.returncode == 0, f"{out[-1000:]}\n{err[-2000:]}"

        with psycopg.connect(f"{base}/{name}") as conn:
            rows = conn.execute(
                "SELECT name, status, started_at, finished_at FROM publishing_release ORDER BY started_at"
            ).fetchall()
        assert len([r for r in rows if r[3] is not None]) >= 2, rows
        for earlier, later in zip(rows, rows[1:], strict=False):
            assert later[2] >= earlier[3], f"two builds at once: {earlier[0]} and {later[0]}"
        live = next(r[0] for r in rows if r[1] == "live")

        folders = {m: (Path(env["SITE_DIR"]) / "current").resolve() for m, env in (("a", a), ("b", b))}
        images = {m: {p.name: p.read_bytes() for p in (f / "media" / "images").iterdir()} for m, f in folders.items()}
        assert images["a"] and images["a"] == images["b"], "both machines built with the uploaded photo"
        stored = {o["Key"] for o in s3.list_objects_v2(Bucket=media).get("Contents", [])}
        assert {f"cms/images/{n}" for n in images["a"]} <= stored, "renditions are made in the media bucket"
        assert not any(Path(env["MEDIA_ROOT"]).exists() for env in (a, b)), "no local media on either machine"

        ahead = next(m for m, f in folders.items() if f.name == live)
        behind = "b" if ahead == "a" else "a"
        envs = {"a": a, "b": b}
        stale = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "sync_site"], cwd=ROOT, env=envs[behind], capture_output=True, text=True
        )
        assert stale.returncode != 0 and "不是线上版本" in stale.stderr, stale.stderr[-500:]
        marker = s3.get_object(Bucket=site, Key="www/.xiaoge/release.json")["Body"].read().decode()
        assert live in marker, "the bucket shows the live release, synced inside the lock by the build"
        manage("sync_site", "--verify", env=envs[ahead])
        public = {o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=site) for o in p["Contents"]}
        assert {f"www/media/images/{n}" for n in images["a"]} <= public
        assert not [k for k in public if "original" in k]
        marker = s3.get_object(Bucket=site, Key="www/.xiaoge/release.json")["Body"].read().decode()
        assert live in marker
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
