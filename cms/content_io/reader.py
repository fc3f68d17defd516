"""Reading content files that come from anywhere: encodings, control characters, front matter, YAML.

Everything here raises FileRejected with the line (and field) at fault; nothing touches the database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent

from .errors import FileRejected

MAX_FILE_BYTES = 1_000_000
# C0/C1 controls other than tab and newline; DEL.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that make text look different from what it is: bidi overrides and isolates, zero-width ones.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def decode(raw: bytes) -> str:
    """UTF-8 text with the BOM removed and line ends normalised to \\n."""
    if len(raw) > MAX_FILE_BYTES:
        raise FileRejected(f"文件太大（{len(raw):,} 字节，上限 {MAX_FILE_BYTES:,} 字节）")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        hint = ""
        try:
            raw.decode("gb18030")
            hint = "；看起来是 GBK/GB18030 编码，请用编辑器另存为 UTF-8"
        except UnicodeDecodeError:
            pass
        raise FileRejected(f"不是 UTF-8 编码的文本（第 {exc.start} 字节）{hint}", line=line) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    match = CONTROL.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise FileRejected(f"含有控制字符 {_control_name(match.group())}，请删除", line=line)
    return text


def _control_name(char: str) -> str:
    return "NUL" if char == "\x00" else f"U+{ord(char):04X}"


def check_visible(value: str, field_name: str, line: int | None = None) -> str:
    """Refuse invisible and direction-changing characters in titles and slugs; normalise width."""
    match = INVISIBLE.search(value)
    if match:
        raise FileRejected(
            f"含有不可见字符 U+{ord(match.group()):04X}（零宽或文字方向控制字符），会让标题或网址看起来与实际不同",
            line=line,
            field=field_name,
        )
    return unicodedata.normalize("NFC", value)


# -- YAML ------------------------------------------------------------------------------------------
class _StrictComposer(Composer):
    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(None, None, "不支持 YAML 别名（*name）：请直接写出内容", event.start_mark)
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!" and not _is_implicit(event):
            raise yaml.MarkedYAMLError(None, None, f"不支持 YAML 标签 {tag}", event.start_mark)
        if getattr(event, "anchor", None):
            raise yaml.MarkedYAMLError(None, None, "不支持 YAML 锚点（&name）：请直接写出内容", event.start_mark)
        return super().compose_node(parent, index)


def _is_implicit(event) -> bool:
    implicit = getattr(event, "implicit", None)
    if isinstance(implicit, tuple):
        return any(implicit)
    return bool(implicit)


class StrictLoader(_StrictComposer, yaml.BaseLoader):
    """Every scalar is a string (no 'NO' → False, no '0123' → 83); no aliases, anchors, tags or duplicate keys.

    Types are checked by the schema, which can then say what it expected.
    """

    line_offset = 0  # lines of the file before the YAML text (front matter starts on line 2)

    def construct_scalar(self, node):
        value = super().construct_scalar(node)
        match = CONTROL.search(value)  # written as an escape such as "\0" or "\e", which decode() cannot see
        if match:
            raise yaml.MarkedYAMLError(
                None, None, f"含有控制字符 {_control_name(match.group())}，请删除", node.start_mark
            )
        return value

    def construct_mapping(self, node, deep=False):
        seen: dict[str, int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.MarkedYAMLError(None, None, "键只能是文字，不能是列表或映射", key_node.start_mark)
            key = key_node.value
            line = key_node.start_mark.line + 1 + self.line_offset
            if key in seen:
                raise yaml.MarkedYAMLError(
                    None, None, f"重复的键 “{key}”（第一次出现在第 {seen[key]} 行）", key_node.start_mark
                )
            seen[key] = line
        return super().construct_mapping(node, deep=True)


@dataclass
class YamlDoc:
    data: object
    lines: dict[str, int] = field(default_factory=dict)  # top-level key (and "key.subkey") → line in the file


def load_yaml(text: str, first_line: int = 1) -> YamlDoc:
    """Parse YAML strictly, remembering the line of each top-level key (offset by first_line - 1)."""
    offset = first_line - 1
    try:
        loader = StrictLoader(text)
        loader.line_offset = offset
        try:
            node = loader.get_single_node()
            if node is None:
                return YamlDoc(None)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + offset if mark else None
        raise FileRejected(f"YAML 格式错误：{exc.problem or exc.context}", line=line) from None
    except yaml.YAMLError as exc:
        raise FileRejected(f"YAML 格式错误：{exc}") from None
    except RecursionError:
        raise FileRejected("YAML 嵌套层次太深（列表或映射套了太多层），无法读取", line=first_line) from None
    lines = {}
    if hasattr(node, "value") and isinstance(node.value, list):
        for item in node.value:
            if isinstance(item, tuple):
                lines[item[0].value] = item[0].start_mark.line + 1 + offset
                # Keys one level down too, as "section.key" (site.yaml's home: and settings:).
                if isinstance(item[1], yaml.MappingNode):
                    for key_node, _value in item[1].value:
                        lines[f"{item[0].value}.{key_node.value}"] = key_node.start_mark.line + 1 + offset
    return YamlDoc(data, lines)


@dataclass
class SourceFile:
    path: str  # relative to the content root, with "/"
    front: dict
    lines: dict[str, int]
    body: str
    body_line: int  # line number of the first body line


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (front matter YAML, body, line where the body starts)."""
    if not text.startswith("---\n") and text.strip() != "---":
        raise FileRejected("缺少开头的 front matter：文件第一行应为 ---", line=1)
    end = re.search(r"^(---|\.\.\.)[ \t]*$", text[4:], re.M)
    if end is None:
        raise FileRejected("front matter 没有结束：缺少单独一行的 ---", line=1)
    front = text[4 : 4 + end.start()]
    body_start = 4 + end.end()
    body = text[body_start:].lstrip("\n")
    body_line = text.count("\n", 0, len(text) - len(body)) + 1
    return front, body, body_line


def read_markdown(root: Path, rel: str) -> SourceFile:
    text = decode((root / rel).read_bytes())
    front_text, body, body_line = split_front_matter(text)
    doc = load_yaml(front_text, first_line=2)
    if doc.data is None:
        raise FileRejected("front matter 是空的：至少需要 title", line=2)
    if not isinstance(doc.data, dict):
        raise FileRejected("front matter 必须是“键: 值”的映射，而不是列表或单个值", line=2)
    return SourceFile(rel, doc.data, doc.lines, body, body_line)


def read_data(root: Path, rel: str) -> YamlDoc:
    return load_yaml(decode((root / rel).read_bytes()))
