"""Gettext catalogs without gettext's tools: read a .po file, write the .mo file Django loads.

`manage.py compilemessages` needs GNU msgfmt, which a machine with only Python lacks; the project's translations
(locale/) are compiled by `manage.py compile_locale` with this instead, and the compiled .mo is committed.
"""

from __future__ import annotations

import ast
import struct
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str
    msgstr: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)  # "#." lines
    references: list[str] = field(default_factory=list)  # "#:" lines
    flags: list[str] = field(default_factory=list)  # "#," lines

    @property
    def key(self) -> str:
        """The message's key in a .mo file: the context and the id, joined as gettext joins them."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    @property
    def translated(self) -> bool:
        if "fuzzy" in self.flags:
            return False
        if self.msgid_plural is not None:
            return bool(self.msgstr_plural) and all(self.msgstr_plural.values())
        return bool(self.msgstr)


def _unquote(text: str, path: Path, number: int) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"{path}:{number}: expected a quoted string, got {text!r}")
    return ast.literal_eval(text)  # PO strings use C escapes, which Python's string literals share


def read_po(path: Path | str) -> list[Entry]:
    """The entries of a .po file, the header (msgid "") first when there is one. Obsolete entries (#~) are left out."""
    path = Path(path)
    entries: list[Entry] = []
    notes: dict = {"comments": [], "references": [], "flags": []}
    current: dict | None = None
    last = None  # the field a continuation line extends: "msgid", ("msgstr", n), …

    def start():
        nonlocal current, notes
        if current is not None:
            entries.append(Entry(**current))
        current = {"msgid": "", "msgstr_plural": {}, **notes}
        notes = {"comments": [], "references": [], "flags": []}

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            kind, text = line[:2], line[2:].strip()
            if kind == "#.":
                notes["comments"].append(text)
            elif kind == "#:":
                notes["references"].extend(text.split())
            elif kind == "#,":
                notes["flags"].extend(f.strip() for f in text.split(",") if f.strip())
            continue
        if line.startswith('"'):
            value = _unquote(line, path, number)
            if isinstance(last, tuple):
                current["msgstr_plural"][last[1]] += value
            else:
                current[last] += value
            continue
        keyword, _, rest = line.partition(" ")
        value = _unquote(rest, path, number)
        if keyword == "msgctxt" or (keyword == "msgid" and (current is None or last != "msgctxt")):
            start()
        if keyword.startswith("msgstr["):
            n = int(keyword[7:-1])
            current["msgstr_plural"][n] = value
            last = ("msgstr", n)
        elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            current[keyword] = value
            last = keyword
        else:
            raise ValueError(f"{path}:{number}: unknown keyword {keyword!r}")
    if current is not None:
        entries.append(Entry(**current))
    return entries


def mo_bytes(entries: list[Entry]) -> bytes:
    """The .mo file of the translated entries (and the header), as msgfmt writes it, without a hash table."""
    messages = {}
    for entry in entries:
        if entry.msgid == "" and entry.msgctxt is None:
            messages[b""] = entry.msgstr.encode()
        elif entry.translated:
            key = entry.key if entry.msgid_plural is None else f"{entry.key}\x00{entry.msgid_plural}"
            if entry.msgid_plural is None:
                value = entry.msgstr
            else:
                value = "\x00".join(entry.msgstr_plural[n] for n in sorted(entry.msgstr_plural))
            messages[key.encode()] = value.encode()
    keys = sorted(messages)
    count = len(keys)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    data_at = translations_at + count * 8
    originals, translations, data = [], [], b""
    for key in keys:
        originals.append((len(key), data_at + len(data)))
        data += key + b"\x00"
    for key in keys:
        value = messages[key]
        translations.append((len(value), data_at + len(data)))
        data += value + b"\x00"
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, data_at)
    table = b"".join(struct.pack("<2I", *pair) for pair in originals + translations)
    return header + table + data


def compile_po(po: Path | str, mo: Path | str | None = None) -> Path:
    po = Path(po)
    mo = Path(mo) if mo else po.with_suffix(".mo")
    mo.write_bytes(mo_bytes(read_po(po)))
    return mo


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    lines = escaped.split("\n")
    parts = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    if len(parts) <= 1:
        return f'"{parts[0] if parts else ""}"'
    return '""\n' + "\n".join(f'"{part}"' for part in parts)


def po_text(entries: list[Entry]) -> str:
    """A .po file of the entries (a header entry first, when there is one)."""
    blocks = []
    for entry in entries:
        lines = [f"#. {c}" for c in entry.comments]
        lines += [f"#: {r}" for r in entry.references]
        if entry.flags:
            lines.append("#, " + ", ".join(entry.flags))
        if entry.msgctxt is not None:
            lines.append(f"msgctxt {_quote(entry.msgctxt)}")
        lines.append(f"msgid {_quote(entry.msgid)}")
        if entry.msgid_plural is not None:
            lines.append(f"msgid_plural {_quote(entry.msgid_plural)}")
            lines += [f"msgstr[{n}] {_quote(entry.msgstr_plural.get(n, ''))}" for n in sorted(entry.msgstr_plural)]
        else:
            lines.append(f"msgstr {_quote(entry.msgstr)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
