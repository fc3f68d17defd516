"""Builders for test data: real pages in a real tree, real images."""

from __future__ import annotations

import datetime
import io
import re

from django.conf import settings
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Collection, Locale, Page, Site

from cms.core.models import Person, Source, SourceQuote, Street
from cms.home.models import HomePage
from cms.images.models import CustomImage
from cms.stories.models import StoryIndexPage, StoryPage, StoryPerson, StoryRelatedPage, StorySource


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
    root = Page.get_first_root_node() or make_root()
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


def make_root() -> Page:
    """The tree's root, the default locale and the root collection, as Wagtail's migrations make them: a
    transactional test (the browser tests with a live CMS) empties every table when it ends, and the next one
    starts without them."""
    Locale.objects.get_or_create(language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE))
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    return Page.add_root(instance=Page(title="Root", slug="root"))


def make_street(name="陶然亭街道", slug="taoranting", district="西城区") -> Street:
    return Street.objects.create(name=name, slug=slug, district=district, summary=f"{name}的简介。")


REPORT_QUOTE = "他们是社区基层治理中非常重要的力量。"


def report_source() -> Source:
    """The program's one source, with 张辰 and one of his quotes as it prints them (PROGRAM.md)."""
    source, _ = Source.objects.get_or_create(
        key="cyd-2023-03-21",
        defaults={
            "publication": "中国青年报",
            "title": "快递员如何成为社区基层治理的一把钥匙",
            "date": datetime.date(2023, 3, 21),
            "authors": "王雪儿、贾骥业、裴思童",
        },
    )
    speaker, _ = Person.objects.get_or_create(
        slug="zhang-chen",
        defaults={"name": "张辰", "role": "党群工作部负责人", "organisation": "陶然亭街道", "named_in": source},
    )
    SourceQuote.objects.get_or_create(source=source, person=speaker, text=REPORT_QUOTE)
    return source


def report_quote() -> dict:
    source = report_source()
    speaker = Person.objects.get(slug="zhang-chen")
    return {"quote": REPORT_QUOTE, "attribution": "张辰", "role": "陶然亭街道党群工作部负责人",
            "speaker": speaker, "source": source}  # fmt: skip


def make_person(name="刘阔", street=None, consent=True) -> Person:
    return Person.objects.create(
        name=name,
        role="快递员",
        organisation="顺丰速运北京区陶然北岸经营分部",
        street=street,
        consent_on_record=consent,
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
    sources=None,
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
            ("quote", report_quote()),
            ("figure", {"value": "498", "unit": "名", "label": "路客联盟成员", "source": ""}),
            ("callout", {"tone": "info", "title": "经验", "body": "<p>先建群，再定规矩。</p>"}),
        ],
    )
    for tag in tags:
        story.tags.add(tag)
    for source in [report_source()] if sources is None else sources:
        story.source_links.add(StorySource(source=source))
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


def make_playbook(home, chapters=3, publish=True):
    """A playbook with `chapters` chapters, each with steps, a checklist, a pitfall and a case."""
    from cms.playbook.models import PlaybookChapterPage, PlaybookPage

    playbook = home.add_child(
        instance=PlaybookPage(title="政策手册", slug="playbook", intro="写给想启动项目的街道。", show_in_menus=True)
    )
    playbook.save_revision().publish()
    street = Street.objects.first() or make_street()
    made = []
    for n in range(1, chapters + 1):
        chapter = PlaybookChapterPage(
            title=f"第{n}章的标题",
            slug=f"chapter-{n}",
            summary=f"第{n}章的摘要。",
            purpose=f"第{n}章的目的。\n\n第二段目的。",
            steps=[
                (
                    "step",
                    {"title": f"第{n}章第一步", "who": "街道党群工作部门", "time": "约2周（参考值）",
                     "cost": "无需专项经费", "needs": "站点名单", "detail": "说明第一段。\n\n说明第二段。"},
                ),
                (
                    "step",
                    {"title": f"第{n}章第二步", "who": "社区书记", "time": "1天", "cost": "无", "needs": "会议室",
                     "detail": ""},
                ),
            ],
            checklist=[("item", f"第{n}章清单一"), ("item", f"第{n}章清单二")],
            pitfalls=[("pitfall", {"title": "小哥没有时间", "detail": "按工作时长调查排班。"})],
            cases=[("case", {"street": street, "text": "回龙观街道的做法。", "figures": [], "stories": []})],
            change_note="首次发布",
            change_kind="major",
        )  # fmt: skip
        playbook.add_child(instance=chapter)
        if publish:
            chapter.save_revision().publish()
        made.append(chapter)
    return playbook, made


def make_model(home, streets=()):
    """A model page with a hub and two components, the first run by the given streets."""
    from cms.governance.models import ComponentAdoption, ComponentPage, ModelIndexPage

    model = home.add_child(
        instance=ModelIndexPage(title="治理模式", slug="model", intro="一个联动机制连起 n 个组件。", show_in_menus=True)
    )
    model.save_revision().publish()
    made = []
    for n, (title, role) in enumerate(
        [("社区治理联动微信群", "hub"), ("骑士驿站", "component"), ("副楼长", "component")]
    ):
        component = ComponentPage(
            title=title,
            short_name=title[:6],
            role=role,
            summary=f"{title}是什么。",
            problem="它解决的问题。",
            who_runs="街道党群工作部门",
            needs_people="一名联络人",
            needs_space="无",
            needs_money="无需专项经费",
            measures=[("item", "上报问题数")],
            risks=[("item", "流于形式")],
        )
        if n == 0:
            for street in streets:
                component.adoptions.add(
                    ComponentAdoption(street=street, stage="running", since="2022年", runner="街道", note="在运行。")
                )
        if n == 2 and streets:
            component.adoptions.add(
                ComponentAdoption(street=streets[0], stage="planned", runner="街道", note="计划中。")
            )
        model.add_child(instance=component)
        component.save_revision().publish()
        made.append(component)
    return model, made


def make_training(home, lessons=3):
    """A training section with one course of `lessons` lessons, each with a two-question quiz."""
    from cms.training.models import CoursePage, LessonPage, TrainingIndexPage

    training = home.add_child(
        instance=TrainingIndexPage(title="培训", slug="training", intro="写给小哥的短课。", show_in_menus=True)
    )
    training.save_revision().publish()
    course = training.add_child(
        instance=CoursePage(title="急救常识", slug="jijiu", summary="先保安全，再打120。", audience="快递员、外卖骑手")
    )
    course.save_revision().publish()
    made = []
    for n in range(1, lessons + 1):
        lesson = LessonPage(
            title=f"第{n}课的标题",
            slug=f"lesson-{n}",
            duration=4,
            key_points=[("item", f"第{n}课要点一"), ("item", "要点二"), ("item", "要点三")],
            body=[
                ("paragraph", f"<p>第{n}课的正文。</p><ol><li>确认周围安全。</li><li>拨打120。</li></ol>"),
                ("dodont", {"do": "把车停在划线车位", "dont": "把电动车推进楼道里充电"}),
            ],
            quiz=[
                ("question", {"question": "急救电话是多少？", "options": ["110", "120", "119"], "answer": 2,
                              "explanation": "医疗急救打120。"}),
                ("question", {"question": "先做什么？", "options": ["确认周围安全", "马上搬动伤者"], "answer": 1,
                              "explanation": "先保证自己和伤者的安全。"}),
            ],
            sources=[("item", "中国红十字会救护员培训")],
        )  # fmt: skip
        course.add_child(instance=lesson)
        lesson.save_revision().publish()
        made.append(lesson)
    return training, course, made


def sitemap_files(release) -> list[str]:
    """The release's sitemap: /sitemap.xml (the index) and every sitemap file it names, as release paths. A test
    that looks for a URL "in the sitemap" reads them all: the index itself names no page."""
    from pathlib import Path
    from urllib.parse import urlsplit

    index = Path(release) / "sitemap.xml"
    named = [urlsplit(loc).path.lstrip("/") for loc in re.findall(r"<loc>([^<]+)</loc>", index.read_text())]
    assert named and all((Path(release) / rel).is_file() for rel in named), named
    return ["sitemap.xml", *named]


def sitemap_text(release) -> str:
    from pathlib import Path

    return "\n".join((Path(release) / rel).read_text(encoding="utf-8") for rel in sitemap_files(release))


def unpublish_one(rng) -> int | None:
    """A live story chosen by `rng`, unpublished (random editors' work in the incremental-build tests)."""
    live = list(StoryPage.objects.live().order_by("pk"))
    if not live:
        return None
    story = rng.choice(live)
    story.unpublish()
    return story.pk


def publish_one_again(rng) -> int | None:
    """An unpublished story chosen by `rng`, its latest revision published again."""
    drafts = list(StoryPage.objects.not_live().order_by("pk"))
    if not drafts:
        return None
    story = rng.choice(drafts)
    story.get_latest_revision().publish()
    return story.pk


def random_step(rng, new, edit) -> set[int]:
    """One random piece of editors' work: `new` (a story made), `edit` (one changed), a story unpublished or
    one published again (weights 4, 4, 2, 2). Returns the page it changed, if any."""
    action = rng.choices([new, edit, lambda: unpublish_one(rng), lambda: publish_one_again(rng)], weights=[4, 4, 2, 2])
    done = action[0]()
    return {done} if done else set()
