"""The stories' Atom feed with hostile text in every field it carries: a feed reader must show the text, never
run it. Text that the HTML pages escape must not reach a reader as markup through an html-typed element."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from cms.core.models import SiteSettings
from cms.publishing.builder import build_site, current_release_dir
from tests.support.helpers import make_story, make_street

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '"><img src=x onerror=alert(1)>'
SCRIPT = "<script>alert(2)</script>&amp;"


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def rendered_tags(html: str) -> list[str]:
    """The elements a reader would create from an html-typed Atom text construct."""
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


@pytest.fixture
def hostile(tree):
    home, index = tree
    index.title = f"故事{HOSTILE}"
    index.intro = f"导语{SCRIPT}"
    index.save_revision().publish()
    SiteSettings.objects.update_or_create(defaults={"publisher": f"主办{HOSTILE}"})
    street = make_street(name=f"街道{HOSTILE}"[:60], slug="jiedao")
    make_story(index, title=f"标题{HOSTILE}", tags=[f"标签{HOSTILE}"], street=street)
    return index


def check_feed(data: bytes):
    feed = ET.fromstring(data)
    # 1. Nothing a reader parses as markup holds any: html-typed text decodes to no element, and no
    #    text construct is xhtml (RFC 4287: without a type, text is plain text).
    for element in feed.iter():
        if element.tag == f"{ATOM}link":
            continue  # a link's type is the MIME type of its target
        kind = element.get("type")
        assert kind in (None, "text", "html"), (element.tag, kind)
        if kind == "html":
            assert rendered_tags(element.text or "") == [], f"{element.tag} would show as markup: {element.text}"
    # 2. The text survives as text, in every field.
    entry = feed.find(f"{ATOM}entry")
    assert feed.findtext(f"{ATOM}title") == f"故事{HOSTILE} · 小哥"
    assert feed.findtext(f"{ATOM}subtitle") == f"导语{SCRIPT}"
    assert entry.findtext(f"{ATOM}title") == f"标题{HOSTILE}"
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "text" and summary.text == f"标题{HOSTILE}的摘要。"
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == [f"标签{HOSTILE}", f"街道{HOSTILE}"]
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == f"主办{HOSTILE}", "the feed's author: who publishes it"


def test_the_feed_served_by_the_cms_carries_hostile_text_as_text(client, hostile):
    response = client.get("/stories/feed.xml")
    assert response.status_code == 200
    check_feed(response.content)


def test_the_feed_in_a_built_release_carries_hostile_text_as_text(hostile, tmp_path, settings):
    settings.SITE_DIR = tmp_path / "site"
    build_site(full=True)
    check_feed((current_release_dir() / "stories/feed.xml").read_bytes())
