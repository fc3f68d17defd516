"""Text helpers that know Chinese: pinyin slugs and reading time."""

from __future__ import annotations

import re
import unicodedata

from django.utils.html import strip_tags
from django.utils.text import slugify
from pypinyin import Style, lazy_pinyin

SLUG_MAX_LENGTH = 80
# Invisible characters that make two slugs or titles look the same while differing.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")

# Readers of Chinese take in about 400 characters a minute on screen; of English, about 200 words.
CJK_CHARS_PER_MINUTE = 400
LATIN_WORDS_PER_MINUTE = 200


def pinyin_slug(text: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """A readable ASCII slug: 陶然亭的小哥 → tao-ran-ting-de-xiao-ge.

    Each word of pinyin is joined by hyphens; Latin letters and digits are kept as they are.
    """
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text or ""))
    parts = lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: [chars])
    slug = slugify(" ".join(parts), allow_unicode=False)
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug.strip("-")


def reading_minutes(html_or_text: str) -> int:
    """Minutes a reader needs, counting Chinese characters and Latin words separately; at least 1."""
    text = strip_tags(html_or_text or "")
    cjk = len(CJK.findall(text))
    latin = len(LATIN_WORD.findall(CJK.sub(" ", text)))
    minutes = cjk / CJK_CHARS_PER_MINUTE + latin / LATIN_WORDS_PER_MINUTE
    return max(1, round(minutes))
