"""Removing who made a file before it is stored: a PDF's /Info dictionary (but its title) and XMP, the
creator, last modifier and manager of Office and OpenDocument files."""

from __future__ import annotations

import io
import re
import zipfile

from .filetypes import EXPECTED_KIND, detect_kind

_PEOPLE = re.compile(
    r"<((?:[\w.-]+:)?(?:creator|lastModifiedBy|initial-creator|printed-by|Manager))(\s[^>]*)?>(.*?)</\1>",
    re.S,
)
PEOPLE_PARTS = {"docProps/core.xml", "docProps/app.xml", "meta.xml"}


def strip_metadata(data: bytes, ext: str) -> bytes | None:
    """The file without who made it (PDF: the /Info dictionary but its title, and XMP; Office and
    OpenDocument: creator, last modified by, manager), or None when there is nothing to remove or the file
    is not what its extension says (it will be refused)."""
    kind = detect_kind(data)
    if kind != EXPECTED_KIND.get(ext):
        return None
    if kind == "pdf":
        return _strip_pdf(data)
    if kind in ("docx", "xlsx", "pptx", "odt", "ods", "odp"):
        return _strip_zip(data)
    return None


def _strip_pdf(data: bytes) -> bytes | None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return None
        info = reader.metadata or {}
        pages_with_xmp = [p for p in reader.pages if "/Metadata" in p]
        earlier_versions = data.count(b"%%EOF") > 1  # incremental updates keep what was deleted
        if (
            not [k for k in info if k != "/Title"]
            and "/Metadata" not in reader.root_object
            and not (pages_with_xmp or earlier_versions)
        ):
            return None
        writer = PdfWriter(clone_from=reader, keep_initial_header=True)
        writer.metadata = None
        if info.get("/Title"):
            writer.add_metadata({"/Title": str(info["/Title"])})
        writer.xmp_metadata = None
        for page in writer.pages:
            if "/Metadata" in page:
                del page[NameObject("/Metadata")]
        # The removed dictionaries would still be written as unreferenced objects.
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except Exception:  # noqa: BLE001 - a PDF pypdf cannot rewrite is checked (and refused) as it is
        return None


def _strip_zip(data: bytes) -> bytes | None:
    def blank(m: re.Match) -> str:
        return f"<{m[1]}{m[2] or ''}></{m[1]}>"

    try:
        out = io.BytesIO()
        changed = False
        with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
            for info in zin.infolist():
                content = zin.read(info)
                if info.filename in PEOPLE_PARTS:
                    text = content.decode("utf-8")
                    cleaned = _PEOPLE.sub(lambda m: blank(m) if m[3].strip() else m[0], text)
                    if cleaned != text:
                        changed = True
                        content = cleaned.encode("utf-8")
                zout.writestr(info, content)
        return out.getvalue() if changed else None
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, UnicodeDecodeError):
        return None
