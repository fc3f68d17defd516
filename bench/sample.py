"""Sample story text for the benchmarks (bench/publish_bench.py, bench/editors_load.py): no Django here."""

from __future__ import annotations

import random

WORDS = (
    "快递小哥每天穿行在胡同和楼宇之间，熟悉每一条街巷。街道请他们留意路上的隐患，拍照发到联动群里，"
    "工作人员当天就去处理。冬天要防火，夏天要防汛，独居老人家门口的一句问候，也是社区治理的一部分。"
    "驿站里有热水、充电和药箱，培训课讲安全和急救，商户给联盟成员打折，大家一起把日子过得更踏实。"
)
TAGS = [
    "隐患上报",
    "骑士驿站",
    "路客联盟",
    "关爱老人",
    "培训",
    "志愿服务",
    "垃圾分类",
    "党建引领",
    "商户联盟",
    "节日关怀",
    "品牌建设",
    "精准服务",
]


def body_text(rng: random.Random) -> list:
    blocks, size = [], 0
    n = 0
    while size < 1500:
        start = rng.randrange(len(WORDS) - 120)
        para = WORDS[start : start + 120 + rng.randrange(80)]
        if n % 3 == 0:
            blocks.append(("heading", {"text": f"第{n // 3 + 1}部分", "level": "h2"}))
        blocks.append(("paragraph", f"<p>{para}</p>"))
        size += len(para)
        n += 1
    return blocks
