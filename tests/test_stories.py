"""Stories as a reader meets them: pages, listings at real URLs, tag and street pages, the feed."""

import datetime
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.test import override_settings

from tests.support.helpers import make_image, make_person, make_story, make_street

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(tree):
    home, index = tree
    street = make_street()
    other_street = make_street(name="回龙观街道", slug="huilongguan", district="昌平区")
    person = make_person(street=street)
    image = make_image()
    story = make_story(
        index, tags=["隐患上报", "联动微信群"], people=[person], street=street, image=image, featured=True
    )
    other = make_story(
        index, title="小年夜的饺子", tags=["节日关怀"], street=other_street, date=datetime.date(2023, 1, 14)
    )
    return {"home": home, "index": index, "story": story, "other": other, "street": street, "image": image}


def test_story_page_shows_its_content(client, site):
    html = client.get(site["story"].url).content.decode()
    assert ">四年，一条街巷的移动探头</h1>" in html
    assert "刘阔每天骑着三轮车穿过胡同" in html
    assert "他们是社区基层治理中非常重要的力量" in html and "张辰" in html
    assert "来源" in html and "中国青年报，2023年3月21日，《快递员如何成为社区基层治理的一把钥匙》" in html
    assert "498" in html and "路客联盟成员" in html
    assert 'alt="冬日胡同里停着一辆快递三轮车"' in html
    assert "冬天的胡同需要防火巡查" in html and "示意插图" in html
    assert "2023年3月2日" in html
    assert 'href="/stories/street/taoranting/"' in html
    assert 'href="/stories/tag/yin-huan-shang-bao/"' in html
    assert "刘阔" in html and "顺丰速运北京区陶然北岸经营分部" in html
    assert "阅读约 1 分钟" in html


def test_story_page_has_breadcrumbs_open_graph_and_json_ld(client, site):
    html = client.get(site["story"].url).content.decode()
    assert 'aria-label="当前位置"' in html and 'href="/stories/"' in html
    assert '<meta property="og:title" content="四年，一条街巷的移动探头">' in html
    assert '<meta property="og:url" content="https://xiaoge.example.cn/stories/' in html
    assert re.search(r'<meta property="og:image" content="https://xiaoge\.example\.cn/media/images/[^"]+\.jpg">', html)
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "Article" and data["headline"] == "四年，一条街巷的移动探头"
    assert data["mainEntityOfPage"].startswith("https://xiaoge.example.cn/stories/")
    assert "testserver" not in html.split("<body")[0]


def test_related_stories_prefer_editors_picks(client, site):
    index = site["index"]
    pick = make_story(index, title="骑士驿站开在写字楼里", tags=["骑士驿站"])
    story = make_story(index, title="有编辑推荐的故事", related=[pick], tags=["隐患上报"])
    html = client.get(story.url).content.decode()
    related = html.split('id="related-title"')[1]
    assert related.index("骑士驿站开在写字楼里") < related.index("四年，一条街巷的移动探头")


def test_home_shows_featured_latest_and_sections(client, site):
    html = client.get("/").content.decode()
    assert "推荐故事" in html and "四年，一条街巷的移动探头" in html
    assert "最新故事" in html and "小年夜的饺子" in html
    assert 'class="entry__link" href="/stories/"' in html
    assert 'lang="zh-CN"' in html and 'href="#main"' in html


def test_listing_archives_are_stable_real_urls(client, site, settings):
    """Archive pages count from the oldest story, so a new story does not shift them."""
    settings.STORIES_PER_PAGE = 2
    for n in range(3):
        make_story(site["index"], title=f"更早的故事{n}", date=datetime.date(2022, 10, n + 1))
    # Five stories, two per page: the front page shows the newest two, archive 1 the oldest two,
    # archive 2 the next two; the newest one lives on the front page only.
    first = client.get("/stories/").content.decode()
    assert 'href="/stories/page/2/"' in first and "较早的故事" in first
    oldest = client.get("/stories/page/1/").content.decode()
    assert "更早的故事0" in oldest and "更早的故事1" in oldest and "更早的故事2" not in oldest
    assert "2022年10月1日至2022年10月2日" in oldest
    assert 'href="/stories/page/2/"' in oldest  # the newer neighbour
    assert client.get("/stories/page/3/").status_code == 404
    make_story(site["index"], title="最新的故事", date=datetime.date(2023, 5, 1))
    assert client.get("/stories/page/1/").content.decode().count("card__title") == 2
    assert "更早的故事0" in client.get("/stories/page/1/").content.decode()


def test_tag_and_street_pages(client, site):
    tag_html = client.get("/stories/tag/yin-huan-shang-bao/").content.decode()
    assert "标签：隐患上报" in tag_html
    assert "四年，一条街巷的移动探头" in tag_html and "小年夜的饺子" not in tag_html
    street_html = client.get("/stories/street/huilongguan/").content.decode()
    assert "回龙观街道" in street_html and "小年夜的饺子" in street_html
    assert "四年，一条街巷的移动探头" not in street_html
    assert client.get("/stories/tag/no-such-tag/").status_code == 404
    assert client.get("/stories/street/no-such-street/").status_code == 404


def test_atom_feed_lists_stories_with_public_urls(client, site):
    response = client.get("/stories/feed.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.content)
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert titles == ["四年，一条街巷的移动探头", "小年夜的饺子"]
    links = [e.find("a:link", ns).get("href") for e in feed.findall("a:entry", ns)]
    assert all(link.startswith("https://xiaoge.example.cn/stories/") for link in links)
    # RFC 4287 §4.1.1: the feed names its author, the program until the operator fills in the publisher; the
    # entries inherit it (a street office does not write the stories).
    assert feed.findtext("a:author/a:name", namespaces=ns) == "小哥"
    assert not feed.findall("a:entry/a:author", ns)


def test_drafts_are_not_listed(client, site):
    draft = make_story(site["index"], title="尚未发布的草稿", publish=False)
    assert "尚未发布的草稿" not in client.get("/stories/").content.decode()
    assert "尚未发布的草稿" not in client.get("/stories/feed.xml").content.decode()
    assert client.get(draft.url or "/stories/draft/").status_code == 404


def test_story_page_query_count_does_not_grow(client, site, django_assert_max_num_queries):
    """Tags, people and related stories are fetched in a fixed number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    index, street = site["index"], site["street"]
    small = make_story(
        index, title="一个标签的故事", tags=["培训"], people=[make_person("李洋", street)], street=street
    )
    many_people = [make_person(f"人物{n}", street) for n in range(5)]
    picks = [make_story(index, title=f"相关{n}", tags=["培训"], street=street) for n in range(3)]
    large = make_story(
        index,
        title="很多标签的故事",
        tags=[f"标签{n}" for n in range(8)],
        people=many_people,
        related=picks,
        street=street,
    )
    client.get(small.url)  # warm caches (site root, settings) equally for both
    counts = []
    for story in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(story.url).status_code == 200
        counts.append(len(ctx))
    assert counts[1] <= counts[0], counts


def test_not_found_page_is_friendly(client, site):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "没有找到这个页面" in response.content.decode()


@override_settings(DEBUG=False)
def test_reading_time_counts_chinese_characters(site):
    from cms.core.text import reading_minutes

    assert reading_minutes("字" * 400) == 1
    assert reading_minutes("<p>" + "字" * 2000 + "</p>") == 5
    assert reading_minutes("word " * 400) == 2
