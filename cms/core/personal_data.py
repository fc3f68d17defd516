"""Finding personal data in text: mainland mobile numbers, resident ID numbers, bank card numbers.

Used by the publishing gate, the importer and the release verification: a match blocks publication, and
messages show the match partly masked so that the report itself does not spread it.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

MOBILE = re.compile(r"(?<![\dA-Za-z])(?:(?:\+|00)?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?![\dA-Za-z])")
RESIDENT_ID = re.compile(
    r"(?<![\dA-Za-z])[1-9]\d{5}((?:18|19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])"
)
BANK_CARD = re.compile(r"(?<![\dA-Za-z])(?:62|4\d|5[1-5])\d{14,17}(?![\dA-Za-z])")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
KIND_LABELS = {"mobile": "手机号码", "resident-id": "身份证号码", "bank-card": "银行卡号"}


def resident_id_valid(number: str, year: str, month: str, day: str) -> bool:
    try:
        if datetime.date(int(year), int(month), int(day)) > datetime.date.today():
            return False
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_valid(number: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(number)):
        k = int(c) * (2 if i % 2 else 1)
        total += k - 9 if k > 9 else k
    return total % 10 == 0


def mask(value: str) -> str:
    return value[:3] + "*" * max(0, len(value) - 6) + value[-3:] if len(value) > 6 else "***"


def find_personal_data(text: str) -> list[tuple[str, str]]:
    """(kind, masked match) for every personal number in the text. Full-width digits count too."""
    t = unicodedata.normalize("NFKC", text)
    hits = [("mobile", mask("".join(m.groups()))) for m in MOBILE.finditer(t)]
    hits += [
        ("resident-id", mask(m.group(0))) for m in RESIDENT_ID.finditer(t) if resident_id_valid(m.group(0), *m.groups())
    ]
    hits += [("bank-card", mask(m.group(0))) for m in BANK_CARD.finditer(t) if luhn_valid(m.group(0))]
    return hits
