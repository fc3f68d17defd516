"""The body of a page: Markdown with a few directives ⇄ the blocks of BodyStreamBlock.

Rich text goes through Wagtail's own Markdown converter and its database-HTML sanitiser, restricted to
the features the field allows. Raw HTML and dangerous link schemes are refused with their line, so
nothing of them is ever stored.

Links are read here, as CommonMark reads them, before the converter sees the text: inline links with a
title or a <…> destination, and reference-style links ([文字][名称], [文字][], [名称] with a line
`[名称]: 地址 "说明"`). Each is checked and handed to the converter in the one form it reads correctly,
`[文字](地址)`; brackets that are not links are escaped so that it takes them for text. Every problem of
the body is collected, each with its line, so one run reports them all.
"""

from __future__ import annotations

import bisect
import json
import re
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

from draftjs_exporter import MarkdownParseError
from wagtail.admin.rich_text.converters.db_html import DbHTMLConverter
from wagtail.admin.rich_text.converters.markdown_db import MarkdownConverter

from cms.core.blocks import RICH_TEXT_FEATURES

from .errors import FileRejected
from .reader import load_yaml

DIRECTIVE_OPEN = re.compile(r"^:::\s*([A-Za-z]+)\s*(.*?)\s*$")
DIRECTIVE_CLOSE = re.compile(r"^:::\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
IMAGE_LINE = re.compile(r'^!\[([^\]]*)\]\(\s*(\S+?)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\)\s*$')
HTML_TAG = re.compile(r"<!--|<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])[^>]*>")
# A link reference definition on a line of its own: [名称]: 地址 "说明" (the title may be '…' or (…) too).
REF_DEFINITION = re.compile(
    r"^ {0,3}\[((?:[^\[\]\\]|\\.)+)\]:[ \t]*(<(?:[^<>\\\n]|\\.)*>|\S+)"
    r"(?:[ \t]+(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)))?[ \t]*$"
)
# The ASCII punctuation a backslash escapes, in CommonMark and in the converter.
ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
SAFE_HREF = re.compile(r"^(?:https?|mailto):", re.I)
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
SAFE_SCHEMES = {"http", "https", "mailto"}
CALLOUT_TONES = {"info", "warning", "success"}
ATTRIBUTION = re.compile(r"^(?:——|--|—)\s*(.+)$")
TITLE_SEPARATOR = " | "
LINK_SENTINEL = 2_000_000_000  # page ids in converted HTML at or above this are indexes into the link table

DEFAULT_TIME_BUDGET = 5.0


class ConversionTimeout(Exception):
    pass


@contextmanager
def time_budget(seconds: float):
    """Stop a conversion that takes longer than `seconds` (pathological Markdown can take minutes).

    Uses SIGALRM, which only the main thread can receive; elsewhere the budget is not enforced. The alarm
    repeats every 0.1 s until the block ends: when it lands in a weakref finaliser that the garbage collector
    runs in the middle of the conversion, Python cannot pass the exception on and drops it, and the next
    alarm stops the conversion instead.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    armed = True

    def _expired(signum, frame):
        if armed:
            raise ConversionTimeout

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield
    finally:
        try:
            armed = False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


@dataclass
class ImageRef:
    path: str  # as written, relative to the file
    alt: str
    caption: str
    credit: str
    line: int


@dataclass
class ParsedBody:
    """Blocks with placeholders: images by ImageRef, page links by sentinel ids into `links`."""

    blocks: list[tuple[str, object]] = field(default_factory=list)
    links: list[tuple[str, int]] = field(default_factory=list)  # (target as written, line)
    quote_lines: list[int] = field(default_factory=list)  # the line of each quote block, in order
    images: list[ImageRef] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    problems: list[FileRejected] = field(default_factory=list)  # every one found; the file is refused if any


@dataclass
class Definition:
    """A link reference definition, `[名称]: 地址 "说明"`, checked where it is written."""

    label: str  # as written
    line: int
    destination: str | None  # what the converter gets, None if the address was refused
    used: bool = False


class BodyParser:
    def __init__(self, body: str, first_line: int):
        self.lines = body.split("\n")
        self.first_line = first_line
        self.out = ParsedBody()
        self.definitions: dict[str, Definition] = {}
        self.line_at: Callable[[int], int] = lambda index: first_line  # the line of an index in the text at hand

    def line_no(self, index: int) -> int:
        return self.first_line + index

    def problem(self, message: str, line: int | None, field_name: str | None = None):
        self.out.problems.append(FileRejected(message, line=line, field=field_name))

    def check_length(self, what: str, value: str, limit: int, line: int | None):
        try:
            check_length(what, value, limit, line)
        except FileRejected as exc:
            self.out.problems.append(exc)

    # -- links --------------------------------------------------------------------------------
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

    # -- rich text ----------------------------------------------------------------------------
    def rich_text(self, markdown: str, start: int) -> str:
        """The cleaned HTML of a stretch of Markdown, or "" when it has problems (they are recorded)."""
        before = len(self.out.problems)
        for offset, text in enumerate(markdown.split("\n")):
            match = HTML_TAG.search(_strip_code_spans(text))
            if match:
                what = "HTML 注释" if match.group(0).startswith("<!--") else f"HTML 标签 <{match.group(1)}>"
                self.problem(f"不支持{what}：正文请用 Markdown 书写", start + offset)
            if IMAGE_LINE.search(text.strip()) or "![" in text:
                self.problem("图片要单独成行（一行只写一张图片），不能夹在文字中间", start + offset)
        markdown = self.rewrite_links(markdown, start)
        if len(self.out.problems) > before:
            return ""
        try:
            html = MarkdownConverter(RICH_TEXT_FEATURES).to_database_format(markdown)
        except MarkdownParseError as exc:
            self.problem(f"Markdown 无法解析：{exc}", start)
            return ""
        # The converter read the links as rewritten above; should it ever read one differently, its
        # address is refused here rather than stored.
        for attributes in re.findall(r"<a\s([^>]*)>", html):
            href = re.search(r'\bhref="([^"]*)"', attributes)
            if href and not SAFE_HREF.match(href.group(1)):
                self.problem(
                    f"链接的写法无法识别（地址读成了 {href.group(1)[:40]}）：请检查这一段的方括号和圆括号", start
                )
                return ""
        cleaned, removals = DbHTMLConverter(RICH_TEXT_FEATURES).clean(html)
        for removal in removals:
            self.out.warnings.append((start, f"不支持的格式 <{removal.tag}> 已去掉，只保留文字"))
        return cleaned

    # -- images -------------------------------------------------------------------------------
    def image(self, match: re.Match, line: int) -> dict:
        alt, path, title = match.group(1).strip(), match.group(2), (match.group(3) or "").replace('\\"', '"')
        caption, _, credit = title.partition(TITLE_SEPARATOR)
        self.check_length("图片说明", caption.strip(), 255, line)
        self.check_length("图片来源", credit.strip(), 120, line)
        self.check_length("替代文字", alt, 255, line)
        ref = ImageRef(path, alt, caption.strip(), credit.strip(), line)
        self.out.images.append(ref)
        return {"image": ref, "caption": ref.caption, "credit": ref.credit}

    # -- blocks -------------------------------------------------------------------------------
    def parse(self) -> ParsedBody:
        self.collect_definitions()
        i, n = 0, len(self.lines)
        plain: list[str] = []
        plain_start = plain_end = 0

        def flush_plain():
            nonlocal plain
            text = "\n".join(plain).strip("\n")
            if text.strip():
                html = self.rich_text(text, self.line_no(plain_start))
                if html.strip():
                    self.out.blocks.append(("paragraph", html))
            plain = []

        while i < n:
            line = self.lines[i]
            if DIRECTIVE_OPEN.match(line):
                flush_plain()
                i = self.directive(i)
                continue
            heading = HEADING.match(line)
            if heading:
                flush_plain()
                self.heading(heading, self.line_no(i))
                i += 1
                continue
            if not line.strip():
                i += 1
                continue
            # A paragraph: consecutive non-blank lines.
            start = i
            while (
                i < n
                and self.lines[i].strip()
                and not HEADING.match(self.lines[i])
                and not DIRECTIVE_OPEN.match(self.lines[i])
            ):
                i += 1
            para = self.lines[start:i]
            images = [IMAGE_LINE.match(p.strip()) for p in para]
            if all(images):
                flush_plain()
                items = [self.image(m, self.line_no(start + k)) for k, m in enumerate(images)]
                if len(items) == 1:
                    self.out.blocks.append(("image", items[0]))
                else:
                    self.out.blocks.append(("gallery", {"title": "", "images": items}))
            elif all(p.lstrip().startswith(">") for p in para):
                flush_plain()
                try:
                    self.out.blocks.append(("quote", self.quote(para, self.line_no(start))))
                    self.out.quote_lines.append(self.line_no(start))
                except FileRejected as exc:
                    self.out.problems.append(exc)
            else:
                if not plain:
                    plain_start = start
                else:
                    plain.extend([""] * (start - plain_end))  # the blank lines between, so line numbers hold
                plain.extend(para)
                plain_end = i
        flush_plain()
        for definition in self.definitions.values():
            if not definition.used:
                self.out.warnings.append(
                    (definition.line, f"链接定义 [{definition.label}] 没有被用到：这一行不会显示在页面上")
                )
        return self.out

    def heading(self, heading: re.Match, line: int):
        level = len(heading.group(1))
        if level == 1:
            self.problem("正文里不要用一级标题（# ）：页面标题已经是一级标题，请用 ##", line)
        elif not heading.group(2):
            self.problem("标题是空的", line)
        else:
            self.check_length("小标题", heading.group(2), 120, line)
            self.out.blocks.append(("heading", {"text": heading.group(2), "level": "h2" if level == 2 else "h3"}))

    def quote(self, para: list[str], line: int) -> dict:
        text = [re.sub(r"^\s*>\s?", "", p) for p in para]
        while text and not text[-1].strip():
            text.pop()
        match = ATTRIBUTION.match(text[-1].strip()) if text else None
        if not match:
            raise FileRejected("引语的最后一行要写说话人，例如：> —— 张辰，陶然亭街道党群工作部部长", line=line)
        who, _, role = match.group(1).partition("，")
        quote = "\n".join(text[:-1]).strip()
        if not quote:
            raise FileRejected("引语是空的", line=line)
        if re.search(r"[*_`\[\]<]", quote):
            self.out.warnings.append((line, "引语按纯文本显示，其中的 Markdown 标记不会生效"))
        self.check_length("引语", quote, 600, line)
        self.check_length("说话人", who.strip(), 120, line)
        self.check_length("说话人的身份", role.strip(), 120, line)
        return {"quote": quote, "attribution": who.strip(), "role": role.strip()}

    def directive(self, i: int) -> int:
        """Read the ::: block that opens at line i; the index of the line after it. Problems are recorded."""
        opening = DIRECTIVE_OPEN.match(self.lines[i])
        kind, args = opening.group(1).lower(), opening.group(2)
        start = i
        i += 1
        content: list[str] = []
        while i < len(self.lines) and not DIRECTIVE_CLOSE.match(self.lines[i]):
            content.append(self.lines[i])
            i += 1
        if i >= len(self.lines):
            self.problem(f"::: {kind} 没有结束：缺少单独一行的 :::", self.line_no(start))
            return i
        try:
            self.directive_block(kind, args, content, start)
        except FileRejected as exc:
            self.out.problems.append(exc)
        return i + 1

    def directive_block(self, kind: str, args: str, content: list[str], start: int):
        body_line = self.line_no(start + 1)
        if kind == "figure":
            doc = load_yaml("\n".join(content), first_line=body_line)
            data = doc.data if isinstance(doc.data, dict) else None
            if data is None:
                raise FileRejected("::: figure 里要写 value、label（可选 unit、source）", line=self.line_no(start))
            unknown = set(data) - {"value", "unit", "label", "source"}
            if unknown:
                self.problem(f"::: figure 不认识的字段：{', '.join(sorted(unknown))}", self.line_no(start))
            for key in ("value", "label"):
                if key not in data or (isinstance(data[key], str) and not data[key].strip()):
                    self.problem(f"::: figure 缺少 {key}", self.line_no(start), key)
            limits = {"value": 20, "unit": 10, "label": 80, "source": 120}
            for key, limit in limits.items():
                if key in data and not isinstance(data[key], str):
                    self.problem(f"::: figure 的 {key} 应是文字", doc.lines.get(key), key)
                elif len(data.get(key, "")) > limit:
                    self.problem(f"::: figure 的 {key} 超过 {limit} 个字", doc.lines.get(key), key)
            self.out.blocks.append(("figure", {k: data.get(k, "") for k in ("value", "unit", "label", "source")}))
        elif kind == "callout":
            tone, _, title = args.partition(" ")
            if tone and tone not in CALLOUT_TONES:
                title, tone = args, "info"
            text = "\n".join(content).rstrip("\n")
            before = len(self.out.problems)
            html = self.rich_text(text.lstrip("\n"), body_line + len(text) - len(text.lstrip("\n")))
            if not html.strip() and len(self.out.problems) == before:
                self.problem("::: callout 里没有内容", self.line_no(start))
            self.check_length("提示框标题", title.strip(), 80, self.line_no(start))
            self.out.blocks.append(("callout", {"tone": tone or "info", "title": title.strip(), "body": html}))
        elif kind == "dodont":
            doc = load_yaml("\n".join(content), first_line=body_line)
            data = doc.data if isinstance(doc.data, dict) else None
            if data is None or set(data) != {"do", "dont"}:
                raise FileRejected("::: dodont 里要写两行：do: 这样做……  dont: 不要这样做……", line=self.line_no(start))
            for key in ("do", "dont"):
                if not isinstance(data[key], str) or not data[key].strip():
                    self.problem(f"::: dodont 的 {key} 应是一句话", doc.lines.get(key), key)
                else:
                    self.check_length(f"::: dodont 的 {key}", data[key].strip(), 200, doc.lines.get(key))
            self.out.blocks.append(("dodont", {"do": str(data["do"]).strip(), "dont": str(data["dont"]).strip()}))
        elif kind == "gallery":
            items = []
            for k, text in enumerate(content):
                if not text.strip():
                    continue
                match = IMAGE_LINE.match(text.strip())
                if not match:
                    self.problem('::: gallery 里每行只能是一张图片 ![替代文字](文件 "说明")', body_line + k)
                    continue
                items.append(self.image(match, body_line + k))
            if len(items) < 2:
                self.problem("组图至少要两张图片", self.line_no(start))
            if len(items) > 12:
                self.problem("组图最多 12 张图片", self.line_no(start))
            self.check_length("组图标题", args, 120, self.line_no(start))
            self.out.blocks.append(("gallery", {"title": args, "images": items}))
        else:
            raise FileRejected(
                f"不认识的区块 ::: {kind}（可用 figure、callout、gallery、dodont）", line=self.line_no(start)
            )


# -- reading links ---------------------------------------------------------------------------------
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


def check_length(what: str, value: str, limit: int, line: int | None):
    """The limits of the block fields, so the admin can save what the import stored."""
    if len(value) > limit:
        raise FileRejected(f"{what}太长了：{len(value)} 个字，最多 {limit} 个", line=line)


def _strip_code_spans(text: str) -> str:
    return re.sub(r"`[^`]*`", "", text)


def parse_body(body: str, first_line: int, budget: float = DEFAULT_TIME_BUDGET) -> ParsedBody:
    """The blocks of a body, with every problem found in `.problems`; FileRejected if it cannot be read at all."""
    try:
        with time_budget(budget):
            return BodyParser(body, first_line).parse()
    except ConversionTimeout:
        raise FileRejected(f"正文转换超过 {budget:g} 秒仍未完成：请检查是否有大量嵌套或未闭合的标记") from None
    except RecursionError:
        raise FileRejected("正文嵌套层次太深（列表、引用或括号），无法转换") from None


def resolve_links(html: str, page_ids: list[int]) -> str:
    """Swap sentinel ids for the real ids of linked pages."""

    def swap(match: re.Match) -> str:
        n = int(match.group(1))
        return f'id="{page_ids[n - LINK_SENTINEL]}"' if n >= LINK_SENTINEL else match.group(0)

    return re.sub(r'id="(\d+)"', swap, html)


# -- export ----------------------------------------------------------------------------------------
def rich_text_to_markdown(html: str, page_path: Callable[[int], str | None]) -> str:
    markdown = MarkdownConverter(RICH_TEXT_FEATURES).from_database_format(html, resolved=False)

    def swap(match: re.Match) -> str:
        path = page_path(int(match.group(1)))
        return f"]({path})" if path else "]()"

    return re.sub(r"\]\(<?wagtail://page\?id=(\d+)>?\)", swap, markdown).strip("\n")


def _quote_title(caption: str, credit: str) -> str:
    title = caption + (TITLE_SEPARATOR + credit if credit else "")
    return f' "{title.replace(chr(34), chr(92) + chr(34))}"' if title else ""


def image_line(alt: str, path: str, caption: str, credit: str) -> str:
    return f"![{alt}]({path}{_quote_title(caption, credit)})"


def yaml_str(value: str) -> str:
    """A YAML scalar that reads back as exactly this string."""
    return json.dumps(value, ensure_ascii=False)


def blocks_to_markdown(stream, page_path: Callable[[int], str | None], image_path: Callable[[object], str]) -> str:
    parts: list[str] = []
    for block in stream:
        kind, value = block.block_type, block.value
        if kind == "paragraph":
            text = rich_text_to_markdown(value.source, page_path)
            if text:
                parts.append(text)
        elif kind == "heading":
            parts.append(("## " if value["level"] == "h2" else "### ") + value["text"])
        elif kind == "image":
            parts.append(_image(value, image_path))
        elif kind == "gallery":
            lines = [f"::: gallery {value['title']}".rstrip()]
            lines += [_image(item, image_path) for item in value["images"]]
            parts.append("\n".join([*lines, ":::"]))
        elif kind == "quote":
            lines = [f"> {line}".rstrip() for line in value["quote"].split("\n")]
            who = value["attribution"] + (f"，{value['role']}" if value["role"] else "")
            parts.append("\n".join([*lines, ">", f"> —— {who}"]))
        elif kind == "figure":
            lines = ["::: figure"]
            lines += [f"{key}: {yaml_str(value[key])}" for key in ("value", "unit", "label", "source") if value[key]]
            parts.append("\n".join([*lines, ":::"]))
        elif kind == "dodont":
            parts.append(
                "\n".join(["::: dodont", f"do: {yaml_str(value['do'])}", f"dont: {yaml_str(value['dont'])}", ":::"])
            )
        elif kind == "callout":
            head = f"::: callout {value['tone']} {value['title']}".rstrip()
            parts.append("\n".join([head, rich_text_to_markdown(value["body"].source, page_path), ":::"]))
    return "\n\n".join(parts) + "\n" if parts else ""


def _image(value, image_path) -> str:
    image_value = value["image"]
    alt = "" if getattr(image_value, "decorative", False) else (image_value.contextual_alt_text or "")
    return image_line(alt, image_path(image_value), value["caption"], value["credit"])
