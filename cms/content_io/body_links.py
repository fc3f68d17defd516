"""Links in a body, read as CommonMark reads them, before the converter sees the text: inline links with a
title or a <…> destination, and reference-style links ([文字][名称], [文字][], [名称] with a line
`[名称]: 地址 "说明"`). Each is checked and handed to the converter in the one form it reads correctly,
`[文字](地址)`; brackets that are not links are escaped so that it takes them for text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from .body import DIRECTIVE_CLOSE, DIRECTIVE_OPEN, LINK_SENTINEL, SCHEME, ParsedBody

# A link reference definition on a line of its own: [名称]: 地址 "说明" (the title may be '…' or (…) too).
REF_DEFINITION = re.compile(
    r"^ {0,3}\[((?:[^\[\]\\]|\\.)+)\]:[ \t]*(<(?:[^<>\\\n]|\\.)*>|\S+)"
    r"(?:[ \t]+(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)))?[ \t]*$"
)
# The ASCII punctuation a backslash escapes, in CommonMark and in the converter.
ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
SAFE_SCHEMES = {"http", "https", "mailto"}


@dataclass
class Definition:
    """A link reference definition, `[名称]: 地址 "说明"`, checked where it is written."""

    label: str  # as written
    line: int
    destination: str | None  # what the converter gets, None if the address was refused
    used: bool = False


class LinkReader:
    """The link-reading part of BodyParser: its lines, the body being built, and where problems go."""

    lines: list[str]
    out: ParsedBody
    definitions: dict[str, Definition]
    line_at: Callable[[int], int]  # the line of an index in the text at hand

    def line_no(self, index: int) -> int:
        raise NotImplementedError

    def problem(self, message: str, line: int | None, field_name: str | None = None):
        raise NotImplementedError

    def collect_definitions(self):
        """Take the lines `[名称]: 地址` out of the text (outside ::: blocks other than callout) and check them."""
        inside = None
        for index, text in enumerate(self.lines):
            if inside is not None:
                if DIRECTIVE_CLOSE.match(text):
                    inside = None
                    continue
                if inside != "callout":
                    continue
            elif opening := DIRECTIVE_OPEN.match(text):
                inside = opening.group(1).lower()
                continue
            match = REF_DEFINITION.match(text)
            if not match or not match.group(1).strip():
                continue
            self.lines[index] = ""
            line = self.line_no(index)
            label, key = match.group(1), _label_key(match.group(1))
            if key in self.definitions:
                first = self.definitions[key].line
                self.problem(f"链接定义 [{label}] 重复（第一次在第 {first} 行）：每个名称只定义一次", line)
                continue
            dest = match.group(2)
            dest = _unescape(dest[1:-1] if dest.startswith("<") and dest.endswith(">") else dest)
            self.definitions[key] = Definition(label, line, self.destination(dest, line))

    def destination(self, dest: str, line: int) -> str | None:
        """The converter's form of a checked address (page links as sentinels), or None with a problem."""
        message = _destination_problem(dest)
        if message:
            self.problem(message, line)
            return None
        if SCHEME.match(dest):
            return _escape_destination(dest)
        self.out.links.append((dest.split("#", 1)[0], line))
        return f"wagtail://page?id={LINK_SENTINEL + len(self.out.links) - 1}"

    def rewrite_links(self, text: str, start: int) -> str:
        """The text with every link in the form `[文字](地址)` and every other bracket escaped."""
        brackets = _matching_brackets(text)
        newlines = [m.start() for m in re.finditer("\n", text)]
        self.line_at = lambda index: start + bisect.bisect_left(newlines, index)
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "\\" and i + 1 < n and text[i + 1] in ESCAPABLE:
                out.append(text[i : i + 2])
                i += 2
            elif ch == "`":
                end = _code_span_end(text, i)
                out.append(text[i:end])
                i = end
            elif ch == "[" and i in brackets and (end := self.link(text, i, brackets[i], out)) is not None:
                i = end
            elif ch in "[]":
                i = _escape_bracket(text, i, out)
            else:
                out.append(ch)
                i += 1
        return "".join(out)

    def link(self, text: str, i: int, close: int, out: list[str]) -> int | None:
        """Read the link whose text opens at i and closes at `close`; None when it is not a link."""
        line = self.line_at(i)
        label, after, n = text[i + 1 : close], close + 1, len(text)
        if after < n and text[after] == "(":
            parsed = _inline_destination(text, after + 1)
            if parsed is not None:
                dest, end = parsed
                _emit_link(out, label, self.destination(dest, line))
                return end
            paren = _unescaped_paren(text, after + 1)
            written = text[after + 1 : paren if paren != -1 else n].strip()
            self.problem(_unreadable_link(label, written, closed=paren != -1), line)
            return paren + 1 if paren != -1 else n
        if after < n and text[after] == "[":
            ref_close = _reference_close(text, after + 1)
            if ref_close is not None:
                written = text[after + 1 : ref_close]
                key = _label_key(written) or _label_key(label)
                definition = self.definitions.get(key)
                if definition is None:
                    self.problem(
                        f"链接引用 [{(written or label)[:40]}] 没有定义：另起一行写 [{(written or label)[:40]}]: 地址",
                        line,
                    )
                else:
                    definition.used = True
                    _emit_link(out, label, definition.destination)
                return ref_close + 1
        definition = self.definitions.get(_label_key(label))
        if definition is None:
            return None  # [文字] alone is text
        definition.used = True
        _emit_link(out, label, definition.destination)
        return close + 1


def _label_key(label: str) -> str:
    """Reference names match whatever their case and spacing."""
    return " ".join(label.split()).casefold()


def _unescape(text: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def _escape_destination(dest: str) -> str:
    """An address as the converter reads it back: backslash, parentheses escaped, whitespace encoded."""
    escaped = dest.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return re.sub(r"\s", lambda m: quote(m.group()), escaped)


def _destination_problem(dest: str) -> str | None:
    """Why an address cannot be linked, or None: web and mail addresses, or relative .md pages."""
    scheme = SCHEME.match(dest)
    if scheme:
        if scheme.group(1).lower() not in SAFE_SCHEMES:
            return f"不允许的链接地址 {dest[:40]}：只能链接到 http(s)、mailto 或其他 .md 页面"
        return None
    if not dest:
        return "链接地址是空的"
    if dest.startswith("#"):
        return "不支持页内锚点链接"
    if not dest.split("#", 1)[0].endswith(".md"):
        return f"链接 {dest[:60]} 既不是网址也不是 .md 页面"
    return None


def _unreadable_link(label: str, written: str, closed: bool) -> str:
    """Why `[文字](…)` that is not a link as written is refused: its address's problem if it has one."""
    words = written.split()
    first = words[0] if words else ""
    scheme = SCHEME.match(first)
    if scheme and scheme.group(1).lower() not in SAFE_SCHEMES:
        return _destination_problem(first)
    message = _destination_problem(written) if len(words) <= 1 or _destination_problem(first) else None
    return message or (
        f"链接的写法无法识别：[{label[:20]}]({written[:40]}{')' if closed else ''}"
        + '。地址里不能有空格（可写成 <地址>），说明要放在引号里，如 [文字](https://example.org "说明")'
        + ("" if closed else "；还缺少右括号 )")
    )


def _code_span_end(text: str, i: int) -> int:
    """The end of the code span whose backticks start at i, or of the backtick run if it opens none.

    The converter's rule: a run closes on the next run of the same length; backslash pairs are skipped.
    """
    run = 1
    while i + run < len(text) and text[i + run] == "`":
        run += 1
    j = i + run
    while j < len(text):
        if text[j] == "\\" and j + 1 < len(text):
            j += 2
            continue
        if text[j] != "`":
            j += 1
            continue
        k = j
        while k < len(text) and text[k] == "`":
            k += 1
        if k - j == run:
            return k
        j = k
    return i + run


def _matching_brackets(text: str) -> dict[int, int]:
    """Each '[' → its matching ']', outside code spans and backslash escapes."""
    found: dict[int, int] = {}
    stack: list[int] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in ESCAPABLE:
            i += 2
            continue
        if ch == "`":
            i = _code_span_end(text, i)
            continue
        if ch == "[":
            stack.append(i)
        elif ch == "]" and stack:
            found[stack.pop()] = i
        i += 1
    return found


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n":
        i += 1
    return i


def _inline_destination(text: str, i: int) -> tuple[str, int] | None:
    """After `](`: the address (unescaped) and the index after `)`, or None. A title is read and dropped."""
    n = len(text)
    i = _skip_space(text, i)
    if i < n and text[i] == "<":
        j = i + 1
        while j < n and text[j] not in "<>\n":
            j += 2 if text[j] == "\\" and j + 1 < n and text[j + 1] in ESCAPABLE else 1
        if j >= n or text[j] != ">":
            return None
        dest, i = _unescape(text[i + 1 : j]), j + 1
    else:
        j, depth = i, 0
        while j < n:
            ch = text[j]
            if ch == "\\" and j + 1 < n and text[j + 1] in ESCAPABLE:
                j += 2
                continue
            if ch in " \t\n" or ord(ch) < 0x20 or ch == "\x7f":
                break
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            j += 1
        if depth:
            return None
        dest, i = _unescape(text[i:j]), j
    spaced = _skip_space(text, i)
    if spaced > i and spaced < n and text[spaced] in "\"'(":
        closer = ")" if text[spaced] == "(" else text[spaced]
        j = spaced + 1
        while j < n and text[j] != closer:
            if text[j] == "\\" and j + 1 < n:
                j += 2
                continue
            if closer == ")" and text[j] == "(":
                return None
            j += 1
        if j >= n:
            return None
        spaced = _skip_space(text, j + 1)
    if spaced < n and text[spaced] == ")":
        return dest, spaced + 1
    return None


def _unescaped_paren(text: str, i: int) -> int:
    """The next ')' not escaped by a backslash: where the converter ends a link's address."""
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 2
            continue
        if text[i] == ")":
            return i
        i += 1
    return -1


def _reference_close(text: str, i: int) -> int | None:
    """The ']' that ends the name of [文字][名称] (a name holds no brackets), or None."""
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            i += 2
            continue
        if ch == "]":
            return i
        if ch == "[":
            return None
        i += 1
    return None


def _escape_bracket(text: str, i: int, out: list[str]) -> int:
    """A bracket that is text; after an escaped ']' the '(' too, or the converter reads '](' as a link."""
    out.append("\\" + text[i])
    if text[i] == "]" and i + 1 < len(text) and text[i + 1] == "(":
        out.append("\\(")
        return i + 2
    return i + 1


def _link_text(label: str) -> str:
    """The text of a link for the converter: its brackets escaped (a link holds no link)."""
    out: list[str] = []
    i = 0
    while i < len(label):
        ch = label[i]
        if ch == "\\" and i + 1 < len(label) and label[i + 1] in ESCAPABLE:
            out.append(label[i : i + 2])
            i += 2
        elif ch == "`":
            end = _code_span_end(label, i)
            out.append(label[i:end])
            i = end
        elif ch in "[]":
            i = _escape_bracket(label, i, out)
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _emit_link(out: list[str], label: str, destination: str | None):
    if destination is None:  # refused: the problem is recorded and nothing is converted
        out.append(_link_text(label))
    else:
        out.append(f"[{_link_text(label)}]({destination})")
