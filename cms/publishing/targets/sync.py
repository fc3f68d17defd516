"""Publish targets: after a release is verified and live on this machine, copy it to object stores that
speak the S3 API (Aliyun OSS, Tencent COS, Huawei OBS, MinIO, AWS S3), where the public site is served.

    PUBLISH_TARGETS="s3://bucket/prefix s3://other-bucket"     (the local release folder is always built)

The S3 client is boto3 with its own standard settings: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, and AWS_S3_ADDRESSING_STYLE (path or virtual) where a provider
needs it. Transient errors (500, 503 SlowDown, throttling, connection resets, timeouts) are retried with
backoff by botocore's standard retry mode.

What the bucket holds is recorded in the database (TargetObject: key, MD5, when it left the live release),
shared by every CMS machine, and marked in the bucket by ``.xiaoge/release.json``, written last. A sync:

1. uploads only objects whose bytes differ from what the target holds (MD5, which is also the object's
   ETag, so ``sync_site --verify`` can compare with the bucket's own listing), each with its Content-Type,
   Cache-Control and, for text, its gzip twin in place of the file (Content-Encoding: gzip);
2. in an order that never shows a reader a page whose links or files are missing: hashed assets, image
   renditions, documents and search chunks first; then pages, each after the pages it links to; then the
   site-wide files (listings' feeds, sitemap, API index, the search entry);
3. then deletes the pages and documents that left the release (a page taken off the site leaves at once:
   it may have been taken off for a reason), and deletes files with hashed names only once no release of
   the last SITE_RELEASES_KEEP uses them (a page cached by a CDN may still ask for them).

A sync killed halfway leaves the record of what was uploaded; the next build finishes it. Wrong credentials
or a missing bucket fail with a message on the release and delete nothing.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import mimetypes
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Release, TargetObject, TargetSync
from .order import IMMUTABLE, upload_order
from .purge import purge

logger = logging.getLogger(__name__)

MARKER = ".xiaoge/release.json"
GZIP = {".html", ".css", ".js", ".json", ".xml", ".txt", ".svg", ".webmanifest", ".map", ".bin"}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".bin": "application/octet-stream",
}
REVALIDATE = "public, max-age=0, must-revalidate"
FOREVER = "public, max-age=31536000, immutable"


class TargetError(Exception):
    pass


@dataclass(frozen=True)
class Location:
    url: str
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> Location:
        match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(.*))?", url.strip())
        if not match:
            raise TargetError(f"发布目标 {url!r} 无法识别：应写成 s3://存储桶名/前缀")
        prefix = (match.group(2) or "").strip("/")
        return cls(url.strip(), match.group(1), prefix + "/" if prefix else "")

    def key(self, rel: str) -> str:
        return self.prefix + rel


def configured() -> list[Location]:
    return [Location.parse(u) for u in settings.PUBLISH_TARGETS]


def client():
    import boto3
    from botocore.config import Config

    style = os.environ.get("AWS_S3_ADDRESSING_STYLE", "auto")
    config = Config(
        retries={"mode": "standard", "total_max_attempts": settings.PUBLISH_RETRIES},
        connect_timeout=5,
        read_timeout=30,
        s3={"addressing_style": style},
        max_pool_connections=16,
    )
    return boto3.session.Session().client("s3", config=config)


# ---------------------------------------------------------------------------------------------- objects


@dataclass
class LocalObject:
    rel: str
    path: Path  # the file uploaded: the page, or its .gz twin
    md5: str
    size: int
    headers: dict = field(default_factory=dict)


_md5_cache: dict[tuple, str] = {}  # (inode, size, mtime) → MD5: releases share unchanged files by hard link


def md5_of(path: Path) -> str:
    st = path.stat()
    key = (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)
    if key not in _md5_cache:
        h = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _md5_cache[key] = h.hexdigest()
    return _md5_cache[key]


def headers_for(rel: str, gzipped: bool) -> dict:
    suffix = os.path.splitext(rel)[1].lower()
    kind = TYPES.get(suffix) or mimetypes.guess_type(rel)[0] or "application/octet-stream"
    headers = {"ContentType": kind, "CacheControl": FOREVER if IMMUTABLE.match(rel) else REVALIDATE}
    if gzipped:
        headers["ContentEncoding"] = "gzip"
    if rel.startswith("media/documents/"):
        # Downloaded, never opened in the browser. The CSP "sandbox" header nginx adds cannot be stored with
        # an object; set it in the CDN's response headers (docs/operations.md).
        headers["ContentDisposition"] = "attachment"
    return headers


def local_objects(release: Path) -> dict[str, LocalObject]:
    """Every file of the release as the object to upload (the .gz twin in place of a text file)."""
    out = {}
    for dirpath, _dirs, names in os.walk(release):
        for name in names:
            if name.endswith((".gz", ".br")) or ".tmp-" in name:
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(release).as_posix()
            twin = path.with_name(name + ".gz")
            gzipped = os.path.splitext(name)[1].lower() in GZIP and twin.exists()
            body = twin if gzipped else path
            out[rel] = LocalObject(rel, body, md5_of(body), body.stat().st_size, headers_for(rel, gzipped))
    return out


# ---------------------------------------------------------------------------------------------- sync


@dataclass
class SyncResult:
    location: Location
    uploaded: int = 0
    bytes: int = 0
    deleted: int = 0
    retired: int = 0
    urls: list[str] = field(default_factory=list)
    seconds: float = 0.0


def check_access(s3, loc: Location):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3.head_bucket(Bucket=loc.bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("404", "NoSuchBucket") or status == 404:
            raise TargetError(f"{loc.url}：存储桶 {loc.bucket} 不存在") from None
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch") or status == 403:
            raise TargetError(f"{loc.url}：没有权限访问存储桶 {loc.bucket}（请检查访问密钥）") from None
        raise TargetError(f"{loc.url}：无法访问存储桶（{code or status}）") from None
    except BotoCoreError as exc:
        raise TargetError(f"{loc.url}：无法连接对象存储（{exc}）") from None


def public_urls(rel: str) -> list[str]:
    base = settings.PUBLIC_BASE_URL
    if rel.endswith("index.html") or rel.endswith("index.json") and rel.startswith("api/"):
        folder = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
        return [f"{base}/{folder}", f"{base}/{rel}"]
    return [f"{base}/{rel}"]


class Syncer:
    def __init__(self, loc: Location, s3=None, workers: int = 8):
        self.loc = loc
        self.s3 = s3 or client()
        self.workers = workers

    def put(self, obj: LocalObject):
        with open(obj.path, "rb") as fh:
            self.s3.put_object(Bucket=self.loc.bucket, Key=self.loc.key(obj.rel), Body=fh, **obj.headers)

    def delete(self, rels: list[str]):
        for start in range(0, len(rels), 1000):
            batch = rels[start : start + 1000]
            answer = self.s3.delete_objects(
                Bucket=self.loc.bucket,
                Delete={"Objects": [{"Key": self.loc.key(r)} for r in batch], "Quiet": True},
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise TargetError(f"{self.loc.url}：删除 {first.get('Key')} 失败（{first.get('Code')}）")

    def sync(self, release: Release, folder: Path, links: dict[str, list[str]], keep: int) -> SyncResult:
        started = time.monotonic()
        result = SyncResult(self.loc)
        check_access(self.s3, self.loc)
        held = {o.key: o for o in TargetObject.objects.filter(target=self.loc.url)}
        syncs = TargetSync.objects.filter(target=self.loc.url).order_by("-seq")
        seq = (syncs.values_list("seq", flat=True).first() or 0) + 1
        local = local_objects(folder)
        changed = [r for r, o in local.items() if r not in held or held[r].md5 != o.md5 or held[r].retired_seq]
        for wave in upload_order(changed, links, present=set(held)):
            self.upload_wave([local[r] for r in wave], held, result)
        gone = [k for k, o in held.items() if k not in local and o.retired_seq is None]
        now_gone = [k for k in gone if not IMMUTABLE.match(k)]
        if now_gone:
            self.delete(now_gone)
            TargetObject.objects.filter(target=self.loc.url, key__in=now_gone).delete()
            result.deleted += len(now_gone)
            result.urls += [u for k in now_gone for u in public_urls(k)]
        retiring = [k for k in gone if IMMUTABLE.match(k)]
        TargetObject.objects.filter(target=self.loc.url, key__in=retiring).update(retired_seq=seq)
        result.retired = len(retiring)
        expired = list(
            TargetObject.objects.filter(target=self.loc.url, retired_seq__lte=seq - keep).values_list("key", flat=True)
        )
        if expired:
            self.delete(expired)
            TargetObject.objects.filter(target=self.loc.url, key__in=expired).delete()
            result.deleted += len(expired)
        marker = {"release": release.name, "seq": seq, "objects": len(local), "synced_at": timezone.now().isoformat()}
        self.s3.put_object(
            Bucket=self.loc.bucket,
            Key=self.loc.key(MARKER),
            Body=json.dumps(marker).encode(),
            ContentType="application/json",
            CacheControl="no-store",
        )
        result.seconds = time.monotonic() - started
        TargetSync.objects.create(
            target=self.loc.url,
            release=release,
            seq=seq,
            status=TargetSync.STATUS_DONE,
            uploaded=result.uploaded,
            bytes=result.bytes,
            deleted=result.deleted,
            seconds=result.seconds,
            finished_at=timezone.now(),
        )
        return result

    def upload_wave(self, objects: list[LocalObject], held: dict, result: SyncResult):
        """Upload one wave in parallel; record each object once it is in the bucket."""
        done: list[LocalObject] = []
        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            futures = {pool.submit(self.put, obj): obj for obj in objects}
            try:
                for future in concurrent.futures.as_completed(futures):
                    future.result()
                    done.append(futures[future])
                    if len(done) >= 200:
                        self.record(done, held, result)
                        done = []
            finally:
                for future in futures:
                    future.cancel()
                self.record(done, held, result)

    def record(self, objects: list[LocalObject], held: dict, result: SyncResult):
        if not objects:
            return
        with transaction.atomic():
            for obj in objects:
                row = held.get(obj.rel)
                if row is None:
                    held[obj.rel] = TargetObject.objects.create(target=self.loc.url, key=obj.rel, md5=obj.md5)
                else:
                    row.md5, row.retired_seq = obj.md5, None
                    row.save(update_fields=["md5", "retired_seq"])
        result.uploaded += len(objects)
        result.bytes += sum(o.size for o in objects)
        result.urls += [u for o in objects if not IMMUTABLE.match(o.rel) for u in public_urls(o.rel)]


def links_of(manifest: dict) -> dict[str, list[str]]:
    return {rel: meta.get("links", []) for rel, meta in manifest.get("files", {}).items()}


def sync_release(
    release: Release, folder: Path, manifest: dict, only: list[Location] | None = None
) -> list[SyncResult]:
    """Copy a live release to every configured target (or those given). Each target's failure is reported on
    the release (and raised at the end); a target that failed is tried again by the next build."""
    results, errors = [], []
    for loc in configured() if only is None else only:
        try:
            results.append(Syncer(loc).sync(release, folder, links_of(manifest), settings.SITE_RELEASES_KEEP))
        except Exception as exc:  # noqa: BLE001 - every target is tried; the failures are reported together
            message = str(exc) if isinstance(exc, TargetError) else f"{loc.url}：同步失败（{exc}）"
            logger.warning("发布目标同步失败：%s", message)
            TargetSync.objects.create(
                target=loc.url, release=release, seq=0, status=TargetSync.STATUS_FAILED, report=message[:2000]
            )
            errors.append(message)
            Release.objects.filter(pk=release.pk).update(
                report=f"{release.report}\n发布目标同步失败：{message}"[:10000]
            )
    if results:
        purge([u for r in results for u in r.urls])
    if errors:
        raise TargetError("；".join(errors))
    return results


def pending(live: Release) -> list[Location]:
    """Targets whose last successful sync is not of the live release (a sync failed or was killed)."""
    out = []
    for loc in configured():
        last = TargetSync.objects.filter(target=loc.url, status=TargetSync.STATUS_DONE).order_by("-seq").first()
        if last is None or last.release_id != live.pk:
            out.append(loc)
    return out


def verify(loc: Location, release: Release, folder: Path, manifest: dict, repair: bool = True) -> dict:
    """Compare the bucket's own listing (keys and ETags) with the live release and, with repair, put right
    what differs: objects deleted or changed by hand are uploaded again, the record corrected, and objects
    no release put there (under the prefix) are reported. Returns counts."""
    s3 = client()
    check_access(s3, loc)
    local = local_objects(folder)
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=loc.bucket, Prefix=loc.prefix):
        for item in page.get("Contents", []):
            found[item["Key"][len(loc.prefix) :]] = item["ETag"].strip('"')
    missing = [r for r in local if r not in found]
    changed = [r for r in local if r in found and found[r] != local[r].md5]
    held = {o.key for o in TargetObject.objects.filter(target=loc.url)}
    unknown = sorted(k for k in found if k not in local and k not in held and k != MARKER)
    if repair and (missing or changed):
        syncer = Syncer(loc, s3)
        rows = {o.key: o for o in TargetObject.objects.filter(target=loc.url)}
        result = SyncResult(loc)
        for wave in upload_order(missing + changed, links_of(manifest), present=set(found)):
            syncer.upload_wave([local[r] for r in wave], rows, result)
        purge(result.urls)
    return {"missing": missing, "changed": changed, "unknown": unknown}


def sync_live() -> list[SyncResult]:
    """Bring every target that does not show the live release up to it (after a build, a failed or killed
    sync, or a rollback). Called by the build worker with the build lock held."""
    from ..releases import current_release_dir, load_manifest

    live = current_release_dir()
    # Only the live release of the whole site: a CMS machine whose own folder still holds an older release
    # (another machine built since) must not push it over the newer one in the bucket.
    release = Release.objects.filter(name=live.name, status=Release.STATUS_LIVE).first() if live else None
    todo = pending(release) if release is not None else []
    if not todo:
        return []
    return sync_release(release, live, load_manifest(live.name), only=todo)


def sync_live_quietly() -> list[SyncResult]:
    """sync_live() for the build worker: a target that fails is recorded on the release and tried again by
    the next build or when the worker is idle; the local release stays live either way."""
    try:
        return sync_live()
    except TargetError:
        return []  # recorded on the release and in TargetSync
    except Exception:  # noqa: BLE001 - the worker goes on; the failure is in the log and retried
        logger.exception("发布目标同步失败")
        return []
