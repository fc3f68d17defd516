"""The privacy guard over documents and the media a page uses: what their files really are, what they say.

`document_problems(document)` lists what stops a page that links the document from being published:
a file whose content is not what its extension claims (a JPEG renamed ``.pdf``), personal data in its
text, its metadata, its title, summary or file name, and a collection that only logged-in users may see
(`restricted_problems`, which images share). Each message names the document (title and file name) and
shows every match masked.

`file_problems(data, filename)` is the same check on the bytes of an upload, and `strip_metadata`
(`metadata.py`) removes who made the file (PDF /Info and XMP, Office and OpenDocument author fields) before
it is stored; the document model runs both on every new file (`CustomDocument.clean` for the admin's
forms, `save` for the importer and scripts). What the bytes are is `filetypes.py`.

Reading a PDF's text costs tens of milliseconds; the result is kept per file hash, so a publish that
checks the same documents again only reads and hashes their bytes.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import threading
import unicodedata
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote

from cms.core.personal_data import KIND_LABELS, find_personal_data, mask

from .filetypes import EXPECTED_KIND, KIND_NAMES, decode_text, detect_kind, extension

MAX_UNZIPPED = 200 * 1024 * 1024  # XML read from one Office file; past this the file is refused unread


class Unreadable(Exception):
    """The content cannot be read, so it cannot be checked (the message says why, in Chinese)."""


# -- what the text says ----------------------------------------------------------------------------------
_BREAK = re.compile(
    r"</(?:[\w.-]+:)?(?:p|tc|c|si|row|tr|h|table-cell|list-item|li|div|description)>"
    r"|<(?:[\w.-]+:)?(?:br|tab|cr|line-break|s)\b[^>]*>",
)
_TAG = re.compile(r"<[^>]*>")
_TARGET = re.compile(r"""\bTarget\s*=\s*["']([^"']*)["']""")


def xml_text(xml: bytes) -> str:
    """The text of an XML part: runs of a paragraph or cell joined, paragraphs and cells on their own lines."""
    s = xml.decode("utf-8", "replace")
    s = _BREAK.sub("\n", s)
    return html.unescape(_TAG.sub("", s))


def _part_label(name: str) -> str:
    rules = (
        (r"docProps/(core|app)\.xml|meta\.xml", "文档属性"),
        (r"docProps/custom\.xml", "自定义属性"),
        (r"word/document\.xml|content\.xml", "正文"),
        (r"word/header\d*\.xml", "页眉"),
        (r"word/footer\d*\.xml", "页脚"),
        (r"(word|xl|ppt)/.*comment.*\.xml", "批注"),
        (r"word/footnotes\.xml", "脚注"),
        (r"word/endnotes\.xml", "尾注"),
        (r"xl/sharedStrings\.xml", "单元格"),
        (r"ppt/notesSlides/.*\.xml", "演讲者备注"),
        (r"styles\.xml|settings\.xml", "样式与设置"),
        (r".*\.rels", "链接"),
    )
    for pattern, label in rules:
        if re.fullmatch(pattern, name):
            return label
    if m := re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", name):
        return f"第 {m[1]} 个工作表"
    if m := re.fullmatch(r"ppt/slides/slide(\d+)\.xml", name):
        return f"第 {m[1]} 张幻灯片"
    return f"“{name}”"


def _zip_texts(data: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts = [i for i in z.infolist() if i.filename.endswith((".xml", ".rels")) and not i.is_dir()]
            if sum(i.file_size for i in parts) > MAX_UNZIPPED:
                raise Unreadable("解压后过大，无法检查")
            for info in parts:
                if info.filename == "[Content_Types].xml":
                    continue
                content = z.read(info)
                if info.filename.endswith(".rels"):
                    targets = _TARGET.findall(content.decode("utf-8", "replace"))
                    yield _part_label(info.filename), "\n".join(unquote(html.unescape(t)) for t in targets)
                else:
                    yield _part_label(info.filename), xml_text(content)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as e:
        raise Unreadable("已损坏，无法读取") from e


def _pdf_texts(data: bytes):
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - AES needs a crypto library; either way we cannot read it
                opened = 0
            if not opened:
                raise Unreadable("已加密，无法检查内容：请上传未加密的版本")
        for key, value in (reader.metadata or {}).items():
            yield f"文档属性（{str(key).lstrip('/')}）", str(value)
        xmp = reader.root_object.get("/Metadata")
        if xmp is not None:
            yield "XMP 元数据", xml_text(xmp.get_object().get_data())
        for n, page in enumerate(reader.pages, 1):
            yield f"第 {n} 页", page.extract_text() or ""
            annots = page.get("/Annots")
            for annot in annots.get_object() if annots is not None else []:
                annot = annot.get_object()
                notes = [str(annot.get(k)) for k in ("/Contents", "/T") if annot.get(k) is not None]
                if notes:
                    yield f"第 {n} 页的批注", "\n".join(notes)
        for name, field in (reader.get_fields() or {}).items():
            if field.get("/V") is not None:
                yield f"表单字段“{name}”", str(field.get("/V"))
    except Unreadable:
        raise
    except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on a broken file
        raise Unreadable("已损坏，无法读取") from e


@dataclass(frozen=True)
class ContentReport:
    kind: str  # what the bytes are (KIND_NAMES)
    findings: tuple[tuple[str, str, str], ...] = ()  # (where, kind of personal data, masked match)
    unreadable: str = ""  # why the content could not be checked


_cache: OrderedDict[tuple[str, str], ContentReport] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 512


def inspect_content(data: bytes, ext: str) -> ContentReport:
    """What the file is and the personal data in its text and metadata; kept per (SHA-1, extension)."""
    key = (hashlib.sha1(data, usedforsecurity=False).hexdigest(), ext)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    report = _inspect(data, ext)
    with _cache_lock:
        _cache[key] = report
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return report


def _inspect(data: bytes, ext: str) -> ContentReport:
    kind = detect_kind(data)
    if kind != EXPECTED_KIND.get(ext):
        return ContentReport(kind)
    if kind == "pdf":
        texts = _pdf_texts(data)
    elif kind == "text":
        texts = iter([("内容", decode_text(data) or "")])
    else:
        texts = _zip_texts(data)
    findings = []
    try:
        for where, text in texts:
            findings += [(where, k, masked) for k, masked in find_personal_data(text)]
    except Unreadable as e:
        return ContentReport(kind, unreadable=str(e))
    return ContentReport(kind, tuple(dict.fromkeys(findings)))


# -- messages --------------------------------------------------------------------------------------------
_DIGIT_RUN = re.compile(r"\d(?:[\d\s\-]*[\dXx])?")


def redact(text: str) -> str:
    """The text with every long run of digits masked, if it holds personal data (for naming a file)."""
    text = text or ""
    if not find_personal_data(text):
        return text
    normal = unicodedata.normalize("NFKC", text)
    return _DIGIT_RUN.sub(lambda m: mask(m[0]) if sum(c.isdigit() for c in m[0]) >= 7 else m[0], normal)


def file_name(obj) -> str:
    name = getattr(getattr(obj, "file", None), "name", "") or ""
    return PurePosixPath(name).name


def text_problems(subject: str, label: str, text: str) -> list[str]:
    """“<subject>的<label>含有手机号码 138*****678” for each personal number in the text."""
    return [f"{subject}的{label}含有{KIND_LABELS.get(k, k)} {masked}" for k, masked in find_personal_data(text or "")]


def file_problems(data: bytes, filename: str, subject: str | None = None) -> list[str]:
    """What is wrong with a file's bytes: content that is not what the extension says, content that cannot
    be checked, personal data in its text or metadata or its name. `subject` names it in the messages."""
    name = PurePosixPath(filename or "").name
    subject = subject or f"文件“{redact(name)}”"
    ext = extension(name)
    problems = text_problems(subject, "文件名", name)
    if ext not in EXPECTED_KIND:
        return [*problems, f"{subject}的类型 .{ext} 无法检查内容，不能用于公开页面"]
    report = inspect_content(data, ext)
    if report.kind != EXPECTED_KIND[ext]:
        expected = KIND_NAMES[EXPECTED_KIND[ext]] if ext not in ("csv", "txt") else "UTF-8 或 GB18030 编码的文本"
        actual = KIND_NAMES.get(report.kind, report.kind)
        return [
            *problems,
            f"{subject}的扩展名是 .{ext}，内容却是{_spaced(actual)}，不是{_spaced(expected)}：文件类型与扩展名不符",
        ]
    if report.unreadable:
        return [*problems, f"{subject}{report.unreadable}"]
    problems += [f"{subject}的{where}含有{KIND_LABELS.get(k, k)} {masked}" for where, k, masked in report.findings]
    return list(dict.fromkeys(problems))


def _spaced(name: str) -> str:
    return f" {name}" if name[:1].isascii() else name


RESTRICTION_WORDS = {"login": "仅登录用户可见", "password": "需要密码才能查看", "groups": "仅限指定用户组查看"}


def describe(obj) -> str:
    """文档《标题》（文件名）or 图片《标题》（文件名）, with any personal number in them masked."""
    from wagtail.documents.models import AbstractDocument

    noun = "文档" if isinstance(obj, AbstractDocument) else "图片"
    return f"{noun}《{redact(obj.title)}》（{redact(file_name(obj))}）"


def restricted_problems(obj) -> list[str]:
    """A document or image in a collection with a view restriction (its own or a parent's): a public page
    must not use it, or its file and its text would be copied into the release."""
    collection = getattr(obj, "collection", None)
    if collection is None:
        return []
    problems = []
    for restriction in collection.get_view_restrictions().exclude(restriction_type="none").select_related("collection"):
        how = RESTRICTION_WORDS.get(restriction.restriction_type, "访问受限")
        if restriction.collection_id == collection.pk:
            where = f"受限的集合“{collection.name}”中（{how}）"
        else:
            where = f"集合“{collection.name}”中，其上级集合“{restriction.collection.name}”受限（{how}）"
        problems.append(f"{describe(obj)}在{where}，不能用在公开页面上：请把它移到公开的集合，或从页面中去掉")
    return list(dict.fromkeys(problems))


def document_problems(document) -> list[str]:
    """What stops a page that links this document from being published (empty when nothing does)."""
    subject = describe(document)
    problems = text_problems(subject, "标题", document.title)
    problems += text_problems(subject, "简介", getattr(document, "summary", ""))
    if document.file and document.file.name:
        try:
            with document.open_file() as f:
                data = f.read()
        except (OSError, ValueError):
            problems.append(f"{subject}的文件找不到了，无法检查：请重新上传")
        else:
            problems += file_problems(data, file_name(document), subject)
    problems += restricted_problems(document)
    return list(dict.fromkeys(problems))
