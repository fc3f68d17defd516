"""The policy playbook: ordered chapters that tell another district how to set the program up.

Chapters are the children of the playbook page, in the page tree's order: "第 3 步，共 9 步" is a
chapter's position among the live chapters. Each publish of a chapter may carry a public change note;
notes make the change history and the edition number (see PlaybookChange).
"""

from __future__ import annotations

from django.db import models
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.contrib.routable_page.models import path
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.core.api import StreamSerializer
from cms.core.blocks import BodyStreamBlock
from cms.core.models import BasePage, SectionIndexPage
from cms.core.models.base import BasePageForm
from cms.core.publishing_protocol import BuildState, Versions

from . import pdf
from .blocks import CaseBlock, PitfallBlock, StepBlock, TemplateBlock
from .links import documents_version, model_components, model_index_page, page_row, streets_version

PDF_NAME = "xiaoge-playbook.pdf"
CHANGE_KINDS = [("major", "重要修订（版本号加一）"), ("minor", "小修改")]
PUBLISH_ACTIONS = ("wagtail.publish", "wagtail.publish.scheduled")  # what Wagtail logs for a publish


class PlaybookChange(models.Model):
    """One public change note, written when a chapter revision that carries one is published.

    Editions: the first note ever opens edition 1. A major note opens the next edition, unless the
    current edition was opened the same day (a day's major changes make one edition). Minor notes
    join the current edition.
    """

    chapter = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    revision = models.OneToOneField(
        "wagtailcore.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField("类型", max_length=10, choices=CHANGE_KINDS)
    note = models.CharField("修改说明", max_length=300)
    published_at = models.DateTimeField("发布时间")
    edition = models.PositiveIntegerField("所属版本")

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = "手册修订记录"
        verbose_name_plural = "手册修订记录"

    def __str__(self) -> str:
        return f"第 {self.edition} 版：{self.note}"

    first_publication = False  # set by mark_first_publications()

    @staticmethod
    def mark_first_publications(changes: list[PlaybookChange]) -> list[PlaybookChange]:
        """Mark the notes that came with their chapter's first publication: a new chapter, not a revision.

        Wagtail logs every publish ("wagtail.publish") just after it sends the signal that records the
        note, so a note is a first publication when its chapter has no publish logged before it. (The
        page's `first_published_at` is no witness: publishing a revision saved from a stale copy of the
        page sets it again.) Without any logged publish, the note's time is compared with it instead.
        """
        from django.db.models import Min
        from wagtail.models import PageLogEntry

        ids = {c.chapter_id for c in changes}
        first_logged = dict(
            PageLogEntry.objects.filter(page_id__in=ids, action__in=PUBLISH_ACTIONS)
            .values("page_id")
            .annotate(first=Min("timestamp"))
            .values_list("page_id", "first")
        )
        for change in changes:
            logged = first_logged.get(change.chapter_id)
            if logged is not None:
                change.first_publication = change.published_at < logged
            else:
                change.first_publication = change.published_at == change.chapter.first_published_at
        return changes

    @property
    def label(self) -> str:
        if self.first_publication:
            return "首次发布"
        return "重要修订" if self.kind == "major" else "小修改"

    @property
    def note_repeats_label(self) -> bool:
        """A first publication whose note only says so ("首次发布"): the badge already says it."""
        return self.first_publication and self.note.strip("。 ") in ("首次发布", "首次发布本章", "新增本章")

    @classmethod
    def record(cls, chapter: Page, revision, kind: str, note: str, when=None) -> PlaybookChange | None:
        note, kind = (note or "").strip(), kind or "minor"
        if not note or (revision is not None and cls.objects.filter(revision=revision).exists()):
            return None
        last_own = cls.objects.filter(chapter=chapter).order_by("-published_at", "-pk").first()
        if last_own and last_own.note == note and last_own.kind == kind:
            return None  # the same note carried over to a later revision: not a new change
        when = when or timezone.now()
        latest = cls.objects.order_by("-edition", "published_at").first()
        edition = latest.edition if latest else 1
        if latest and kind == "major":
            opened = cls.objects.filter(edition=edition).order_by("published_at").first()
            if timezone.localdate(opened.published_at) != timezone.localdate(when):
                edition += 1
        return cls.objects.create(
            chapter=chapter, revision=revision, kind=kind, note=note, published_at=when, edition=edition
        )


def live_chapters(index_page: Page):
    return PlaybookChapterPage.objects.child_of(index_page).live().public().order_by("path")


def edition_info(changes: list[PlaybookChange]) -> dict:
    """The current edition number and when it opened; when the playbook last changed."""
    if not changes:
        return {"number": 1, "opened": None, "updated": None}
    number = max(c.edition for c in changes)
    opened = min(c.published_at for c in changes if c.edition == number)
    return {"number": number, "opened": opened, "updated": max(c.published_at for c in changes)}


class PlaybookPage(SectionIndexPage):
    """The playbook's front page, with the whole playbook for print and as a PDF, and its change history."""

    intro = models.TextField("导语", help_text="一两句话：这本手册写给谁、怎么用")
    body = StreamField(BodyStreamBlock(), verbose_name="使用说明", blank=True)

    parent_page_types = ["home.HomePage"]
    subpage_types = ["playbook.PlaybookChapterPage"]
    page_description = "政策手册的首页：章节目录、打印版、PDF 和修订记录。"

    class Meta:
        verbose_name = "政策手册"

    # -- data ---------------------------------------------------------------------------------
    def chapters(self):
        return live_chapters(self)

    def changes(self, chapter_ids=None) -> list[PlaybookChange]:
        ids = chapter_ids if chapter_ids is not None else list(self.chapters().values_list("pk", flat=True))
        return list(PlaybookChange.objects.filter(chapter_id__in=ids).select_related("chapter"))

    def pdf_available(self) -> bool:
        return pdf.chinese_font() is not None

    def base_context(self, request) -> dict:
        chapters = list(self.chapters())
        changes = self.changes([c.pk for c in chapters])
        return {
            "chapters": chapters,
            "edition": edition_info(changes),
            "pdf_url": f"{self.url}{PDF_NAME}" if self.pdf_available() else None,
            "model_page": model_index_page(),
        }

    # -- routes -------------------------------------------------------------------------------
    @path("")
    def index_route(self, request):
        return self.render(request, context_overrides=self.base_context(request))

    @path("changes/", name="changes")
    def changes_route(self, request):
        ctx = self.base_context(request)
        changes = PlaybookChange.mark_first_publications(self.changes([c.pk for c in ctx["chapters"]]))
        editions: dict[int, list[PlaybookChange]] = {}
        for change in changes:  # newest first
            editions.setdefault(change.edition, []).append(change)
        ctx["editions"] = [
            {"number": n, "opened": min(c.published_at for c in items), "changes": items}
            for n, items in sorted(editions.items(), reverse=True)
        ]
        ctx["titles"] = {c.pk: c.title for c in ctx["chapters"]}
        return self.render(request, context_overrides=ctx, template="playbook/playbook_changes.html")

    @path("print/", name="print")
    def print_route(self, request):
        return self.render(
            request, context_overrides=self.print_context(request), template="playbook/playbook_print.html"
        )

    def print_context(self, request) -> dict:
        ctx = self.base_context(request)
        ids = [c.pk for c in ctx["chapters"]]
        ctx["chapters"] = list(PlaybookChapterPage.build_queryset().filter(pk__in=ids).order_by("path"))
        ctx["template_list"] = []
        for number, chapter in enumerate(ctx["chapters"], 1):
            chapter.step_number = number
            for block in chapter.templates:
                if block.value["document"] is not None:
                    ctx["template_list"].append({"chapter": chapter, "value": block.value})
        return ctx

    @path(f"{PDF_NAME}/", name="pdf")
    def pdf_route(self, request):
        if not self.pdf_available():
            raise Http404("这台机器没有中文字体，不生成 PDF")
        ctx = self.print_context(request)
        ctx["for_pdf"] = True
        html = self.render(request, context_overrides=ctx, template="playbook/playbook_print.html")
        html.render()
        data = pdf.html_to_pdf(html.content.decode())
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{PDF_NAME}"'
        return response

    # -- the static build's interface ----------------------------------------------------------
    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        chapters = list(self.chapters().values_list("pk", "title", "slug"))
        ids = [pk for pk, _t, _s in chapters]
        changes = list(
            PlaybookChange.objects.filter(chapter_id__in=ids).values_list(
                "pk", "edition", "kind", "note", "published_at"
            )
        )
        listed = [(pk, title, slug, versions.get(pk)) for pk, title, slug in chapters]
        whole = [listed, documents_version(), streets_version(), linked_versions(ids, versions)]
        routes = {
            "": [listed, changes, page_row(model_index_page())],
            "changes/": [[(pk, t, s) for pk, t, s in chapters], changes],
            "print/": [whole, changes],
        }
        if self.pdf_available():
            routes[PDF_NAME] = [whole, changes, pdf.chinese_font()]
        return routes


def linked_versions(chapter_ids: list[int], versions: dict[int, object]) -> list:
    """Versions of the pages that chapters link to in their cases (titles and URLs shown on the chapter)."""
    linked = set()
    for chapter in PlaybookChapterPage.objects.filter(pk__in=chapter_ids).only("cases"):
        linked |= chapter.linked_page_ids()
    rows = Page.objects.filter(pk__in=linked).live().public().values_list("pk", "url_path", "title")
    return sorted((pk, url, title, versions.get(pk)) for pk, url, title in rows)


class PlaybookChapterForm(BasePageForm):
    """The change note is per publish: the editor starts from an empty note every time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            for name in ("change_note", "change_kind"):
                if name in self.fields:
                    self.initial[name] = ""


class PlaybookChapterPage(BasePage):
    """One step of setting up the program: purpose, steps, checklist, pitfalls, cases, templates."""

    summary = models.TextField("摘要", max_length=300, help_text="一两句话，出现在目录、搜索结果和分享卡片里")
    purpose = models.TextField("这一步的目的", help_text="为什么要做这一步；纯文本，段落之间空一行")
    body = StreamField(BodyStreamBlock(), verbose_name="正文", blank=True)
    steps = StreamField([("step", StepBlock())], verbose_name="步骤", min_num=1)
    checklist = StreamField(
        [("item", blocks.CharBlock(label="清单项", max_length=200))],
        verbose_name="清单",
        blank=True,
        help_text="读者可以在页面上逐项勾选，勾选只保存在读者自己的浏览器里",
    )
    pitfalls = StreamField([("pitfall", PitfallBlock())], verbose_name="常见难点", blank=True)
    cases = StreamField([("case", CaseBlock())], verbose_name="案例", blank=True)
    templates = StreamField([("template", TemplateBlock())], verbose_name="模板下载", blank=True)
    change_note = models.CharField(
        "本次修改说明（公开）",
        max_length=300,
        blank=True,
        help_text="发布后出现在手册的修订记录里。没有需要读者知道的修改就留空。",
    )
    change_kind = models.CharField("修改类型", max_length=10, choices=CHANGE_KINDS, blank=True)

    base_form_class = PlaybookChapterForm
    content_panels = [
        *BasePage.content_panels,
        FieldPanel("summary"),
        FieldPanel("purpose"),
        FieldPanel("steps"),
        FieldPanel("checklist"),
        FieldPanel("pitfalls"),
        FieldPanel("cases"),
        FieldPanel("templates"),
        FieldPanel("body"),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("change_kind"), FieldPanel("change_note")])],
            heading="修订记录",
            help_text="重要修订会让手册的版本号加一，并出现在“修订记录”页",
        ),
    ]
    search_fields = [
        *BasePage.search_fields,
        index.SearchField("summary"),
        index.SearchField("purpose"),
        index.SearchField("steps"),
        index.SearchField("body"),
    ]

    api_fields = [
        APIField("summary"),
        APIField("purpose"),
        APIField("steps", serializer=StreamSerializer()),
        APIField("checklist", serializer=StreamSerializer()),
        APIField("pitfalls", serializer=StreamSerializer()),
        APIField("cases", serializer=StreamSerializer()),
        APIField("templates", serializer=StreamSerializer()),
        APIField("body", serializer=StreamSerializer()),
    ]

    parent_page_types = ["playbook.PlaybookPage"]
    subpage_types: list[str] = []
    page_description = "手册的一章：一个步骤的目的、做法、清单、难点、案例和模板。"

    class Meta:
        verbose_name = "手册章节"
        verbose_name_plural = "手册章节"

    def clean(self):
        super().clean()
        from django.core.exceptions import ValidationError

        if self.change_note and not self.change_kind:
            raise ValidationError({"change_kind": "写了修改说明，请选择修改类型"})

    # -- display ------------------------------------------------------------------------------
    @cached_property
    def purpose_paragraphs(self) -> list[str]:
        return paragraphs(self.purpose)

    @property
    def cases_heading(self) -> str:
        """Named by what the cases show: "回龙观街道的做法", "建外街道和回龙观街道的做法"."""
        streets = (block.value["street"] for block in self.cases)
        names = list(dict.fromkeys(street.name for street in streets if street is not None))
        if not names:
            return "案例"
        joined = names[0] if len(names) == 1 else "、".join(names[:-1]) + "和" + names[-1]
        return f"{joined}的做法"

    def linked_page_ids(self) -> set[int]:
        return {pk for block in self.cases for pk in block.value.story_ids()}

    def checklist_key(self) -> str:
        """The browser keeps ticks under this key: the page id, so renaming the chapter keeps them."""
        return f"xiaoge:checklist:{self.pk}"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        parent = self.get_parent()
        siblings, position = self.steps_around(PlaybookChapterPage.objects, parent)
        components = model_components(self)
        context.update(
            playbook=parent.specific,
            chapters=siblings,
            step_number=position + 1,
            step_total=len(siblings),
            previous_chapter=siblings[position - 1] if position > 0 else None,
            next_chapter=siblings[position + 1] if position + 1 < len(siblings) else None,
            model_components=components,
            model_page=components[0].get_parent() if components else None,
        )
        return context

    # -- the static build's interface ----------------------------------------------------------
    def static_signatures(self, versions: Versions, state: BuildState) -> dict[str, object]:
        """The chapter shows the whole chapter list (titles, order), the streets and stories of its cases."""
        parent = self.get_parent()
        nav = list(
            PlaybookChapterPage.objects.child_of(parent)
            .live()
            .public()
            .order_by("path")
            .values_list("pk", "title", "slug")
        )
        linked = sorted((pk, versions.get(pk)) for pk in self.linked_page_ids())
        components = [(page_row(c), page_row(c.get_parent())) for c in model_components(self)]
        return {"": [nav, streets_version(), documents_version(), linked, parent.title, parent.slug, components]}

    @classmethod
    def build_queryset(cls) -> models.QuerySet:
        return cls.objects.all()


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
