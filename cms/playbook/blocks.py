"""The structured parts of a playbook chapter: steps, checklist items, pitfalls, cases, templates."""

from django.utils.functional import cached_property
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.models import Page
from wagtail.snippets.blocks import SnippetChooserBlock

from cms.core.blocks import KeyFigureBlock


class StepBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="这一步做什么", max_length=120)
    who = blocks.CharBlock(label="谁来做", max_length=120)
    time = blocks.CharBlock(label="需要多长时间", max_length=80, help_text="估计值请注明“参考值”")
    cost = blocks.CharBlock(label="费用", max_length=120, help_text="估计值请注明“参考值”")
    needs = blocks.CharBlock(label="需要什么", max_length=200)
    detail = blocks.TextBlock(label="说明", required=False, help_text="纯文本，段落之间空一行")

    class Meta:
        icon = "list-ol"
        label = "步骤"


class PitfallBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="难点", max_length=120)
    detail = blocks.TextBlock(label="怎样避免")

    class Meta:
        icon = "warning"
        label = "常见难点"


class CaseValue(blocks.StructValue):
    """A case as a chapter shows it: its stories that are live and public (a draft story is never linked), in
    the editor's order, and the sources it names."""

    def story_ids(self) -> list[int]:
        return [s.pk if hasattr(s, "pk") else s for s in self["stories"] if s is not None]

    @cached_property
    def public_stories(self) -> list[Page]:
        ids = self.story_ids()
        if not ids:
            return []
        public = {p.pk: p for p in Page.objects.filter(pk__in=ids).live().public().specific(defer=True)}
        return [public[i] for i in ids if i in public]

    @property
    def cited_sources(self) -> list:
        return [source for source in self.get("sources", []) if source is not None]


class CaseBlock(blocks.StructBlock):
    street = SnippetChooserBlock("core.Street", label="街道")
    text = blocks.TextBlock(label="做法")
    figures = blocks.ListBlock(KeyFigureBlock(), label="数字", required=False, default=[])
    stories = blocks.ListBlock(blocks.PageChooserBlock(label="故事"), label="相关故事", required=False, default=[])
    sources = blocks.ListBlock(
        SnippetChooserBlock("core.Source", label="出处"),
        label="来源",
        required=False,
        default=[],
        help_text="这个案例依据的出处：只写出处里有的做法",
    )

    class Meta:
        icon = "site"
        label = "案例"
        value_class = CaseValue


class TemplateBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label="文档")
    title = blocks.CharBlock(label="名称", max_length=120)
    description = blocks.CharBlock(label="用途", max_length=200, required=False)

    class Meta:
        icon = "doc-full"
        label = "模板"
