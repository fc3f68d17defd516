"""The replicable governance model: one page per component, and which street runs which.

The model: one linkage mechanism (the hub, role "hub") that connects n components. Editors keep
the adoption data (street, stage, since when, who runs it) on each component page; the model page
draws the matrix and the diagram from the live components.
"""

from __future__ import annotations

from django.db import models
from django.shortcuts import get_object_or_404
from modelcluster.fields import ParentalKey
from rest_framework import serializers
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.api import APIField
from wagtail.contrib.routable_page.models import path
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.core.api import PageLinkSerializer, StreamSerializer, StreetSerializer
from cms.core.blocks import BodyStreamBlock
from cms.core.models import ROW_ORDER, BasePage, InlineRow, SectionIndexPage, SourceLink
from cms.core.models.snippets import Street
from cms.core.publishing_protocol import BuildState, Versions
from cms.core.sources import SourcesSerializer

# A street's page in the model links to the street's stories: the one place governance reads stories.
from cms.stories.models import StoryIndexPage, StoryPage

from .diagram import model_diagram

STAGES = [("planned", "计划中"), ("pilot", "试点"), ("running", "运行中"), ("expanding", "推广中")]
STAGE_LABELS = dict(STAGES)
ROLES = [("hub", "中枢：把各组件连起来"), ("component", "组件")]


class ComponentSource(SourceLink):
    page = ParentalKey("governance.ComponentPage", related_name="source_links", on_delete=models.CASCADE)


class ComponentAdoption(InlineRow):
    """One street running (or planning) one component."""

    page = ParentalKey("governance.ComponentPage", related_name="adoptions", on_delete=models.CASCADE)
    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.CASCADE, related_name="+")
    stage = models.CharField("阶段", max_length=12, choices=STAGES, default="running")
    since = models.CharField("开始时间", max_length=40, blank=True, help_text="如 2022年底；不确定就留空")
    runner = models.CharField("由谁运行", max_length=120)
    note = models.CharField("情况说明", max_length=300, help_text="一两句话，可写公开的数字；不写个人信息")

    panels = [
        FieldPanel("street"),
        FieldPanel("stage"),
        FieldPanel("since"),
        FieldPanel("runner"),
        FieldPanel("note"),
    ]

    class Meta(InlineRow.Meta):
        verbose_name = "街道采用情况"
        verbose_name_plural = "街道采用情况"

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)


class AdoptionsSerializer(serializers.Field):
    def to_representation(self, value):
        return [
            {
                "street": StreetSerializer().to_representation(a.street),
                "stage": a.stage,
                "stage_label": a.stage_label,
                "since": a.since,
                "runner": a.runner,
                "note": a.note,
            }
            for a in value.all()
        ]


def live_components(index_page: Page):
    return ComponentPage.objects.child_of(index_page).live().public().order_by("path")


def adoption_rows(components: list[ComponentPage]) -> tuple[list[Street], list[dict]]:
    """Streets that run anything (columns) and, per component, its adoption in each street (cells)."""
    adoptions = list(
        ComponentAdoption.objects.filter(page__in=[c.pk for c in components])
        .select_related("street")
        .order_by(*ROW_ORDER)
    )
    streets = sorted({a.street for a in adoptions}, key=lambda s: s.pk)
    by_page: dict[int, dict[int, ComponentAdoption]] = {}
    for a in adoptions:
        by_page.setdefault(a.page_id, {})[a.street_id] = a
    rows = [{"component": c, "cells": [by_page.get(c.pk, {}).get(s.pk) for s in streets]} for c in components]
    return streets, rows


class ModelIndexPage(SectionIndexPage):
    """The model at a glance: the diagram, the components, the adoption matrix, each street's page."""

    intro = models.TextField("导语", help_text="一两句话：这个模式是什么")

    search_fields = [*SectionIndexPage.search_fields, index.SearchField("body")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["governance.ComponentPage"]
    page_description = "治理模式的首页：模式示意图、组件列表、采用情况矩阵和各街道页面。"

    class Meta:
        verbose_name = "治理模式"

    def components(self):
        return live_components(self)

    def model_context(self) -> dict:
        components = list(self.components().specific())
        streets, rows = adoption_rows(components)
        return {
            "components": components,
            "streets": streets,
            "rows": rows,
            # The matrix by street, for phones: each street and every component's stage there.
            "street_columns": [
                {"street": street, "entries": [{"component": r["component"], "cell": r["cells"][i]} for r in rows]}
                for i, street in enumerate(streets)
            ],
            "diagram": model_diagram(self, components, rows, streets),
            "stages": STAGES,
        }

    @path("")
    def index_route(self, request):
        return self.render(request, context_overrides={**self.model_context(), "playbook_page": playbook_page()})

    @path("adoption/", name="adoption")
    def adoption_route(self, request):
        return self.render(request, context_overrides=self.model_context(), template="governance/adoption_page.html")

    @path("street/<slug:street_slug>/", name="street")
    def street_route(self, request, street_slug: str):
        street = get_object_or_404(Street, slug=street_slug)
        ctx = self.model_context()
        entries = []
        for row in ctx["rows"]:
            for s, cell in zip(ctx["streets"], row["cells"], strict=True):
                if s.pk == street.pk and cell is not None:
                    entries.append({"component": row["component"], "adoption": cell})
        if not entries:
            from django.http import Http404

            raise Http404("这个街道还没有登记的组件")
        ctx.update(street=street, entries=entries, stories_url=street_stories_url(street))
        return self.render(request, context_overrides=ctx, template="governance/street_page.html")

    # -- the static build's interface ----------------------------------------------------------
    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        components = list(self.components().values_list("pk", "title", "slug"))
        listed = [(pk, t, s, versions.get(pk)) for pk, t, s in components]
        street_rows = list(
            Street.objects.order_by("pk").values_list(
                "pk", "name", "slug", "district", "city", "summary", "key_figures"
            )
        )
        base = [listed, street_rows, self.title, self.intro]
        book = playbook_page()
        routes: dict[str, object] = {"": [base, book and (book.pk, book.url_path, book.title)], "adoption/": base}
        slugs = (
            ComponentAdoption.objects.filter(page__in=[pk for pk, _t, _s in components])
            .values_list("street__slug", flat=True)
            .distinct()
        )
        stories = street_stories_index()
        for slug in sorted(set(slugs)):
            routes[f"street/{slug}/"] = [base, stories]
        return routes


def playbook_page():
    """The policy playbook's index, if live and public: the model's companion (how to set each practice up)."""
    from django.apps import apps

    try:
        model = apps.get_model("playbook", "PlaybookPage")
    except LookupError:
        return None
    return model.objects.live().public().first()


def street_stories_index() -> tuple[str, list[str]] | None:
    """The stories section's path and the streets it has stories of (if there is a stories section): a
    street's page in the model links to that street's stories."""
    index_page = StoryIndexPage.objects.live().public().first()
    if index_page is None:
        return None
    streets = set(StoryPage.objects.live().public().exclude(street=None).values_list("street__slug", flat=True))
    return (index_page.url_path, sorted(streets))


def street_stories_url(street: Street) -> str | None:
    """The street's page in the stories section (its route "street"), if the street has stories."""
    found = street_stories_index()
    if not found or street.slug not in found[1]:
        return None
    index_page = StoryIndexPage.objects.live().public().first()
    return f"{index_page.url}street/{street.slug}/"


class ComponentPage(BasePage):
    """One component of the model: what it is, what it solves, who runs it, what it needs, how to start."""

    short_name = models.CharField(
        "简称", max_length=12, blank=True, help_text="示意图上显示的名称，最多 12 个字；留空用标题"
    )
    role = models.CharField("在模式中的位置", max_length=12, choices=ROLES, default="component")
    summary = models.TextField("它是什么", max_length=300, help_text="一两句话，出现在列表、搜索结果和分享卡片里")
    problem = models.TextField("解决什么问题", help_text="纯文本，段落之间空一行")
    who_runs = models.CharField("谁来运行", max_length=200)
    needs_people = models.CharField("需要的人", max_length=200)
    needs_space = models.CharField("需要的场地", max_length=200)
    needs_money = models.CharField("需要的经费", max_length=200, help_text="估计值请注明“参考值”")
    playbook_chapter = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name="怎样建立（手册章节）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    measures = StreamField([("item", blocks.CharBlock(label="指标", max_length=120))], verbose_name="衡量什么")
    risks = StreamField([("item", blocks.CharBlock(label="风险", max_length=200))], verbose_name="风险")
    body = StreamField(BodyStreamBlock(), verbose_name="正文", blank=True)
    stories = StreamField([("page", blocks.PageChooserBlock(label="故事"))], verbose_name="相关故事", blank=True)

    content_panels = [
        *BasePage.content_panels,
        MultiFieldPanel([FieldPanel("short_name"), FieldPanel("role")], heading="在模式中的位置"),
        FieldPanel("summary"),
        FieldPanel("problem"),
        MultiFieldPanel(
            [
                FieldPanel("who_runs"),
                FieldPanel("needs_people"),
                FieldPanel("needs_space"),
                FieldPanel("needs_money"),
            ],
            heading="谁来运行，需要什么",
        ),
        PageChooserPanel("playbook_chapter", page_type="playbook.PlaybookChapterPage"),
        FieldPanel("measures"),
        FieldPanel("risks"),
        FieldPanel("body"),
        InlinePanel("adoptions", label="街道采用情况", help_text="生成“采用情况矩阵”和示意图"),
        FieldPanel("stories"),
        InlinePanel("source_links", label="来源", help_text="这个组件依据的出处；写到具体街道的做法必须列出"),
    ]
    search_fields = [
        *BasePage.search_fields,
        index.SearchField("summary"),
        index.SearchField("problem"),
        index.SearchField("body"),
    ]

    api_fields = [
        APIField("short_name"),
        APIField("role"),
        APIField("summary"),
        APIField("problem"),
        APIField("who_runs"),
        APIField("needs_people"),
        APIField("needs_space"),
        APIField("needs_money"),
        APIField("playbook_chapter", serializer=PageLinkSerializer()),
        APIField("measures", serializer=StreamSerializer()),
        APIField("risks", serializer=StreamSerializer()),
        APIField("body", serializer=StreamSerializer()),
        APIField("stories", serializer=StreamSerializer()),
        APIField("adoptions", serializer=AdoptionsSerializer()),
        APIField("sources", serializer=SourcesSerializer(source="source_links")),
    ]

    parent_page_types = ["governance.ModelIndexPage"]
    subpage_types: list[str] = []
    page_description = "治理模式的一个组件：它是什么、解决什么问题、谁来运行、需要什么、怎样建立、哪些街道在用。"

    class Meta:
        verbose_name = "模式组件"
        verbose_name_plural = "模式组件"

    @property
    def display_short_name(self) -> str:
        return self.short_name or self.title

    @property
    def problem_paragraphs(self) -> list[str]:
        return [p.strip() for p in self.problem.replace("\r\n", "\n").split("\n\n") if p.strip()]

    def story_ids(self) -> list[int]:
        return [b.value.pk if hasattr(b.value, "pk") else b.value for b in self.stories if b.value is not None]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        parent = self.get_parent()
        siblings, _position = self.steps_around(ComponentPage.objects, parent)
        ids = self.story_ids()
        found = {p.pk: p for p in Page.objects.filter(pk__in=ids).live().public().specific(defer=True)}
        chapter = None
        if self.playbook_chapter_id:
            chapter = Page.objects.filter(pk=self.playbook_chapter_id).live().public().first()
        context.update(
            model_page=parent,
            components=siblings,
            linked_stories=[found[i] for i in ids if i in found],
            chapter=chapter,
            adoption_list=list(self.adoptions.all()),
            sources=[link.source for link in self.source_links.all()],
        )
        return context

    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        parent = self.get_parent()
        nav = list(live_components(parent).values_list("pk", "title", "slug"))
        linked = [*self.story_ids(), *([self.playbook_chapter_id] if self.playbook_chapter_id else [])]
        linked_rows = sorted(
            (pk, url, title, versions.get(pk))
            for pk, url, title in Page.objects.filter(pk__in=linked)
            .live()
            .public()
            .values_list("pk", "url_path", "title")
        )
        streets = list(Street.objects.order_by("pk").values_list("pk", "name", "slug"))
        return {"": [nav, linked_rows, streets, parent.title, parent.slug]}
