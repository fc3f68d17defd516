"""Snippets used by every content app: the streets that run the program, the people in its stories, and the
sources (出处) that every claim about them comes from."""

from django.db import models
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.search import index

from cms.core.blocks import KeyFigureBlock
from cms.core.text import pinyin_slug

from .rows import InlineRow


class Street(index.Indexed, models.Model):
    """A street office (街道) that runs the program."""

    name = models.CharField("街道名称", max_length=60, unique=True, help_text="如 陶然亭街道")
    slug = models.SlugField("网址名", max_length=60, unique=True, blank=True, help_text="留空则按名称拼音自动生成")
    district = models.CharField("所在区", max_length=30, help_text="如 西城区")
    city = models.CharField("所在城市", max_length=30, default="北京市")
    setting = models.CharField("地域特点", max_length=200, blank=True, help_text="如 二环内胡同平房与楼房混合")
    summary = models.TextField("简介", blank=True)
    key_figures = StreamField([("figure", KeyFigureBlock())], verbose_name="关键数字", blank=True)
    source = models.ForeignKey(
        "core.Source",
        verbose_name="介绍与数字的出处",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="简介和关键数字依据的出处，显示在街道页面上",
    )

    panels = [
        MultiFieldPanel([FieldPanel("name"), FieldPanel("slug")], heading="名称"),
        MultiFieldPanel([FieldPanel("city"), FieldPanel("district"), FieldPanel("setting")], heading="位置"),
        FieldPanel("summary"),
        FieldPanel("key_figures"),
        FieldPanel("source"),
    ]
    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("district"),  # the admin's 街道 list searches name and district
        index.SearchField("summary"),
    ]

    class Meta:
        ordering = ["name"]
        verbose_name = "街道"
        verbose_name_plural = "街道"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = pinyin_slug(self.name)
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.city}{self.district}{self.name}"


class Person(index.Indexed, models.Model):
    """Someone a story features. Named and pictured only with consent on record."""

    name = models.CharField("姓名", max_length=40)
    slug = models.SlugField("网址名", max_length=60, unique=True, blank=True)
    role = models.CharField("身份/职务", max_length=80, help_text="如 快递员、网点负责人")
    organisation = models.CharField("单位", max_length=80, blank=True, help_text="如 顺丰速运陶然北岸营业部")
    street = models.ForeignKey(
        Street, verbose_name="所在街道", null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    consent_on_record = models.BooleanField(
        "已有同意署名与肖像的记录",
        default=False,
        help_text="只有勾选后，故事才能署其姓名、使用其照片。同意书原件由街道保存，不上传到本系统。",
    )
    named_in = models.ForeignKey(
        "core.Source",
        verbose_name="公开报道出处",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="people_named",
        help_text="以真实姓名和身份报道此人的公开出处：没有同意记录时，这是可以署名的唯一依据",
    )
    #: What the public site and the API show of a person (the publishing gate checks these, not the internal note).
    public_fields = ("name", "role", "organisation")
    consent_note = models.CharField(
        "同意记录说明（内部）",
        max_length=200,
        blank=True,
        help_text="如 公开报道中的公开身份；2023 年 3 月书面同意。不会出现在公开网站上。",
    )

    panels = [
        MultiFieldPanel([FieldPanel("name"), FieldPanel("slug")], heading="姓名"),
        FieldPanel("role"),
        FieldPanel("organisation"),
        FieldPanel("street"),
        MultiFieldPanel(
            [FieldPanel("named_in"), FieldPanel("consent_on_record"), FieldPanel("consent_note")],
            heading="为什么可以署名",
        ),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name"), index.SearchField("organisation")]

    class Meta:
        ordering = ["name"]
        verbose_name = "人物"
        verbose_name_plural = "人物"

    def __str__(self) -> str:
        return f"{self.name}（{self.role}）"

    @property
    def may_be_named(self) -> bool:
        """Named on the site only with written consent on record, or because a cited source names them."""
        return bool(self.consent_on_record or self.named_in_id)

    @property
    def title(self) -> str:
        """The person's title as the source gives it: role and organisation."""
        return "".join(part for part in (self.organisation, self.role) if part)

    def save(self, *args, **kwargs):
        if not self.slug:
            base = pinyin_slug(self.name) or "person"
            slug, n = base, 1
            while Person.objects.filter(slug=slug).exclude(pk=self.pk).exists():
                n += 1
                slug = f"{base}-{n}"
            self.slug = slug
        super().save(*args, **kwargs)


class Source(index.Indexed, ClusterableModel):
    """A source (出处): a published document that claims on the site come from. Its quotes are the only
    words the site may put in a real person's mouth, verbatim."""

    key = models.SlugField(
        "代号", max_length=60, unique=True, help_text="如 cyd-2023-03-21（content/sources.yaml 里的代号）"
    )
    publication = models.CharField("出版物", max_length=80, help_text="如 中国青年报")
    title = models.CharField("标题", max_length=200)
    date = models.DateField("日期")
    authors = models.CharField("作者", max_length=120, blank=True)
    url = models.URLField("网址", blank=True, help_text="没有可靠网址就留空")
    note = models.CharField("说明", max_length=200, blank=True)

    panels = [
        FieldPanel("key"),
        MultiFieldPanel(
            [FieldPanel(name) for name in ("publication", "title", "date", "authors", "url")],
            heading="出处",
        ),
        FieldPanel("note"),
        InlinePanel("quotes", label="可以引用的原话", help_text="逐字照录；网站上的引语只能是这里的原话"),
    ]
    search_fields = [index.SearchField("title"), index.SearchField("publication"), index.AutocompleteField("title")]

    class Meta:
        ordering = ["-date", "publication"]
        verbose_name = "出处"
        verbose_name_plural = "出处"

    def __str__(self) -> str:
        return self.citation

    @property
    def citation(self) -> str:
        """中国青年报，2023年3月21日，《快递员如何成为社区基层治理的一把钥匙》"""
        d = self.date
        return f"{self.publication}，{d.year}年{d.month}月{d.day}日，《{self.title}》"


class SourceQuote(InlineRow):
    """Words a person said, exactly as the source prints them."""

    source = ParentalKey(Source, on_delete=models.CASCADE, related_name="quotes")
    person = models.ForeignKey(Person, verbose_name="说话人", on_delete=models.CASCADE, related_name="quotes")
    text = models.TextField("原话", max_length=600)

    panels = [FieldPanel("person"), FieldPanel("text")]

    class Meta(InlineRow.Meta):
        verbose_name = "原话"
        verbose_name_plural = "原话"

    def __str__(self) -> str:
        return f"{self.person.name}：{self.text[:20]}"


class SourceLink(InlineRow):
    """A source a page lists under "来源" (each page type subclasses it with its ParentalKey)."""

    source = models.ForeignKey(Source, verbose_name="出处", on_delete=models.PROTECT, related_name="+")

    panels = [FieldPanel("source")]

    class Meta(InlineRow.Meta):
        abstract = True
        verbose_name = "来源"
        verbose_name_plural = "来源"
