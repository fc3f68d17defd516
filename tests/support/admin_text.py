"""What a person reads on an admin screen, and the English words in it.

The text between tags (not scripts or styles), the attributes people read (title, aria-label, placeholder, alt,
Wagtail's tooltips and progress labels), and the labels in the JSON the admin's scripts render from: the sidebar's
menu (`wagtail-sidebar-props`), the config's strings, StreamField block definitions (labels, help texts, the
HTML of their widgets). Markup inside those JSON strings is read the same way.
"""

from __future__ import annotations

import contextlib
import json
import re
from html.parser import HTMLParser

# Attributes a person reads (screen readers included).
READ_ATTRS = {
    "title",
    "aria-label",
    "aria-description",
    "aria-roledescription",
    "aria-valuetext",
    "placeholder",
    "alt",
    "data-w-tooltip-content-value",
    "data-w-progress-active-value",
}
# Attributes whose value is JSON that a script renders into the page.
JSON_ATTRS = {"data-w-block-data-value", "data-block", "data-w-block-arguments-value"}
# In that JSON, the keys whose string values are shown.
JSON_KEYS = {"label", "footer_text", "title", "help_text", "helpText", "text", "placeholder", "description", "heading"}

# Upper-case keys of the admin's config that are not strings for people.
TECHNICAL_KEYS = {"CSRF_TOKEN", "CSRF_HEADER_NAME"}
# Proper names and technical terms that stay as they are in Chinese too, and keyboard keys.
ALLOWED = {
    "wagtail", "draftail", "url", "urls", "html", "api", "rss", "atom", "markdown", "pdf", "id", "csv", "xlsx",
    "json", "jpeg", "jpg", "png", "gif", "webp", "svg", "avif", "heic", "ico", "gps", "utc", "aed", "ctrl",
    "alt", "shift", "esc", "cmd", "enter", "tab", "fts", "sqlite", "postgresql", "docx", "odt", "ods", "pptx",
    "txt", "mb", "kb", "gb", "px", "ip", "ok", "sf", "wechat", "qr", "cbd", "javascript", "utf",
}  # fmt: skip

# What is not words: addresses, paths, file names, e-mail addresses, template placeholders.
NOT_WORDS = re.compile(
    r"https?://\S+|(?<!\w)/[\w./?=&%#:+-]*|\S+@\S+\.\w+|[\w-]+\.(?:jpe?g|png|gif|webp|pdf|csv|docx|odt|ods|pptx|txt|xlsx)\b"
    r"|%\(\w+\)[sd]|\{\w+\}|__\w+__"
)
# A token of letters, digits and joiners; only one of letters alone is a word (not a hash, not an identifier).
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’_.-]*")
WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*\.?")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.skip = 0
        self.json: list[str] | None = None
        self.hidden: list[str] = []  # the open elements that carry `hidden`, by tag

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "hidden" in attrs and tag not in VOID:
            self.hidden.append(tag)
        if tag in ("script", "style"):
            self.skip += 1
            if tag == "script" and (attrs.get("type") or "").endswith("json"):
                self.json = []
        for name, value in attrs.items():
            if not value:
                continue
            if name in READ_ATTRS or (name == "value" and tag == "input" and attrs.get("type") in ("submit", "button")):
                self.texts.append(value)
            elif name in JSON_ATTRS:
                with contextlib.suppress(ValueError):  # not JSON after all: nothing shown from it
                    self.texts.extend(json_texts(json.loads(value)))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
            if self.json is not None:
                with contextlib.suppress(ValueError):
                    self.texts.extend(json_texts(json.loads("".join(self.json))))
                self.json = None

    def handle_data(self, data):
        if self.json is not None:
            self.json.append(data)
        elif not self.skip and not (self.hidden and data.strip() == "None"):
            # A hidden counter that a script fills in holds Python's None until then (the side panels' toggles).
            self.texts.append(data)


def json_texts(value, key=None):
    """The shown strings in a JSON document: values of label-like keys, strings tables (upper-case keys), and
    the text of HTML fragments (a widget's markup)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from json_texts(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from json_texts(v, key)
    elif isinstance(value, str):
        if value.lstrip().startswith("<") and ">" in value:
            yield from visible_texts(value)
        elif key in JSON_KEYS or (key and key.isupper() and key not in TECHNICAL_KEYS):
            yield value


def visible_texts(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return [" ".join(t.split()) for t in parser.texts if t.strip()]


def english_words(text: str, allowed=frozenset()) -> list[str]:
    """The English words in a text, less proper names, technical terms and the given user content."""
    words = []
    for token in TOKEN.findall(NOT_WORDS.sub(" ", text)):
        token = token.rstrip(".")
        if WORD.fullmatch(token) and len(token) > 1 and token.lower() not in ALLOWED | allowed:
            words.append(token)
    return words


def english_in(html: str, allowed=frozenset()) -> list[str]:
    """The texts of a screen that hold English words: each text once."""
    found = []
    for text in visible_texts(html):
        if english_words(text, allowed) and text not in found:
            found.append(text)
    return found
