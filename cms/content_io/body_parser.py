"""Reading a body: Markdown with a few directives → the blocks of BodyStreamBlock, with placeholders for
images and page links. Raw HTML and dangerous link schemes are refused with their line, so nothing of
them is ever stored. Every problem of the body is collected, each with its line, so one run reports them
all. Directives: `::: figure`, `::: callout`, `::: gallery`, `::: dodont` (see content/README.md).
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager

from wagtail.admin.rich_text.converters.db_html import DbHTMLConverter

from cms.core.blocks import RICH_TEXT_FEATURES

from .body import (
    DIRECTIVE_CLOSE,
    DIRECTIVE_OPEN,
    TITLE_SEPARATOR,
    ImageRef,
    MarkdownUnreadable,
    ParsedBody,
    wagtail_markdown,
)
from .body_links import Definition, LinkReader
from .errors import FileRejected
from .reader import load_yaml

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
IMAGE_LINE = re.compile(r'^!\[([^\]]*)\]\(\s*(\S+?)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\)\s*$')
HTML_TAG = re.compile(r"<!--|<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])[^>]*>")
SAFE_HREF = re.compile(r"^(?:https?|mailto):", re.I)
CALLOUT_TONES = {"info", "warning", "success"}
ATTRIBUTION = re.compile(r"^(?:——|--|—)\s*(.+)$")

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


class BodyParser(LinkReader):
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
            html = wagtail_markdown(markdown, to="html")
        except MarkdownUnreadable as exc:
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
