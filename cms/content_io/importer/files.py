"""The images and documents that pages use: one way to find, check and write both kinds of file.

`resolve_file(kind, …)` turns a path written in a page into the key of a file inside content/, with the
checks every file gets (a relative path inside content/, no symlink on the way, a known suffix, a size
limit) and those of its kind (an image Pillow can read; a document's text, metadata and name free of
personal data, as on upload). `write_files(kind, …)` stores each file once, and again only when its bytes
or its text (an image's alt text, a document's title) change.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.core.files.base import ContentFile
from PIL import Image as PILImage

from ..body import SCHEME
from .items import FileItem
from .state import ImportState

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def _image_path_problem(ref: str) -> str | None:
    windows_path = re.match(r"[A-Za-z]:[\\/]", ref)  # C:\photos\x.jpg is not a URL with scheme "c"
    if (SCHEME.match(ref) and not windows_path) or ref.startswith("//"):
        return f"图片 {ref[:60]} 是远程地址：请把图片文件放在 content/ 里，写相对路径"
    if ref.startswith("/") or os.path.isabs(ref) or "\\" in ref or windows_path:
        return f"图片 {ref[:60]} 是绝对路径：请写相对于本文件的路径，如 images/photo.jpg"
    return None


def _image_problems(data: bytes, key: str, ref: str) -> list[str]:
    try:
        with PILImage.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                return [f"图片 {ref} 像素太多（{im.width}×{im.height}）"]
            im.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a broken file
        return [f"图片 {ref} 不是有效的图片文件"]
    return []


def _store_image(image, data: bytes):
    image._set_image_file_metadata()
    with PILImage.open(io.BytesIO(data)) as im:
        image.width, image.height = im.size
    if image.pk:
        image.renditions.all().delete()


def _document_path_problem(ref: str) -> str | None:
    if SCHEME.match(ref) or ref.startswith(("/", "//")) or "\\" in ref or os.path.isabs(ref):
        return f"文档 {ref[:60]} 要写成相对于本文件的路径，如 templates/form.csv"
    return None


def _document_problems(data: bytes, key: str, ref: str) -> list[str]:
    if Path(key).suffix.lower() in (".csv", ".txt"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return [f"文档 {ref} 不是 UTF-8 编码的文本：请另存为 UTF-8"]
    # The checks a document gets on upload: its bytes are what its extension says, and no personal data
    # in its text, metadata (after the metadata that saving removes) or name.
    from cms.documents.checks import file_problems
    from cms.documents.filetypes import extension
    from cms.documents.metadata import strip_metadata

    return file_problems(strip_metadata(data, extension(key)) or data, key, f"文档 {ref}")


def _store_document(document, data: bytes):
    document.file_size = len(data)
    document.file_hash = hashlib.sha1(data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class FileKind:
    name: str  # the ContentSource kind, and the key of Importer.files
    label: str  # in messages
    model: str  # "app_label.ModelName"
    suffixes: frozenset[str]
    formats: str  # the suffixes, as messages list them
    max_bytes: int
    path_problem: Callable[[str], str | None]  # why a path as written is not one inside content/
    content_problems: Callable[[bytes, str, str], list[str]]  # (data, key, path as written) → messages
    store: Callable[[object, bytes], None]  # after the file is saved to storage: what the model keeps of it
    text_field: str  # the model's field that holds the item's text
    text: Callable[[FileItem], str]  # what the model keeps of the item's text
    attributes: Callable[[str, str], dict]  # (key, text) → the model's fields


IMAGE = FileKind(
    "image",
    "图片",
    "images.CustomImage",
    frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif"}),
    "jpg、png、webp、gif",
    MAX_IMAGE_BYTES,
    _image_path_problem,
    _image_problems,
    _store_image,
    "description",
    lambda item: item.text[:255],  # empty: a decorative image
    lambda key, alt: {"title": (alt or Path(key).stem)[:255], "description": alt},
)
_DOCUMENT_SUFFIXES = frozenset(
    {".csv", ".docx", ".odt", ".ods", ".pdf", ".txt", ".xlsx"}
)  # also WAGTAILDOCS_EXTENSIONS
DOCUMENT = FileKind(
    "document",
    "文档",
    "documents.CustomDocument",
    _DOCUMENT_SUFFIXES,
    "、".join(sorted(s[1:] for s in _DOCUMENT_SUFFIXES)),
    MAX_DOCUMENT_BYTES,
    _document_path_problem,
    _document_problems,
    _store_document,
    "title",
    lambda item: (item.text or Path(item.key).stem)[:255],
    lambda key, title: {"title": title},
)


class Files(ImportState):
    def resolve_file(self, kind: FileKind, base_dir: str, ref: str, path: str, line, field_name) -> str:
        """The key of the file `ref` (as written in `path`, relative to `base_dir`), or "" with a problem."""

        def fail(message):
            self.problem(path, message, line, field_name)
            return ""

        message = kind.path_problem(ref)
        if message:
            return fail(message)
        key = posixpath.normpath(posixpath.join(base_dir, ref))
        if key.startswith("../") or key == "..":
            return fail(f"{kind.label} {ref} 在 content/ 以外")
        items = self.files[kind.name]
        if key in items:
            return key
        walk = self.root
        for part in key.split("/"):
            walk = walk / part
            if walk.is_symlink():
                return fail(f"{kind.label} {ref} 是符号链接（或在符号链接的文件夹里）：请放入真实的文件")
        full = self.root / key
        if not full.is_file():
            return fail(f"找不到{kind.label}文件 {ref}")
        if full.suffix.lower() not in kind.suffixes:
            return fail(f"{kind.label} {ref} 的格式不受支持（可用：{kind.formats}）")
        data = full.read_bytes()
        if len(data) > kind.max_bytes:
            return fail(f"{kind.label} {ref} 太大（{len(data) // 1024} KB，上限 {kind.max_bytes // 1024 // 1024} MB）")
        problems = kind.content_problems(data, key, ref)
        for problem in problems:
            self.problem(path, problem, line, field_name)
        if problems:
            return ""
        items[key] = FileItem(key, data, hashlib.sha256(data).hexdigest())
        return key

    def write_files(self, kind: FileKind, sources, plan):
        """Store the files of a kind: a new or changed file is saved again, a changed text only updates it."""
        model = apps.get_model(kind.model)
        ids = self.file_ids[kind.name]
        for key, item in self.files[kind.name].items():
            source = sources.get(key)
            obj = model.objects.filter(pk=source.object_id).first() if source else None
            text = kind.text(item)
            if obj is not None and plan[key] == "unchanged" and getattr(obj, kind.text_field) == text:
                ids[key] = obj.pk
                self.record(key, "unchanged")
                continue
            if obj is None:
                obj = model(**kind.attributes(key, text))
            if plan[key] != "unchanged" or obj.pk is None:
                obj.file.save(Path(key).name, ContentFile(item.data), save=False)
                kind.store(obj, item.data)
            for name, value in kind.attributes(key, text).items():
                setattr(obj, name, value)
            obj.save()
            ids[key] = obj.pk
            self.record(key, "created" if source is None else "updated")
            self.save_source(sources, key, kind.name, obj.pk, item.digest)
