"""Training for couriers: courses of short lessons with quizzes, small enough for a cheap phone on mobile
data and readable offline once a course is saved.

The training section also publishes its service worker (`/training/sw.js`, scope `/training/`) and web app
manifest as routes, so they are files of the release like every page.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from django.db import models
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.contrib.routable_page.models import path
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.core.api import StreamSerializer
from cms.core.blocks import BodyStreamBlock
from cms.core.models import BasePage, SectionIndexPage, SiteSettings
from cms.core.publishing_protocol import BuildState, Versions

from .blocks import QuestionBlock

# What every training page needs offline besides itself: the service worker caches these on install.
CORE_ASSETS = ("css/site.css", "js/training.js", "img/favicon.svg")


# The web app's icons (drawn by tools/make_icons.py): (file, size, purpose). The SVG stays for browsers that take it.
ICONS = (
    ("img/icon-192.png", "192x192", "any"),
    ("img/icon-512.png", "512x512", "any"),
    ("img/icon-maskable-512.png", "512x512", "maskable"),
)


def core_asset_urls() -> list[str]:
    return [static(name) for name in CORE_ASSETS]


def manifest_icons() -> list[dict]:
    icons = [
        {"src": static(name), "sizes": sizes, "type": "image/png", "purpose": purpose} for name, sizes, purpose in ICONS
    ]
    return [*icons, {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"}]


class TrainingIndexPage(SectionIndexPage):
    """The courses, the offline service worker and the web app manifest."""

    intro = models.TextField("导语", help_text="一两句话：写给谁，怎么用（可以离线保存）")

    parent_page_types = ["home.HomePage"]
    subpage_types = ["training.CoursePage"]
    page_description = "培训栏目的首页：全部课程，以及让课程离线可读的服务工作线程和应用清单。"

    class Meta:
        verbose_name = "培训"

    def courses(self):
        return CoursePage.objects.child_of(self).live().public().order_by("path")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        courses = list(self.courses())
        # Lessons are children of courses: a lesson's tree path is its course's path plus one step.
        paths = LessonPage.objects.live().public().descendant_of(self).values_list("path", flat=True)
        counts = Counter(p[: -Page.steplen] for p in paths)
        for course in courses:
            course.lesson_count = counts.get(course.path, 0)
        context.update(courses=courses, training=self)
        return context

    @path("")
    def index_route(self, request):
        return self.render(request)

    @path("sw.js/", name="service_worker")
    def service_worker_route(self, request):
        assets = core_asset_urls()
        version = hashlib.sha1(json.dumps([assets, self.url]).encode(), usedforsecurity=False).hexdigest()[:12]
        offline_page = render_to_string(
            "training/offline.html",
            {"scope": self.url, "program_name": SiteSettings.load().program_name, "training_title": self.title},
        )
        script = render_to_string(
            "training/sw.js",
            {
                "version": version,
                "core": json.dumps([self.url, *assets]),
                "scope": self.url,
                "scope_json": json.dumps(self.url),
                "offline_page": json.dumps(offline_page, ensure_ascii=False),
            },
        )
        response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
        response["Service-Worker-Allowed"] = self.url
        return response

    @path("manifest.webmanifest/", name="manifest")
    def manifest_route(self, request):
        manifest = {
            "name": f"{self.title} · 小哥",
            "short_name": self.title,
            "lang": "zh-CN",
            "start_url": self.url,
            "scope": self.url,
            "display": "standalone",
            "background_color": "#f5f6f8",
            "theme_color": "#0b4f8a",
            "icons": manifest_icons(),
        }
        return HttpResponse(
            json.dumps(manifest, ensure_ascii=False, indent=1), content_type="application/manifest+json"
        )

    # -- the static build's interface ----------------------------------------------------------
    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        courses = [(c.pk, c.title, c.slug, versions.get(c.pk)) for c in self.courses()]
        lessons = list(
            LessonPage.objects.live().public().descendant_of(self).order_by("path").values_list("pk", "path")
        )
        return {
            "": [courses, [pk for pk, _p in lessons]],
            "sw.js": [core_asset_urls(), self.url, self.title],
            "manifest.webmanifest": [self.title, self.url, manifest_icons()],
        }


class CoursePage(BasePage):
    """A course: what it covers, who it is for, its lessons in order, and "save for offline"."""

    summary = models.TextField("摘要", max_length=300)
    audience = models.CharField("适合谁", max_length=120, help_text="如 快递员、外卖骑手")
    intro = models.TextField("课程介绍", blank=True, help_text="纯文本，一两段")

    content_panels = [
        *BasePage.content_panels,
        FieldPanel("summary"),
        FieldPanel("audience"),
        FieldPanel("intro"),
    ]
    search_fields = [*BasePage.search_fields, index.SearchField("summary"), index.SearchField("intro")]

    api_fields = [APIField("summary"), APIField("audience"), APIField("intro")]

    parent_page_types = ["training.TrainingIndexPage"]
    subpage_types = ["training.LessonPage"]
    page_description = "一门课：介绍、适合谁、按顺序排列的课时，可以保存到手机上离线阅读。"

    class Meta:
        verbose_name = "课程"
        verbose_name_plural = "课程"

    def lessons(self):
        return LessonPage.objects.child_of(self).live().public().order_by("path")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        lessons = list(self.lessons())
        training = self.get_parent()
        context.update(
            lessons=lessons,
            training=training,
            total_minutes=sum(lesson.duration for lesson in lessons),
            offline_urls=json.dumps([self.url, *[lesson.url for lesson in lessons]]),
        )
        return context

    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        lessons = [(p.pk, p.title, p.slug, p.duration) for p in self.lessons()]
        parent = self.get_parent()
        return {"": [lessons, parent.title, parent.url_path]}


class LessonPage(BasePage):
    """A lesson: minutes, 3 to 5 key points, a short body, an optional quiz, and where the practice comes from."""

    duration = models.PositiveSmallIntegerField("时长（分钟）", default=5)
    key_points = StreamField(
        [("item", blocks.CharBlock(label="要点", max_length=200))],
        verbose_name="要点",
        min_num=3,
        max_num=5,
        help_text="3 到 5 句话：读完这一课要记住什么",
    )
    body = StreamField(BodyStreamBlock(), verbose_name="正文")
    quiz = StreamField([("question", QuestionBlock())], verbose_name="小测验", blank=True)
    sources = StreamField(
        [("item", blocks.CharBlock(label="出处", max_length=300))],
        verbose_name="出处",
        blank=True,
        help_text="安全、健康和急救的做法必须写明出处（如 中国红十字会救护员培训）",
    )

    content_panels = [
        *BasePage.content_panels,
        FieldPanel("duration"),
        FieldPanel("key_points"),
        FieldPanel("body"),
        FieldPanel("quiz"),
        MultiFieldPanel([FieldPanel("sources")], heading="出处"),
    ]
    search_fields = [*BasePage.search_fields, index.SearchField("key_points"), index.SearchField("body")]

    api_fields = [
        APIField("duration"),
        APIField("key_points", serializer=StreamSerializer()),
        APIField("body", serializer=StreamSerializer()),
        APIField("quiz", serializer=StreamSerializer()),
        APIField("sources", serializer=StreamSerializer()),
    ]

    parent_page_types = ["training.CoursePage"]
    subpage_types: list[str] = []
    page_description = "一课：几分钟读完，要点、正文、小测验和出处。"

    class Meta:
        verbose_name = "课时"
        verbose_name_plural = "课时"

    def questions(self) -> list[dict]:
        """The quiz as the template shows it: options numbered from 1, the right one marked."""
        out = []
        for n, block in enumerate(self.quiz, 1):
            value = block.value
            options = list(value["options"])
            out.append(
                {
                    "number": n,
                    "id": block.id or f"q{n}",
                    "question": value["question"],
                    "options": [
                        {"number": i, "text": text, "right": i == value["answer"]} for i, text in enumerate(options, 1)
                    ],
                    "answer": value["answer"],
                    "answer_text": options[value["answer"] - 1] if 0 < value["answer"] <= len(options) else "",
                    "explanation": value["explanation"],
                }
            )
        return out

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        course = self.get_parent().specific
        siblings, position = self.steps_around(LessonPage.objects, course)
        context.update(
            course=course,
            training=course.get_parent(),
            lesson_number=position + 1,
            lesson_total=len(siblings),
            previous_lesson=siblings[position - 1] if position > 0 else None,
            next_lesson=siblings[position + 1] if position + 1 < len(siblings) else None,
            questions=self.questions(),
        )
        return context

    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        course = self.get_parent()
        nav = list(
            LessonPage.objects.child_of(course).live().public().order_by("path").values_list("pk", "title", "slug")
        )
        return {"": [nav, course.title, course.url_path, course.get_parent().url_path]}
