"""The body of a page: Markdown with a few directives ⇄ the blocks of BodyStreamBlock.

Rich text goes through Wagtail's own Markdown converter and its database-HTML sanitiser, restricted to
the features the field allows. The converter is `wagtail.admin.rich_text.converters.markdown_db`, a
preview module of Wagtail 8 built on draftjs_exporter's Markdown reader; `wagtail_markdown` below is the
only place that uses it, and tests/test_markdown_converter.py pins what it makes of a representative
sample, so that an upgrade that changes it is seen. It is the converter that round-trips: Markdown and
database HTML both pass through Draft.js ContentState, the model the rich text editor edits, so what it
reads it writes back as the same Markdown (an HTML-producing library such as Python-Markdown has no way
back, and its HTML would have to be cut down to the editor's features on the way in).

The parts: this module (the format's shared pieces, the converter, and writing blocks back as Markdown
for the export); `body_parser` (reading a body into blocks, with every problem by line); `body_links`
(links, read as CommonMark reads them before the converter sees the text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from draftjs_exporter import MarkdownParseError
from wagtail.admin.rich_text.converters.markdown_db import MarkdownConverter

from cms.core.blocks import RICH_TEXT_FEATURES

from .errors import FileRejected

DIRECTIVE_OPEN = re.compile(r"^:::\s*([A-Za-z]+)\s*(.*?)\s*$")
DIRECTIVE_CLOSE = re.compile(r"^:::\s*$")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
TITLE_SEPARATOR = " | "
LINK_SENTINEL = 2_000_000_000  # page ids in converted HTML at or above this are indexes into the link table


class MarkdownUnreadable(Exception):
    """The converter could not read a stretch of Markdown; the message is the converter's."""


def wagtail_markdown(text: str, *, to: str) -> str:
    """Wagtail's Markdown converter, with the rich text features of the body's paragraphs and callouts.

    to="html": Markdown → database HTML, not yet cleaned (`DbHTMLConverter.clean` keeps only the features);
    a page link written `wagtail://page?id=N` becomes `<a linktype="page" id="N">`. Raises MarkdownUnreadable.
    to="markdown": database HTML → Markdown, page links kept as `wagtail://page?id=N`.
    """
    converter = MarkdownConverter(RICH_TEXT_FEATURES)
    if to == "html":
        try:
            return converter.to_database_format(text)
        except MarkdownParseError as exc:
            raise MarkdownUnreadable(str(exc)) from exc
    if to == "markdown":
        return converter.from_database_format(text, resolved=False)
    raise ValueError(f"to={to!r}")


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


def resolve_links(html: str, page_ids: list[int]) -> str:
    """Swap sentinel ids for the real ids of linked pages."""

    def swap(match: re.Match) -> str:
        n = int(match.group(1))
        return f'id="{page_ids[n - LINK_SENTINEL]}"' if n >= LINK_SENTINEL else match.group(0)

    return re.sub(r'id="(\d+)"', swap, html)


# -- export ----------------------------------------------------------------------------------------
def rich_text_to_markdown(html: str, page_path: Callable[[int], str | None]) -> str:
    markdown = wagtail_markdown(html, to="markdown")

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
