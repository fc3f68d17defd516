"""Snippets used by every content app: the streets that run the program and the people in its stories."""

from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.search import index

from cms.core.blocks import KeyFigureBlock
from cms.core.text import pinyin_slug


class Street(index.Indexed, models.Model):
    """A street office (街道) that runs the program."""

    name = models.CharField("街道名称", max_length=60, unique=True, help_text="如 陶然亭街道")
    slug = models.SlugField("网址名", max_length=60, unique=True, blank=True, help_text="留空则按名称拼音自动生成")
    district = models.CharField("所在区", max_length=30, help_text="如 西城区")
    city = models.CharField("所在城市", max_length=30, default="北京市")
    setting = models.CharField("地域特点", max_length=200, blank=True, help_text="如 二环内胡同平房与楼房混合")
    summary = models.TextField("简介", blank=True)
    key_figures = StreamField([("figure", KeyFigureBlock())], verbose_name="关键数字", blank=True)

    panels = [
        MultiFieldPanel([FieldPanel("name"), FieldPanel("slug")], heading="名称"),
        MultiFieldPanel([FieldPanel("city"), FieldPanel("district"), FieldPanel("setting")], heading="位置"),
        FieldPanel("summary"),
        FieldPanel("key_figures"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name"), index.SearchField("summary")]

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
        MultiFieldPanel([FieldPanel("consent_on_record"), FieldPanel("consent_note")], heading="同意记录"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name"), index.SearchField("organisation")]

    class Meta:
        ordering = ["name"]
        verbose_name = "人物"
        verbose_name_plural = "人物"

    def __str__(self) -> str:
        return f"{self.name}（{self.role}）"

    def save(self, *args, **kwargs):
        if not self.slug:
            base = pinyin_slug(self.name) or "person"
            slug, n = base, 1
            while Person.objects.filter(slug=slug).exclude(pk=self.pk).exists():
                n += 1
                slug = f"{base}-{n}"
            self.slug = slug
        super().save(*args, **kwargs)
