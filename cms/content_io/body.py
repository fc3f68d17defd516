"""The body of a page: Markdown with a few directives ⇄ the blocks of BodyStreamBlock.

Rich text goes through Wagtail's own Markdown converter and its database-HTML sanitiser, restricted to
the features the field allows. Raw HTML and dangerous link schemes are refused with their line, so
nothing of them is ever stored.
"""

from __future__ import annotations

import json
import re
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

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
LINK_DEST = re.compile(r"\]\(\s*<?([^)\s>]*)>?")
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
    images: list[ImageRef] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


class BodyParser:
    def __init__(self, body: str, first_line: int):
        self.lines = body.split("\n")
        self.first_line = first_line
        self.out = ParsedBody()

    def line_no(self, index: int) -> int:
        return self.first_line + index

    # -- rich text ----------------------------------------------------------------------------
    def rich_text(self, markdown: str, start: int) -> str:
        for offset, text in enumerate(markdown.split("\n")):
            match = HTML_TAG.search(_strip_code_spans(text))
            if match:
                what = "HTML 注释" if match.group(0).startswith("<!--") else f"HTML 标签 <{match.group(1)}>"
                raise FileRejected(f"不支持{what}：正文请用 Markdown 书写", line=start + offset)
            if IMAGE_LINE.search(text.strip()) or "![" in text:
                raise FileRejected("图片要单独成行（一行只写一张图片），不能夹在文字中间", line=start + offset)

        def replace_link(match: re.Match) -> str:
            target = match.group(1)
            line = start + markdown.count("\n", 0, match.start())
            scheme = SCHEME.match(target)
            if scheme:
                if scheme.group(1).lower() not in SAFE_SCHEMES:
                    raise FileRejected(
                        f"不允许的链接地址 {target[:40]}：只能链接到 http(s)、mailto 或其他 .md 页面", line=line
                    )
                return match.group(0)
            if target.startswith("#"):
                raise FileRejected("不支持页内锚点链接", line=line)
            page_target = target.split("#", 1)[0]
            if not page_target.endswith(".md"):
                raise FileRejected(f"链接 {target[:60]} 既不是网址也不是 .md 页面", line=line)
            self.out.links.append((page_target, line))
            return f"](wagtail://page?id={LINK_SENTINEL + len(self.out.links) - 1}"

        markdown = LINK_DEST.sub(replace_link, markdown)
        try:
            html = MarkdownConverter(RICH_TEXT_FEATURES).to_database_format(markdown)
        except MarkdownParseError as exc:
            raise FileRejected(f"Markdown 无法解析：{exc}", line=start) from None
        cleaned, removals = DbHTMLConverter(RICH_TEXT_FEATURES).clean(html)
        for removal in removals:
            self.out.warnings.append((start, f"不支持的格式 <{removal.tag}> 已去掉，只保留文字"))
        return cleaned

    # -- images -------------------------------------------------------------------------------
    def image(self, match: re.Match, line: int) -> dict:
        alt, path, title = match.group(1).strip(), match.group(2), (match.group(3) or "").replace('\\"', '"')
        caption, _, credit = title.partition(TITLE_SEPARATOR)
        check_length("图片说明", caption.strip(), 255, line)
        check_length("图片来源", credit.strip(), 120, line)
        check_length("替代文字", alt, 255, line)
        ref = ImageRef(path, alt, caption.strip(), credit.strip(), line)
        self.out.images.append(ref)
        return {"image": ref, "caption": ref.caption, "credit": ref.credit}

    # -- blocks -------------------------------------------------------------------------------
    def parse(self) -> ParsedBody:
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
                level = len(heading.group(1))
                if level == 1:
                    raise FileRejected(
                        "正文里不要用一级标题（# ）：页面标题已经是一级标题，请用 ##", line=self.line_no(i)
                    )
                if not heading.group(2):
                    raise FileRejected("标题是空的", line=self.line_no(i))
                check_length("小标题", heading.group(2), 120, self.line_no(i))
                self.out.blocks.append(("heading", {"text": heading.group(2), "level": "h2" if level == 2 else "h3"}))
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
                self.out.blocks.append(("quote", self.quote(para, self.line_no(start))))
            else:
                if not plain:
                    plain_start = start
                else:
                    plain.extend([""] * (start - plain_end))  # the blank lines between, so line numbers hold
                plain.extend(para)
                plain_end = i
        flush_plain()
        return self.out

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
        check_length("引语", quote, 600, line)
        check_length("说话人", who.strip(), 120, line)
        check_length("说话人的身份", role.strip(), 120, line)
        return {"quote": quote, "attribution": who.strip(), "role": role.strip()}

    def directive(self, i: int) -> int:
        opening = DIRECTIVE_OPEN.match(self.lines[i])
        kind, args = opening.group(1).lower(), opening.group(2)
        start = i
        i += 1
        content: list[str] = []
        while i < len(self.lines) and not DIRECTIVE_CLOSE.match(self.lines[i]):
            content.append(self.lines[i])
            i += 1
        if i >= len(self.lines):
            raise FileRejected(f"::: {kind} 没有结束：缺少单独一行的 :::", line=self.line_no(start))
        body_line = self.line_no(start + 1)
        if kind == "figure":
            doc = load_yaml("\n".join(content), first_line=body_line)
            data = doc.data if isinstance(doc.data, dict) else None
            if data is None:
                raise FileRejected("::: figure 里要写 value、label（可选 unit、source）", line=self.line_no(start))
            unknown = set(data) - {"value", "unit", "label", "source"}
            if unknown:
                raise FileRejected(f"::: figure 不认识的字段：{', '.join(sorted(unknown))}", line=self.line_no(start))
            for key in ("value", "label"):
                if not isinstance(data.get(key), str) or not data[key].strip():
                    raise FileRejected(f"::: figure 缺少 {key}", line=self.line_no(start), field=key)
            for key in ("value", "unit", "label", "source"):
                if key in data and not isinstance(data[key], str):
                    raise FileRejected(f"::: figure 的 {key} 应是文字", line=doc.lines.get(key), field=key)
            limits = {"value": 20, "unit": 10, "label": 80, "source": 120}
            for key, limit in limits.items():
                if len(data.get(key, "")) > limit:
                    raise FileRejected(f"::: figure 的 {key} 超过 {limit} 个字", line=doc.lines.get(key), field=key)
            self.out.blocks.append(("figure", {k: data.get(k, "") for k in ("value", "unit", "label", "source")}))
        elif kind == "callout":
            tone, _, title = args.partition(" ")
            if tone and tone not in CALLOUT_TONES:
                title, tone = args, "info"
            text = "\n".join(content).rstrip("\n")
            html = self.rich_text(text.lstrip("\n"), body_line + len(text) - len(text.lstrip("\n")))
            if not html.strip():
                raise FileRejected("::: callout 里没有内容", line=self.line_no(start))
            check_length("提示框标题", title.strip(), 80, self.line_no(start))
            self.out.blocks.append(("callout", {"tone": tone or "info", "title": title.strip(), "body": html}))
        elif kind == "dodont":
            doc = load_yaml("\n".join(content), first_line=body_line)
            data = doc.data if isinstance(doc.data, dict) else None
            if data is None or set(data) != {"do", "dont"}:
                raise FileRejected("::: dodont 里要写两行：do: 这样做……  dont: 不要这样做……", line=self.line_no(start))
            for key in ("do", "dont"):
                if not isinstance(data[key], str) or not data[key].strip():
                    raise FileRejected(f"::: dodont 的 {key} 应是一句话", line=doc.lines.get(key), field=key)
                check_length(f"::: dodont 的 {key}", data[key].strip(), 200, doc.lines.get(key))
            self.out.blocks.append(("dodont", {"do": data["do"].strip(), "dont": data["dont"].strip()}))
        elif kind == "gallery":
            items = []
            for k, text in enumerate(content):
                if not text.strip():
                    continue
                match = IMAGE_LINE.match(text.strip())
                if not match:
                    raise FileRejected('::: gallery 里每行只能是一张图片 ![替代文字](文件 "说明")', line=body_line + k)
                items.append(self.image(match, body_line + k))
            if len(items) < 2:
                raise FileRejected("组图至少要两张图片", line=self.line_no(start))
            if len(items) > 12:
                raise FileRejected("组图最多 12 张图片", line=self.line_no(start))
            check_length("组图标题", args, 120, self.line_no(start))
            self.out.blocks.append(("gallery", {"title": args, "images": items}))
        else:
            raise FileRejected(
                f"不认识的区块 ::: {kind}（可用 figure、callout、gallery、dodont）", line=self.line_no(start)
            )
        return i + 1


def check_length(what: str, value: str, limit: int, line: int | None):
    """The limits of the block fields, so the admin can save what the import stored."""
    if len(value) > limit:
        raise FileRejected(f"{what}太长了：{len(value)} 个字，最多 {limit} 个", line=line)


def _strip_code_spans(text: str) -> str:
    return re.sub(r"`[^`]*`", "", text)


def parse_body(body: str, first_line: int, budget: float = DEFAULT_TIME_BUDGET) -> ParsedBody:
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
