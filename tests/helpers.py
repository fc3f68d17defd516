"""Builders for test data: real pages in a real tree, real images."""

from __future__ import annotations

import datetime
import io

from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.models import Page, Site

from cms.core.models import Person, Street
from cms.home.models import HomePage
from cms.images.models import CustomImage
from cms.stories.models import StoryIndexPage, StoryPage, StoryPerson, StoryRelatedPage


def make_image(title="胡同里的快递三轮车", alt="冬日胡同里停着一辆快递三轮车", size=(800, 450), color="#0b4f8a"):
    buf = io.BytesIO()
    PILImage.new("RGB", size, color).save(buf, "JPEG")
    buf.seek(0)
    return CustomImage.objects.create(
        title=title,
        description=alt,
        caption="冬天的胡同需要防火巡查",
        credit="示意插图",
        file=ImageFile(buf, name="test.jpg"),
    )


def make_tree() -> tuple[HomePage, StoryIndexPage]:
    root = Page.get_first_root_node()
    for page in root.get_children():
        page.delete()
    home = root.add_child(
        instance=HomePage(title="小哥：快递小哥参与社区治理", slug="home", lead="快递员走遍每一条街巷。")
    )
    Site.objects.all().delete()
    Site.objects.create(hostname="testserver", port=80, root_page=home, is_default_site=True, site_name="小哥")
    index = home.add_child(
        instance=StoryIndexPage(title="故事", slug="stories", intro="小哥们的故事。", show_in_menus=True)
    )
    return home, index


def make_street(name="陶然亭街道", slug="taoranting", district="西城区") -> Street:
    return Street.objects.create(name=name, slug=slug, district=district, summary=f"{name}的简介。")


def make_person(name="刘阔", street=None, consent=True) -> Person:
    return Person.objects.create(
        name=name, role="快递员", organisation="顺丰速运陶然北岸营业部", street=street, consent_on_record=consent
    )


def make_story(
    index,
    title="四年，一条街巷的移动探头",
    *,
    tags=(),
    people=(),
    related=(),
    street=None,
    image=None,
    date=None,
    featured=False,
    body=None,
    publish=True,
) -> StoryPage:
    story = StoryPage(
        title=title,
        summary=f"{title}的摘要。",
        date=date or datetime.date(2023, 3, 2),
        street=street,
        hero_image=image,
        featured=featured,
        body=body
        or [
            ("heading", {"text": "从一张照片开始", "level": "h2"}),
            ("paragraph", "<p>刘阔每天骑着三轮车穿过胡同，看到隐患就拍照发到群里。</p>"),
            ("quote", {"quote": "小哥比谁都熟悉这片地方。", "attribution": "张辰", "role": "街道党群工作部部长"}),
            ("figure", {"value": "498", "unit": "名", "label": "路客联盟成员", "source": ""}),
            ("callout", {"tone": "info", "title": "经验", "body": "<p>先建群，再定规矩。</p>"}),
        ],
    )
    for tag in tags:
        story.tags.add(tag)
    for person in people:
        story.featured_people.add(StoryPerson(person=person))
    for page in related:
        story.related_links.add(StoryRelatedPage(related_page=page))
    index.add_child(instance=story)
    revision = story.save_revision()
    if publish:
        revision.publish()
    else:
        story.unpublish()
    return story
