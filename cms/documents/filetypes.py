"""What a file's bytes are, whatever its name says: by their signature, and for ZIP files by the Office or
OpenDocument type they declare (`detect_kind`); what each allowed extension must hold (`EXPECTED_KIND`)."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

KIND_NAMES = {
    "pdf": "PDF 文档",
    "docx": "Word 文档（.docx）",
    "docm": "带宏的 Word 文档（.docm）",
    "xlsx": "Excel 表格（.xlsx）",
    "xlsm": "带宏的 Excel 表格（.xlsm）",
    "pptx": "PowerPoint 演示文稿（.pptx）",
    "pptm": "带宏的 PowerPoint 演示文稿（.pptm）",
    "odt": "OpenDocument 文本（.odt）",
    "ods": "OpenDocument 表格（.ods）",
    "odp": "OpenDocument 演示文稿（.odp）",
    "zip": "ZIP 压缩包",
    "jpeg": "JPEG 图片",
    "png": "PNG 图片",
    "gif": "GIF 图片",
    "webp": "WebP 图片",
    "bmp": "BMP 图片",
    "tiff": "TIFF 图片",
    "ole": "旧版 Office 文档（.doc/.xls/.ppt）",
    "rtf": "RTF 文档",
    "gzip": "gzip 压缩包",
    "7z": "7z 压缩包",
    "rar": "RAR 压缩包",
    "exe": "Windows 程序",
    "elf": "Linux 程序",
    "postscript": "PostScript 文件",
    "text": "纯文本",
    "binary": "无法识别的二进制内容",
}

# What the content of a file with each extension must be. An allowed extension missing here
# (settings.WAGTAILDOCS_EXTENSIONS) cannot be checked, and is refused as such.
EXPECTED_KIND = {
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "pptx": "pptx",
    "odt": "odt",
    "ods": "ods",
    "odp": "odp",
    "csv": "text",
    "txt": "text",
}

MAGIC = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"{\\rtf", "rtf"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"MZ", "exe"),
    (b"\x7fELF", "elf"),
    (b"%!PS", "postscript"),
)

OOXML_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.ms-word.document.macroenabled.main+xml": "docm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.main+xml": "xlsm",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
    "application/vnd.ms-powerpoint.presentation.macroenabled.main+xml": "pptm",
}
ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}


def extension(filename: str) -> str:
    return PurePosixPath(filename or "").suffix.lower().lstrip(".")


def decode_text(data: bytes) -> str | None:
    """Text in UTF-8 (with or without BOM), UTF-16 with a BOM, or GB18030; None if it is none of them."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def detect_kind(data: bytes) -> str:
    """What the bytes are, by their signature (a key of KIND_NAMES)."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    return "text" if decode_text(data) is not None else "binary"


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "mimetype" in names:
                return ODF_TYPES.get(z.read("mimetype").decode("ascii", "replace").strip(), "zip")
            if "[Content_Types].xml" in names:
                types = z.read("[Content_Types].xml").decode("utf-8", "replace").lower()
                for content_type, kind in OOXML_MAIN_TYPES.items():
                    if f'contenttype="{content_type}"' in types:
                        return kind
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
        pass
    return "zip"
