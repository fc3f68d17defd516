"""The release check of a file joined from parts (the API index, the sitemap) scans each part once and keeps
what it found: it must refuse exactly what scanning the whole file refuses (personal data, development and
CMS hosts), on a cold and on a warm worker, for generated entries."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms.publishing.verify import examine
from cms.publishing.worker import worker

HOSTS = [
    "xiaoge.example.cn",
    "localhost",
    "127.0.0.1",
    "0.0.0.0",  # noqa: S104 - hosts to refuse
    "testserver",
    "[::1]",
    "cdn.example.org",
]
WORDS = ["故事", "站点", "13812345678", "110101199003071234", "联系电话", "a,b", "http://localhost", "https://"]


@st.composite
def entry(draw) -> str:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(st.sampled_from(HOSTS))
    path = draw(st.sampled_from(["", "/", "/stories/", "/api/v2/pages/7/"]))
    title = "".join(draw(st.lists(st.sampled_from(WORDS), max_size=4)))
    return json.dumps(
        {"id": draw(st.integers(1, 99)), "title": title, "url": f"{scheme}://{host}{path}"}, ensure_ascii=False
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(entry(), max_size=12), earlier=st.lists(entry(), max_size=6))
def test_a_file_scanned_by_parts_is_refused_as_when_scanned_whole(entries, earlier):
    for rel, head, sep, tail in (
        ("api/v2/pages/index.json", '{"items": [', ",", "]}"),
        ("sitemap.xml", "<urlset>\n", "\n", "\n</urlset>"),
    ):
        whole = head + sep.join(entries) + tail
        worker.scanned_parts.clear()
        # A warm worker has scanned an earlier version of the file (some parts in common), then this one.
        examine(rel, head + sep.join(earlier + entries[:3]) + tail, [head, *earlier, *entries[:3], tail])
        warm = examine(rel, whole, [head, *entries, tail])
        again = examine(rel, whole, [head, *entries, tail])
        worker.scanned_parts.clear()
        cold = examine(rel, whole, [head, *entries, tail])
        assert warm == again == cold == examine(rel, whole), rel
