"""The privacy guard's detector (cms/core/personal_data.py): personal numbers and home addresses are found however
they are written, and ordinary text (dates, amounts, standards, office telephones, counts) is left alone.

The property tests generate valid numbers (real checksums) and write them the ways people and copy-paste do:
any grouping, any separators, invisible characters, digits of other scripts, letters or Chinese right beside.
"""

from __future__ import annotations

import datetime
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cms.core.personal_data import KIND_LABELS, find_personal_data, luhn_valid

CONTENT = Path(__file__).resolve().parent.parent / "content"

# Deterministic (the same examples on every run and machine) and quick: the whole file runs in a few seconds.
settings.register_profile(
    "personal-data",
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("personal-data")

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def luhn_digit(partial: str) -> str:
    return next(d for d in "0123456789" if luhn_valid(partial + d))


def masked(number: str) -> str:
    return number[:3] + "*" * (len(number) - 6) + number[-3:]


def assert_masked(shown: str, number: str):
    """What a message shows reveals at most the first three and the last three characters of the number."""
    assert shown == masked(number)
    assert number not in shown and len(re.sub(r"[^0-9Xx]", "", shown)) <= 6


# -- how numbers get written ---------------------------------------------------------------------------------
SEPARATORS = [
    " ", "  ", "\u3000", "\u00a0", "\u2009", "\t", ".", "·", "・", "•", "-", "–", "—", "‐", "‑", "−",
    "～", "〜", "/", "／", "\\", " - ", " / ", "--", ". ", "—— ",
]  # fmt: skip
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u2061"]
DIGIT_SCRIPTS = [
    0x30,  # ASCII
    0xFF10,  # full-width
    0x0660,  # Arabic-Indic
    0x06F0,  # Extended Arabic-Indic (Persian)
    0x0966,  # Devanagari
    0x09E6,  # Bengali
    0x0E50,  # Thai
    0x1D7CE,  # mathematical bold
]
BESIDE = ["", "", "Tel", "tel:", "wx", "微信", "电话", "abc", "Mobile", "手机号", "号码是", "（", "「", "V", "QQ群"]
AFTER = ["", "", "abc", "x", "号", "。", "，", "找我", "（王阿姨）", "D", "联系"]


@st.composite
def written(draw, digits: str, *, prefix: str = "", check_letter: str = ""):
    """`digits` as someone might write them: in up to six groups with random separators, invisible characters,
    other scripts' digits, letters or Chinese right before (then the `prefix`, e.g. +86) and after.
    `check_letter` (an ID's X) stays last."""
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=5)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    base = draw(st.sampled_from(DIGIT_SCRIPTS))
    out = []
    for n, group in enumerate(groups):
        if n:
            out.append(draw(st.sampled_from(SEPARATORS)))
        for c in group:
            out.append(chr(base + int(c)))
            if draw(st.integers(0, 9)) == 0:
                out.append(draw(st.sampled_from(INVISIBLE)))
    if check_letter:
        out.append(draw(st.sampled_from(["X", "x", "Ｘ"])))
    return draw(st.sampled_from(BESIDE)) + prefix + "".join(out) + draw(st.sampled_from(AFTER))


mobiles = st.builds(
    lambda second, rest: "1" + second + rest, st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9)
)


@st.composite
def resident_ids(draw):
    region = draw(st.sampled_from(["110105", "310115", "440305", "510104", "620102", "430102", "222401", "650102"]))
    born = draw(st.dates(datetime.date(1900, 1, 1), datetime.date.today() - datetime.timedelta(days=1)))
    first17 = region + born.strftime("%Y%m%d") + draw(st.text("0123456789", min_size=3, max_size=3))
    return first17 + id_check(first17)


@st.composite
def bank_cards(draw):
    prefix = draw(st.sampled_from(["62", "622202", "621700", "4", "40", "49", "51", "55", "6228"]))
    length = draw(st.integers(16, 19))
    partial = prefix + draw(st.text("0123456789", min_size=length - 1 - len(prefix), max_size=length - 1 - len(prefix)))
    return partial + luhn_digit(partial)


@settings(PROFILE)
@given(st.data(), mobiles, st.sampled_from(["", "+86", "+86 ", "0086-", "0086 ", "(+86)", "（+86）", "86-", "+86-"]))
def test_a_mobile_number_is_found_however_it_is_written(data, number, prefix):
    text = "有事请找" + data.draw(written(number, prefix=prefix)) + "，谢谢。"
    found = find_personal_data(text)
    assert [kind for kind, _ in found] == ["mobile"], (text, found)
    assert_masked(found[0][1], number)


@settings(PROFILE)
@given(st.data(), resident_ids())
def test_a_resident_id_is_found_however_it_is_written(data, number):
    if number[17] == "X":  # the check character X (or x) comes last, right after the digits
        text = "身份证：" + data.draw(written(number[:17], check_letter="X"))
    else:
        text = "身份证：" + data.draw(written(number))
    found = find_personal_data(text)
    assert "resident-id" in [kind for kind, _ in found], (text, found)
    shown = dict(found)["resident-id"]
    assert_masked(shown.upper(), number)


@settings(PROFILE)
@given(st.data(), bank_cards())
def test_a_bank_card_number_is_found_however_it_is_written(data, number):
    text = "请转账到卡号" + data.draw(written(number)) + "（工商银行）"
    found = find_personal_data(text)
    assert ("bank-card", masked(number)) in found, (text, found)
    assert_masked(dict(found)["bank-card"], number)


def test_cards_written_in_groups_of_four_and_ids_in_groups():
    assert find_personal_data("卡号 6222 0202 0011 2233 446") == [("bank-card", "622*************446")]
    assert find_personal_data("卡号 6222-0202-0011-2233-446") == [("bank-card", "622*************446")]
    assert find_personal_data("身份证 110105 19491231 002X") == [("resident-id", "110************02X")]
    assert find_personal_data("身份证 110105-19491231-002x") == [("resident-id", "110************02x")]


def test_what_the_security_review_found_on_the_public_site():
    for text in [
        "电话 138.1234.5678",
        "电话 138–1234–5678",
        "电话 138\u200b1234\u200b5678",
        "Tel13812345678",
        "微信wx13812345678",
        "13812345678abc",
        "电话 138—1234—5678",
        "电话 138／1234／5678",
        "电话 138  1234  5678",
        "电话 138\u00ad1234\u00ad5678",
        "电话 ١٣٨١٢٣٤٥٦٧٨",
        "电话 १३८१२३४५६७८",
        "电话 (+86) 138-1234-5678",
        "电话 0086 138 1234 5678",
        "两个号码 13812345678 13912345678",
    ]:
        found = find_personal_data(text)
        assert found and found[0] == ("mobile", "138*****678"), text


def test_two_numbers_next_to_each_other_are_both_found():
    assert find_personal_data("13812345678/13912345679") == [("mobile", "138*****678"), ("mobile", "139*****679")]
    assert find_personal_data("办公室 010-6512 3456 / 138 1234 5678") == [("mobile", "138*****678")]


# -- residential addresses -----------------------------------------------------------------------------------
ADDRESS_LABEL = "详细住址（门牌、楼栋或室号）"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("王奶奶（82岁，独居）住在浦东新区张江路123弄45号602室。", "张*路***弄**号***室"),
        ("家住幸福小区3号楼2单元501，平时一个人。", "幸*小区*号楼*单元***"),
        ("老人住在XX胡同12号院3排5号。", "X*胡同**号院*排*号"),
        ("5栋2单元1003室的李大爷", "*栋*单元****室"),
        ("门牌号18号，进门右手", "门牌号**号"),
        ("送到建国路88号就行", "建*路**号"),
        ("住在3号楼 2单元 501 室", "*号楼*单元***室"),
        ("地址：光华里８号院３号楼", "光*里*号院*号楼"),
    ],
)
def test_a_home_address_down_to_the_door_is_found_and_masked(text, shown):
    found = find_personal_data(text)
    assert found == [("address", shown)], found
    assert KIND_LABELS["address"] == ADDRESS_LABEL


ROADS = ["张江路", "中山北路", "金融大街", "世纪大道", "百花深处胡同", "杨梅竹斜街", "光华里", "南锣鼓巷"]
COMMUNITIES = ["幸福小区", "阳光花园", "金色家园", "团结湖北里", "翠微路", "和平新村"]


@st.composite
def addresses(draw):
    n = lambda lo, hi: str(draw(st.integers(lo, hi)))  # noqa: E731
    shape = draw(st.integers(0, 3))
    if shape == 0:  # a road and its number (a lane, a door, a room)
        doors = [n(1, 999) + draw(st.sampled_from(["号", "弄", "号院"]))]
        doors += draw(st.lists(st.sampled_from(["号", "号楼", "单元", "室"]).map(lambda w: n(1, 2999) + w), max_size=3))
        return draw(st.sampled_from(ROADS)), doors
    if shape == 1:  # a compound's building, entrance or unit and room
        doors = [n(1, 40) + draw(st.sampled_from(["号楼", "栋", "幢", "号院"]))]
        doors.append(n(1, 9) + draw(st.sampled_from(["单元", "门"])))
        doors.append(n(101, 2808) + draw(st.sampled_from(["室", "", "号"])))
        return draw(st.sampled_from(COMMUNITIES + [""])), doors
    if shape == 2:
        return "", [n(1, 30) + "栋", n(1, 6) + "单元", n(101, 1808) + "室"]
    return "门牌号", [n(1, 300) + "号"]


@settings(PROFILE)
@given(st.data(), addresses())
def test_an_address_is_found_however_its_digits_are_written(data, address):
    name, doors = address
    base = data.draw(st.sampled_from(DIGIT_SCRIPTS))
    space = data.draw(st.sampled_from(["", "", " ", "\u3000", "\u200b"]))
    rendered = space.join("".join(chr(base + int(c)) if c.isdigit() else c for c in door) for door in doors)
    text = data.draw(st.sampled_from(["独居老人王奶奶住", "送货地址：", "她家在", "Tel"])) + name + rendered + "。"
    found = find_personal_data(text)
    assert [kind for kind, _ in found] == ["address"], (text, found)
    shown = found[0][1]
    assert not re.search(r"\d", shown), "no digit of the address is shown"
    if name and name != "门牌号":
        assert shown.startswith(name[0]) and name[1:3] not in shown


# -- ordinary text is not refused ----------------------------------------------------------------------------
@st.composite
def ordinary(draw):
    y, m, d = draw(st.integers(1949, 2030)), draw(st.integers(1, 12)), draw(st.integers(1, 28))
    amount = draw(st.integers(1, 9_999_999))
    landline = str(draw(st.integers(2, 8))) + "".join(draw(st.text("0123456789", min_size=7, max_size=7)))
    area = draw(st.sampled_from(["010", "021", "0571", "0755", "022"]))
    invalid_mobile = draw(st.sampled_from(["10", "11", "12"])) + draw(st.text("0123456789", min_size=9, max_size=9))
    # an ID whose check character is wrong (regions whose numbers cannot also be bank card numbers)
    first17 = draw(st.sampled_from(["110105", "310115", "320102", "130102"])) + f"{y:04d}{m:02d}{d:02d}"
    first17 += draw(st.text("0123456789", min_size=3, max_size=3))
    wrong = draw(st.sampled_from([c for c in "0123456789X" if c != id_check(first17)]))
    cut = draw(st.sampled_from([6, 14]))
    return draw(
        st.sampled_from(
            [
                f"{y}年{m}月{d}日",
                f"{y}-{m:02d}-{d:02d}",
                f"{y}/{m}/{d}",
                f"{y}.{m:02d}.{d:02d}",
                f"{d:02d}.{m:02d}.{y}",
                f"{y} 年 {m} 月 {d} 日",
                f"{y}—{y + 3}年",
                f"{amount:,} 元",
                f"{amount / 100:.1f}亿",
                f"{amount}元",
                f"共 {amount % 500} 页",
                f"第 {m}-{d} 页",
                "GB 17761-2018",
                "GB/T 35273-2020",
                f"GB {amount % 90000 + 10000}-{y}",
                invalid_mobile,
                invalid_mobile[:3] + " " + invalid_mobile[3:7] + " " + invalid_mobile[7:],
                first17 + wrong,
                first17[:cut] + " " + first17[cut:] + wrong,
                f"{area}-{landline[:4]} {landline[4:]}",
                f"({area}) {landline}",
                f"+86 {area[1:]} {landline[:4]} {landline[4:]}",
                f"{area}-{landline}",
                f"{landline[:4]}-{landline[4:]}",
                "147 栋写字楼",
                f"{amount % 300}栋商务楼宇",
                f"第 {m} 号文件",
                f"国务院令第 {amount % 900} 号",
                f"{m} 个单元",
                f"第{m}单元第{d}课",
                "陶然亭街道",
                "建外街道",
                "北京市朝阳区",
                f"{m}月{d}号",
                f"地铁{m}号线",
                f"每小时{d}公里",
                f"{m}室{d % 3 + 1}厅",
                f"{amount % 90 + 10}栋{amount % 900 + 100}户",
                f"拨打110、120或119，{d}分钟内到",
                f"{y}-{m:02d}-{d:02d}T{m:02d}:{d:02d}:00+08:00",
                f"{m}号楼{d}层会议室",
                f"会议室在{m}楼{d}号",
                f"这条{m}号线",
                f"第{m}条第{d}款",
                f"请核对门牌号码 {m} 次",
                f"京ICP备{landline}号-{m}",
                f"京公网安备 11010502{landline[:6]}号",
                f"订单号 {y}{landline}{landline}{amount}",
                f"版本 v{m}.{d}.{y}",
                f"{m}.{d} {m}.{d + 1} {m}.{d + 2} {m}.{d + 3} {m}.{d + 4}",
                f"{y}-{y + 1}-{y + 2}-{y + 3} 年度",
            ]
        )
    )


@settings(PROFILE)
@given(st.lists(ordinary(), min_size=1, max_size=6), st.sampled_from(["，", "。", "；", "：", "（", "，约", "和"]))
def test_ordinary_text_is_not_refused(items, joint):
    text = "据报道，" + joint.join(items) + "。"
    assert find_personal_data(text) == [], text


@settings(PROFILE)
@given(st.lists(st.integers(0, 9999), min_size=6, max_size=40), st.sampled_from(SEPARATORS + ["\n", "\n\n"]))
def test_a_row_of_figures_is_not_read_as_numbers(figures, separator):
    """A table row or a list of figures written with one separator throughout is read whole (more than 19
    digits: no number), not as every run of neighbouring figures (some of which would pass a Luhn check)."""
    text = separator.join(map(str, figures))
    assume(len(re.sub(r"[^0-9]", "", text)) > 19)
    assert find_personal_data("数据：" + text + "。") == [], text


def test_the_site_content_has_no_personal_data():
    """content/ is the real site's text: the guard must let all of it through (nothing in it is personal)."""
    files = [p for p in CONTENT.rglob("*") if p.suffix in (".md", ".yaml", ".yml", ".csv", ".txt")]
    assert len(files) > 50
    found = {str(p.relative_to(CONTENT)): find_personal_data(p.read_text("utf-8")) for p in files}
    assert {path: hits for path, hits in found.items() if hits} == {}


def test_identifiers_and_hashes_in_published_files_are_not_numbers():
    """The release check scans JSON and HTML as they are: block UUIDs and hashed file names are not phones."""
    assert find_personal_data('{"id": "64ae0c38-954b-4c38-bc63-14404350553e"}') == []
    assert find_personal_data('<script src="/static/js/training.0ef139534412.js">') == []
    assert find_personal_data('<script src="/static/js/training.e13953441234.js">') == []
    assert find_personal_data('<img src="/media/images/a.e3b13812345678c9.fill-800x450.webp">') == []


# -- the organisation's own contact details ------------------------------------------------------------------
def test_allowed_strings_are_not_reported_but_everything_else_is():
    allowed = ["北京市朝阳区建国路88号院3号楼", "138-1234-5678"]
    text = "项目办公室在建国路 88 号院 3 号楼，电话 13812345678；王奶奶住建国路88号院3号楼2单元501，电话 13912345679。"
    found = find_personal_data(text, allowed=allowed)
    assert ("mobile", "139*****679") in found and ("address", "建*路**号院*号楼*单元***") in found
    assert ("mobile", "138*****678") not in found and ("address", "建*路**号院*号楼") not in found
    assert len(found) == 2
    assert len(find_personal_data(text)) == 4, "without allowed, all four are reported"


def test_a_long_run_of_digits_and_separators_is_scanned():
    rnd = random.Random(7)  # noqa: S311 - a fixed, reproducible test string
    chunks = "0123456789" * 3 + " .-/·—"
    text = "".join(rnd.choice(chunks) for _ in range(200_000))
    assert isinstance(find_personal_data(text), list)
    assert isinstance(find_personal_data("1号" * 70_000 + "1楼" * 70_000), list)
    assert len(find_personal_data("电话 138 1234 5678，" * 10_000)) == 10_000
