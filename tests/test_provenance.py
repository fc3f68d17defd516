"""Nothing the site cannot stand behind: quotes only as spoken, a source wherever a real person is named,
illustrative stories labelled everywhere, and a footer that claims nothing the operator did not fill in."""

from __future__ import annotations

import json
import re

import pytest

from cms.core.models import Person, SiteSettings
from cms.core.privacy import PrivacyBlocked
from cms.publishing.builder import build_site, current_release_dir
from cms.stories.models import StoryPage
from tests.support.helpers import REPORT_QUOTE, make_image, make_story, report_quote, report_source

pytestmark = pytest.mark.django_db


def refused(page) -> str:
    with pytest.raises(PrivacyBlocked) as err:
        page.save_revision().publish()
    assert not StoryPage.objects.get(pk=page.pk).live
    return str(err.value)


def quote(**change) -> list:
    return [("quote", {**report_quote(), **change})]


def test_a_quote_from_its_source_verbatim_is_published(tree):
    _home, index = tree
    story = make_story(index, title="原话", body=quote())
    assert StoryPage.objects.get(pk=story.pk).live


def test_a_quote_with_one_word_changed_is_refused_naming_the_block(tree):
    _home, index = tree
    story = make_story(index, title="改了一个字", publish=False, body=quote(quote=REPORT_QUOTE.replace("非常", "十分")))
    message = refused(story)
    assert "第 1 块" in message and "不是" in message and "张辰的原话" in message


def test_a_quote_without_a_source_is_refused(tree):
    _home, index = tree
    story = make_story(index, title="没有出处的引语", publish=False, body=quote(source=None))
    assert "张辰的引语没有注明出处" in refused(story)


def test_words_put_in_the_mouth_of_someone_not_in_the_people_library_are_refused(tree):
    _home, index = tree
    body = [("quote", {"quote": "小哥比谁都熟悉这片地方。", "attribution": "王主任", "role": "街道干部"})]
    story = make_story(index, title="编出来的话", publish=False, body=body)
    assert "“王主任”不在人物库中" in refused(story)


def test_a_quote_attributed_by_name_only_is_matched_to_the_person(tree):
    _home, index = tree
    report_source()
    body = [("quote", {"quote": "小哥比谁都熟悉这片地方。", "attribution": "张辰，部长", "role": ""})]
    story = make_story(index, title="只写了名字", publish=False, body=body)
    assert "张辰的引语没有注明出处" in refused(story)


def test_a_story_that_names_a_real_person_lists_a_source(tree):
    _home, index = tree
    report_source()
    body = [("paragraph", "<p>据报道，张辰说街道会为小哥们服务。</p>")]
    story = make_story(index, title="没有来源", publish=False, body=body, sources=[])
    assert "页面提到真实人物（张辰），但没有列出来源" in refused(story)


def test_a_person_named_only_because_the_press_named_them_may_appear(tree):
    _home, index = tree
    source = report_source()
    person = Person.objects.create(name="刘清", role="副主任", organisation="回龙观街道市民活动中心", named_in=source)
    story = make_story(index, title="公开报道中的人", people=[person])
    assert StoryPage.objects.get(pk=story.pk).live
    person.named_in = None
    person.save()
    other = make_story(index, title="没有依据的人", people=[person], publish=False)
    assert "刘清既没有同意署名的记录，也没有公开报道的出处" in refused(other)


def test_an_illustrative_story_names_no_real_person(tree):
    _home, index = tree
    report_source()
    body = [("paragraph", "<p>情景示例：一位快递员看到楼道里堆着纸箱，拍照发到群里。张辰……</p>")]
    story = make_story(index, title="情景示例", publish=False, body=body, sources=[])
    story.illustrative = True
    story.save()
    assert "情景示例不能出现真实人物：张辰" in refused(story)
    story = StoryPage.objects.get(pk=story.pk)
    story.body = quote()
    assert "情景示例不能引用真实人物张辰的话" in refused(story)


def test_illustrative_stories_and_drawn_images_are_labelled_on_the_page_listing_and_share_card(
    tree, settings, tmp_path
):
    settings.SITE_DIR = tmp_path / "site"
    _home, index = tree
    image = make_image(title="楼道", alt="楼道里堆着纸箱")  # credit: 示意插图
    body = [("paragraph", "<p>情景示例：一位快递员看到楼道里堆着纸箱，拍照发到群里。</p>")]
    story = make_story(index, title="楼道里的纸箱", body=body, sources=[], image=image, publish=False)
    story = StoryPage.objects.get(pk=story.pk)
    story.illustrative = True
    story.save_revision().publish()
    build_site(full=True)
    html = (current_release_dir() / f"stories/{story.slug}/index.html").read_text()
    assert "情景示例" in html.split("<h1")[1].split("</header>")[0] or "label--illustrative" in html
    card = re.search(r'<meta property="og:title" content="([^"]*)"', html).group(1)
    assert card.startswith("【情景示例】")
    alt = re.search(r'<meta property="og:image:alt" content="([^"]*)"', html).group(1)
    description = re.search(r'<meta property="og:description" content="([^"]*)"', html).group(1)
    assert alt.startswith("示意插图") and "示意插图" in description and "情景示例" in description
    listing = (current_release_dir() / "stories/index.html").read_text()
    card_html = listing[: listing.index("楼道里的纸箱")][-600:]
    assert "情景示例" in card_html


def test_sources_appear_on_the_page_in_json_ld_and_in_the_api(tree, settings, tmp_path):
    settings.SITE_DIR = tmp_path / "site"
    _home, index = tree
    story = make_story(index, title="有来源的故事")
    build_site(full=True)
    release = current_release_dir()
    html = (release / f"stories/{story.slug}/index.html").read_text()
    assert "来源" in html and "中国青年报，2023年3月21日，《快递员如何成为社区基层治理的一把钥匙》" in html
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["citation"][0]["headline"] == "快递员如何成为社区基层治理的一把钥匙"
    assert data["citation"][0]["publisher"]["name"] == "中国青年报"
    doc = json.loads((release / f"api/v2/pages/{story.pk}/index.json").read_text())
    sources = doc["sources"]
    assert sources[0]["publication"] == "中国青年报" and sources[0]["date"] == "2023-03-21"


def test_the_footer_claims_no_publisher_until_the_operator_fills_one_in(tree, settings, tmp_path):
    settings.SITE_DIR = tmp_path / "site"
    _home, index = tree
    make_story(index, title="页脚")
    build_site(full=True)
    footer = (current_release_dir() / "index.html").read_text().split("<footer")[1]
    assert "主办单位" not in footer and "党群工作部门" not in footer and "备案" not in footer
    s = SiteSettings.load()
    s.publisher, s.office_phone, s.office_address = "某某区某某街道办事处", "010-6512 3456", "北京市某某区某某路1号"
    s.icp_number, s.police_number = "京ICP备00000000号-1", "京公网安备 11010202000000号"
    s.save()
    build_site(full=True)
    footer = (current_release_dir() / "index.html").read_text().split("<footer")[1]
    assert "主办单位：某某区某某街道办事处" in footer and "010-6512 3456" in footer
    assert 'href="https://beian.miit.gov.cn/"' in footer and "code=11010202000000" in footer


def test_an_office_phone_that_is_a_mobile_number_is_refused(tree):
    from django.core.exceptions import ValidationError

    s = SiteSettings.load()
    s.office_phone = "13812345678"
    with pytest.raises(ValidationError):
        s.full_clean()


def test_the_release_check_refuses_a_page_whose_quote_is_not_from_its_source(tree, settings, tmp_path):
    """As if published before the rule: the build refuses the release, and the live site stays."""
    from cms.publishing.builder import BuildFailed

    settings.SITE_DIR = tmp_path / "site"
    _home, index = tree
    story = make_story(index, title="旧的引语")
    build_site(full=True)
    live = current_release_dir()
    page = StoryPage.objects.get(pk=story.pk)
    raw = list(page.body.raw_data)
    for block in raw:
        if block["type"] == "quote":
            block["value"] = {**block["value"], "quote": "小哥比谁都熟悉这片地方。"}
    StoryPage.objects.filter(pk=story.pk).update(body=json.dumps(raw, ensure_ascii=False))
    with pytest.raises(BuildFailed) as err:
        build_site(full=True)
    assert any("张辰的引语不是任何出处记录的原话" in p for p in err.value.problems), err.value.problems
    assert current_release_dir() == live


def test_street_pages_and_the_home_figures_say_where_they_come_from(tree, settings, tmp_path):
    from cms.core.models import Street

    settings.SITE_DIR = tmp_path / "site"
    home, index = tree
    street = Street.objects.create(name="回龙观街道", slug="huilongguan", district="昌平区", summary="据报道……")
    street.source = report_source()
    street.save()
    make_story(index, title="回龙观的故事", street=street)
    home.key_figures = [{"type": "figure", "value": {"value": "498", "unit": "名", "label": "路客联盟成员",
                                                     "source": "中国青年报，2023年3月21日"}}]  # fmt: skip
    home.save_revision().publish()
    build_site(full=True)
    release = current_release_dir()
    page = (release / "stories/street/huilongguan/index.html").read_text()
    assert "来源：中国青年报，2023年3月21日，《快递员如何成为社区基层治理的一把钥匙》" in page
    assert "数字来源：中国青年报，2023年3月21日" in (release / "index.html").read_text()
