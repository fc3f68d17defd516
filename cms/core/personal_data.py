"""Finding personal data in text: mainland mobile numbers, resident ID numbers, bank card numbers and home
addresses down to the door.

Used by the publishing gate, the importer and the release verification: a match blocks publication, and
messages show the match partly masked so that the report itself does not spread it.

How it reads text (docs/editorial.md, "The privacy guard"):

1. Normalise: NFKC (full-width forms), decimal digits of every script to ASCII, format and other invisible
   characters (zero-width spaces and joiners, soft hyphens, BOMs, direction marks) removed.
2. Hashes and identifiers in published files (block UUIDs, hashed file names) are set aside: they are not
   anyone's number.
3. Numbers: digit groups with any run of separators between them (spaces of any kind, line breaks, dots,
   middle dots, dashes of any kind, slashes) make one chain. A number is the whole chain, or a part of it set
   off by a separator not used inside it (two numbers side by side are both found; a row of figures with one
   separator throughout is read only whole), in at most seven pieces. Then: a mobile is 1[3-9] and 9 more
   digits (after an optional 86/0086), a resident ID has a real birth date and a valid check character (X or
   x last), a bank card has 16-19 digits, a card prefix and a valid Luhn digit. Letters or Chinese right
   beside a number do not hide it.
4. Addresses: numbered door parts (号, 号院, 号楼, 弄, 栋, 幢, 座, 巷, 单元, 门, 排, 室, 房, 户; a floor, 楼
   or 层, may stand between them but does not count), at least two of them and one a door, unit or room
   (号, 号院, 号楼, 弄, 单元, 门, 室, 房, or a bare room number after a building or unit: "2单元501"); or a
   road or lane (路, 街, 大街, 大道, 巷, 胡同, 里, 弄, 条) directly followed by a number and 号 (号院, 号楼,
   弄); or 门牌 and a number. A count is not an address ("147 栋写字楼", "5栋120户", "3 个单元"), nor an
   ordinal ("第 3 号文件"), a date ("3月8号") or a floor ("2号楼3层").

Everything here is linear in the length of the text: no pattern can backtrack over more than a few characters.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

KIND_LABELS = {
    "mobile": "手机号码",
    "resident-id": "身份证号码",
    "bank-card": "银行卡号",
    "address": "详细住址（门牌、楼栋或室号）",
}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# -- normalising -------------------------------------------------------------------------------------------
# Invisible characters that are not format characters (category Cf, all removed): Unicode's other
# default-ignorable code points (combining grapheme joiner, Hangul fillers, variation selectors, …).
_IGNORABLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x1810), *range(0xFE00, 0xFE10)}


class _Normaliser(dict):
    """A str.translate table built as characters are met: digits of any script → ASCII, invisible → gone."""

    def __missing__(self, code: int):
        c = chr(code)
        if unicodedata.category(c) == "Cf" or code in _IGNORABLE or 0xE0100 <= code <= 0xE01EF:
            value = None
        elif code > 0x7F and (digit := unicodedata.decimal(c, None)) is not None:
            value = str(digit)
        else:
            value = code
        self[code] = value
        return value


_NORMALISE = _Normaliser()


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_NORMALISE)


# Separators a number may be written with between its groups (after NFKC): every kind of space and line
# break, dots and middle dots, every dash (Unicode's Pd, the minus sign, tildes and wave dashes), slashes.
_DASHES = (
    "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d"
    "\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\u2212\u2053~\u223c"
)
_DOTS = ".\u00b7\u2022\u2027\u2219\u22c5\u30fb\u2024\u2e31"  # (not 。: a sentence ends there)
_SLASHES = "/\\\u2044\u2215\u29f8"
SEP = r"\s" + re.escape(_DASHES + _DOTS + _SLASHES)
CHAIN = re.compile(rf"[0-9]+(?:[{SEP}]+[0-9]+)*")
SPLIT = re.compile(rf"([{SEP}]+)")
CHECK_X = re.compile(rf"[{SEP}]*[Xx]")

# Set aside before looking for numbers: UUIDs, and hex tokens that are hashes (letters between their
# digits, or a segment of a hashed file name such as app.0ef132953441.js or photo.2e16d0ba.fill-…).
# (Patterns begin with a character class and look behind after it: the scan then skips quickly.)
_HEX_START = r"[0-9a-fA-F](?<![0-9A-Za-z][0-9a-fA-F])"
UUID = re.compile(rf"{_HEX_START}[0-9a-fA-F]{{7}}(?:-[0-9a-fA-F]{{4}}){{3}}-[0-9a-fA-F]{{12}}(?![0-9A-Za-z])")
HEX_TOKEN = re.compile(rf"{_HEX_START}[0-9a-fA-F]{{7,}}(?![0-9A-Za-z])")
HEX_LETTER = re.compile(r"[a-fA-F]")
DIGIT_RUN = re.compile(r"[0-9]+")


def _set_aside_hashes(t: str) -> str:
    def blank(m: re.Match) -> str:
        token = m.group(0)
        if m.re is HEX_TOKEN:
            if HEX_LETTER.search(token) is None:
                return token  # digits only: a number
            in_file_name = t[m.start() - 1 : m.start()] == "." and t[m.end() : m.end() + 1] == "."
            if not in_file_name and len(DIGIT_RUN.findall(token)) < 2:
                return token  # one run of digits with letters only around it: "13812345678abc" is a number
        return "#" * len(token)

    return HEX_TOKEN.sub(blank, UUID.sub(blank, t))


# -- the numbers -------------------------------------------------------------------------------------------
MOBILE = re.compile(r"(?:86|0086)?(1[3-9][0-9]{9})")
RESIDENT_ID = re.compile(r"[1-9][0-9]{5}((?:18|19|20)[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]")
# UnionPay 62, Visa 4, Mastercard 51-55 and JCB 3528-3589 with 16 to 19 digits; Mastercard 2221-2720 with 16.
BANK_CARD = re.compile(
    r"(?:62|4[0-9]|5[1-5])[0-9]{14,17}|(?:352[89]|35[3-8][0-9])[0-9]{12,15}"
    r"|(?:222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}"
)
LONGEST = 19  # digits in a bank card; an ID has 18, a mobile with 0086 15
MAX_GROUPS = 7  # pieces a number is written in, its country code included ("1.6 1.7 1.8 1.9 1.10" is a list)


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


def _number_kinds(digits: str) -> list[tuple[str, str]]:
    """(kind, the number) for each kind of personal number these digits are."""
    found = []
    if (m := MOBILE.fullmatch(digits)) is not None:
        found.append(("mobile", m.group(1)))
    if (m := RESIDENT_ID.fullmatch(digits)) is not None and resident_id_valid(digits, *m.groups()):
        found.append(("resident-id", digits))
    if BANK_CARD.fullmatch(digits) and luhn_valid(digits):
        found.append(("bank-card", digits))
    return found


def _numbers(t: str):
    """(position, kind, number) of each personal number in normalised text.

    A number is a whole chain of digit groups, or a part of one set off by separators that are not used
    inside it: "138 1234 5678 / 139-1234-5678" and "13812345678 13912345678" are two numbers each, while a row
    of figures written with the same separator throughout ("45 67 23 …", a table's cells) is read only whole.
    """
    for chain in CHAIN.finditer(t):
        pieces = SPLIT.split(chain.group(0))
        groups, runs = pieces[0::2], pieces[1::2]  # runs[k] separates groups[k] and groups[k + 1]
        x = CHECK_X.match(t, chain.end())
        last = len(groups) - 1
        if x is not None and sum(map(len, groups)) == 17 and len(groups) <= MAX_GROUPS:
            # 17 digits and an X: shaped like an ID, and read whole ("110105 19490101000X" with a wrong check
            # character is not the mobile 194 9010 1000; a 17-digit card number may stand before an x).
            whole = "".join(groups)
            found = [k for k in _number_kinds(whole + x.group(0)[-1]) if k[0] == "resident-id"]
            found += [k for k in _number_kinds(whole) if k[0] == "bank-card"]
            yield from ((chain.start(), kind, number) for kind, number in found)
            continue
        i = 0
        while i <= last:
            best: tuple[int, list[tuple[str, str]]] | None = None
            digits, inside = "", set()
            left = runs[i - 1] if i else None
            for j in range(i, last + 1):
                if j > i:
                    inside.add(runs[j - 1])
                digits += groups[j]
                if len(digits) > LONGEST or j - i >= MAX_GROUPS or left in inside:
                    break
                if j < last and runs[j] in inside:
                    continue
                kinds = _number_kinds(digits)
                if j == last and x is not None and len(digits) == 17:
                    kinds = [k for k in _number_kinds(digits + x.group(0)[-1]) if k[0] == "resident-id"]
                if kinds:
                    best = (j, kinds)
            if best is None:
                i += 1
                continue
            for kind, number in best[1]:
                yield chain.start(), kind, number
            i = best[0] + 1


# -- addresses ---------------------------------------------------------------------------------------------
_NUM = r"(?<![0-9A-Za-z.])[0-9]{1,5}"
_SP = r"[ \t]?"  # (NFKC has made every other space a plain one)
# A door part: a number and the word for what it numbers. The building words are also measure words of
# counts ("147 栋写字楼", "5 户人家"), so a count's continuation stops them.
_BUILDING = r"(?:号楼|号院|栋|幢|座)(?!楼|房|写字|建筑|住宅|商务|宿舍|平房|大楼|城市)"
_FIRST = rf"(?:号楼|号院|{_BUILDING}|号(?!线|文|令|码|称|召|字|车|机)|弄|单元|楼(?!层|高)|巷)"
_NEXT = rf"(?:{_FIRST}|室|房|门(?!课|店|口|诊|类|学)|排|层|户(?!人|居民|家|籍|口|数))"
# An address names at least two of these parts (a floor, 楼 or 层, does not count), one of them a door, a
# unit or a room: 号 (also 号楼, 号院), 弄, 单元, 门, 室, 房, or a bare room number ("").
_FLOOR = ("楼", "层")
_STRONG = ("号", "弄", "单元", "门", "室", "房")
_PART = re.compile(rf"[0-9A-Z]+{_SP}([^\s0-9\-]*)")
# A room number with no word after a unit ("2单元501"); not a figure ("147栋1000余名", "5栋2023年").
_MEASURE = "余多个人名家位元块米年月日天次件辆台条户层号楼室万千百亿分秒岁斤克"
_ROOM = rf"(?:(?<=单元)|(?<=[楼栋幢座门])){_SP}[0-9]{{3,4}}(?![0-9%‰A-Za-z{_MEASURE}]|[.,][0-9])"
_DOORS_AFTER = rf"(?:[ \t\-]{{0,2}}{_NUM}{_SP}{_NEXT})*(?:{_ROOM})?"
DOORS = re.compile(
    r"[0-9A-Z](?:(?<=[0-9])(?<![0-9A-Za-z.][0-9])(?<!第[0-9])(?<!第 [0-9])(?<!月[0-9])[0-9]{0,4}|(?<![A-Za-z][A-Z]))"
    rf"{_SP}{_FIRST}{_DOORS_AFTER}"
)  # a number (not after 第, "第 3 号", nor after 月, "3月8号": a date) or a building's letter ("A座")
# A road or lane right before a number and 号: "张江路123弄", "建国路88号", "光华里8号院".
_ROAD_SUFFIX = r"(?:大街|大道|胡同|路|街|巷|里|弄|条)"
ROAD = re.compile(rf"{_ROAD_SUFFIX}{_SP}[甲乙丙丁]?[0-9]{{1,5}}{_SP}(?:号楼|号院|号(?!线|文|令|码)|弄){_DOORS_AFTER}")
# Words that end like a road (or a Beijing 条) but are not one: "思路", "这里", "25公里", "这条".
NOT_ROADS = {
    "思路", "道路", "线路", "电路", "网路", "套路", "门路", "这里", "那里", "哪里", "心里", "家里", "手里",
    "公里", "千里", "万里", "夜里", "一条", "这条", "那条", "每条", "几条", "两条", "各条", "哪条",
}  # fmt: skip
_NAME_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z]")
DOOR_PLATE = re.compile(
    rf"门牌(?:号码|号)?{_SP}(?:(?:是|为|:){_SP}[0-9]{{1,5}}(?![0-9])(?:{_SP}号)?|[0-9]{{1,5}}{_SP}号)"
)
# What a name before the doors may end with: roads, lanes and compounds ("幸福小区3号楼").
PLACE_SUFFIX = re.compile(r"(?:大街|大道|胡同|小区|社区|花园|家园|公寓|大厦|新村|路|街|巷|里|弄|村|苑|院|庄|园|城)$")
_NAME_STOP = set("在住于是的到从往区市县镇乡省送寄家址号室")


def _name_before(t: str, end: int) -> int:
    """Where the name ending at `end` begins: a run of Chinese (or else Latin) letters, at most five,
    stopping at words like 在 or 住 and at a district, city or town."""
    cjk = "\u4e00" <= t[end - 1 : end] <= "\u9fff"
    start = end
    while start > max(0, end - 5):
        c = t[start - 1]
        if c in _NAME_STOP or not (("\u4e00" <= c <= "\u9fff") if cjk else c.isascii() and c.isalpha()):
            break
        start -= 1
    return start


def _addresses(t: str):
    """(start, end, name_end) of each address in normalised text; the name runs from start to name_end."""
    spans = []
    for m in ROAD.finditer(t):
        if m.start() == 0 or not _NAME_CHAR.match(t, m.start() - 1):
            continue  # a road has a name
        if t[m.start() - 1 : m.start() + 1] in NOT_ROADS:
            continue
        spans.append((_name_before(t, m.start()), m.end(), m.start()))
    for m in DOOR_PLATE.finditer(t):
        spans.append((m.start(), m.end(), m.start()))
    for m in DOORS.finditer(t):
        parts = [p for p in _PART.findall(m.group(0)) if not p.startswith(_FLOOR)]
        if len(parts) < 2 or not any(p.startswith(_STRONG) or p == "" for p in parts):
            continue
        start = name_end = m.start()
        suffix = PLACE_SUFFIX.search(t, max(0, start - 4), start)
        if suffix is not None and suffix.start() > 0:
            start, name_end = _name_before(t, suffix.start()), suffix.start()
            if start == name_end:
                start = name_end = m.start()
        spans.append((start, m.end(), name_end))
    spans.sort(key=lambda s: (s[0], -s[1]))
    end = -1
    for start, stop, name_end in spans:
        if name_end < end:
            continue  # inside an address already found
        yield max(start, end), stop, name_end
        end = stop


def _mask_address(t: str, start: int, end: int, name_end: int) -> str:
    name = t[start:name_end]
    rest = re.sub(r"\s", "", t[name_end:end])
    return (name[:1] + "*" * (len(name) - 1) if name else "") + re.sub("[0-9]", "*", rest)


# -- the guard ---------------------------------------------------------------------------------------------
ANY_DIGIT = re.compile(r"[0-9]")
_SEPARATORS = re.compile(rf"[{SEP}]+")


def _squash(text: str) -> str:
    return _SEPARATORS.sub("", text)


def _find(t: str) -> list[tuple[int, str, str, str]]:
    """(position, kind, canonical value, masked) for normalised text."""
    hits = []
    if ANY_DIGIT.search(t) is None:
        return hits
    for pos, kind, number in _numbers(_set_aside_hashes(t)):
        hits.append((pos, kind, number.upper(), mask(number)))
    for start, end, name_end in _addresses(t):
        hits.append((start, "address", _squash(t[start:end]), _mask_address(t, start, end, name_end)))
    hits.sort(key=lambda h: h[0])
    return hits


def find_personal_data(text: str, *, allowed=()) -> list[tuple[str, str]]:
    """(kind, masked match) for every personal number or home address in the text, in order.

    `allowed`: the organisation's own contact details (its office address, its telephone), which are not
    reported where the text repeats them, however either side is written. An address is allowed only if it
    says no more than an allowed one (the same building is allowed; a flat in it is not)."""
    t = normalise(text)
    hits = _find(t)
    if allowed and hits:
        numbers, places = set(), []
        for item in allowed:
            a = normalise(item)
            numbers.update(value for _p, kind, value, _m in _find(a) if kind != "address")
            places.append(_squash(a))
        hits = [
            h for h in hits if not (h[2] in numbers if h[1] != "address" else any(h[2] in place for place in places))
        ]
    return [(kind, masked) for _p, kind, _v, masked in hits]
