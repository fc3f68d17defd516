"""The abstract page every public page type is built on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.models import Page

from cms.core.text import pinyin_slug


class ListingFieldsMixin(models.Model):
    """How the page looks when another page lists it."""

    listing_title = models.CharField("列表标题", max_length=120, blank=True, help_text="留空则使用页面标题")
    listing_summary = models.CharField("列表摘要", max_length=240, blank=True, help_text="留空则使用摘要")
    listing_image = models.ForeignKey(
        settings.WAGTAILIMAGES_IMAGE_MODEL,
        verbose_name="列表图片",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    promote_panels = [
        MultiFieldPanel(
            [FieldPanel("listing_title"), FieldPanel("listing_summary"), FieldPanel("listing_image")],
            heading="在列表中的样子",
        )
    ]

    class Meta:
        abstract = True


class SocialFieldsMixin(models.Model):
    """What a share card (WeChat, Open Graph) shows."""

    social_image = models.ForeignKey(
        settings.WAGTAILIMAGES_IMAGE_MODEL,
        verbose_name="分享图片",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    social_text = models.CharField("分享文字", max_length=255, blank=True)

    promote_panels = [MultiFieldPanel([FieldPanel("social_image"), FieldPanel("social_text")], heading="分享")]

    class Meta:
        abstract = True


class BasePageForm(WagtailAdminPageForm):
    """Lets the slug be left empty: the page then takes the pinyin of its title. Limits the search description,
    which goes into the page's <meta name="description"> (Wagtail's field has no limit)."""

    SEARCH_DESCRIPTION_MAX = 200  # as content/ files: cms/content_io/schema.py SEARCH_DESCRIPTION_MAX

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "网址中的一段，只用小写字母、数字和连字符。留空则按标题拼音自动生成。"
        if "search_description" in self.fields:
            from django.core.validators import MaxLengthValidator

            limit = self.SEARCH_DESCRIPTION_MAX
            description = self.fields["search_description"]
            description.validators.append(
                MaxLengthValidator(
                    limit,
                    f"搜索描述太长了：%(show_value)d 个字，最多 {limit} 个。搜索结果里通常只显示前面八十到一百多个字。",
                )
            )
            description.help_text = f"搜索结果里页面标题下的一两句话，最多 {limit} 个字。留空则使用摘要。"

    def save(self, commit=True):
        """A new page is a draft until the publishing gate lets a revision of it go live: Wagtail's create
        view would otherwise add it with `live=True` before the publish is decided."""
        if self.instance.pk is None:
            self.instance.live = False
        return super().save(commit=commit)

    def clean(self):
        cleaned = self.cleaned_data
        if "slug" in self.fields and not cleaned.get("slug") and cleaned.get("title"):
            base = pinyin_slug(cleaned["title"]) or "page"
            slug, n = base, 1
            while not Page._slug_is_available(slug, self.parent_page, self.instance):
                n += 1
                slug = f"{base}-{n}"
            cleaned["slug"] = slug
            self.instance.slug = slug
        return super().clean()


class BasePage(ListingFieldsMixin, SocialFieldsMixin, Page):
    """Listing and share fields, pinyin slugs, and the small interface the static build reads."""

    base_form_class = BasePageForm
    #: Sub-path of this page's Atom feed, if it has one; home links every section's feed.
    feed_path: str | None = None
    show_in_menus_default = False

    promote_panels = [
        MultiFieldPanel(
            [FieldPanel("slug"), FieldPanel("seo_title"), FieldPanel("search_description")],
            heading="网址与搜索引擎",
        ),
        *ListingFieldsMixin.promote_panels,
        *SocialFieldsMixin.promote_panels,
        FieldPanel("show_in_menus"),
    ]

    class Meta:
        abstract = True

    # -- admin search ----------------------------------------------------------------------------
    #: Text fields that are Wagtail's bookkeeping or the address, not words an editor wrote.
    SEARCH_SKIPPED_FIELDS = frozenset({"path", "url_path", "draft_title", "slug", "locale", "translation_key"})

    @classmethod
    def get_search_fields(cls):
        """The page type's ``search_fields``, and a SearchField for every other text the page type has of its
        own (text fields, rich text, streams; not choices, nor Wagtail's bookkeeping): the admin's search
        finds a page by any word in it (cms/core/search_backend.py), whatever page type declares."""
        from wagtail.fields import StreamField
        from wagtail.search import index

        fields = super().get_search_fields()
        listed = {f.field_name for f in fields if isinstance(f, index.SearchField)}
        return fields + [
            index.SearchField(f.name)
            for f in cls._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, StreamField))
            and not f.choices
            and f.name not in listed
            and f.name not in cls.SEARCH_SKIPPED_FIELDS
        ]

    def full_clean(self, *args, **kwargs):
        self.ensure_slug()
        super().full_clean(*args, **kwargs)

    def ensure_slug(self):
        """An empty slug takes the pinyin of the title (unique among the siblings)."""
        if not self.slug and self.title:
            self.slug = pinyin_slug(self.title) or None
            parent = getattr(self, "_cached_parent_obj", None) or (self.get_parent() if self.path else None)
            if self.slug and parent is not None:
                self.slug = self._get_autogenerated_slug(self.slug)

    # -- listing -------------------------------------------------------------------------------
    @property
    def display_listing_title(self) -> str:
        return self.listing_title or self.title

    @property
    def display_listing_summary(self) -> str:
        return (
            self.listing_summary
            or getattr(self, "summary", "")
            or self.search_description
            or getattr(self, "intro", "")
        )

    @property
    def display_listing_image(self):
        return self.listing_image or getattr(self, "hero_image", None)

    @property
    def meta_description(self) -> str:
        return self.search_description or self.display_listing_summary or self.title

    # -- series of pages (chapters, lessons, components) ---------------------------------------
    def steps_around(self, queryset, parent=None) -> tuple[list, int]:
        """The live siblings in tree order, with this page among them (a draft being previewed is shown
        where it will be), and this page's position (0-based)."""
        siblings = list(
            queryset.child_of(parent or self.get_parent())
            .live()
            .public()
            .order_by("path")
            .only("title", "slug", "url_path", "path", "depth")
        )
        ids = [p.pk for p in siblings]
        if self.pk not in ids:
            siblings.append(self)
            ids.append(self.pk)
        return siblings, ids.index(self.pk)

    # -- preview -------------------------------------------------------------------------------
    PREVIEW_BANNER = "预览：这是还没有发布的版本，公开网站上看不到。"

    @property
    def preview_sizes(self):
        """A courier's phone first (360 px, the narrowest common Android width), then tablet and desktop."""
        return [
            {"name": "mobile", "icon": "mobile-alt", "device_width": 360, "label": "按手机宽度预览（360 像素）"},
            {"name": "tablet", "icon": "tablet-alt", "device_width": 768, "label": "按平板宽度预览"},
            {"name": "desktop", "icon": "desktop", "device_width": 1280, "label": "按电脑宽度预览"},
        ]

    def serve_preview(self, request, mode_name):
        """Exactly the static build's HTML for this version, with a banner saying it is not public."""
        from django.http import HttpResponse

        from cms.core import preview

        html = preview.render(self, request, self.PREVIEW_BANNER)
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    # -- publishing: every route to live passes the gate (cms/core/gate.py) ----------------------
    def publish(self, revision, user=None, *args, **kwargs):
        """Every `revision.publish()` (editor, approval, bulk, revert, schedule, import) ends here."""
        from cms.core import gate

        gate.check(revision.as_object(), revision, user)
        with gate.passed(self.pk, revision.pk):
            return super().publish(revision, user, *args, **kwargs)

    def save(self, *args, **kwargs):
        """A row that becomes live without `publish()` (a copy kept live, an alias, code) is gated here."""
        from cms.core import gate

        self.ensure_slug()  # also when the gate makes a new page a draft (Wagtail then skips full_clean)
        gate.guard_save(self, kwargs.get("update_fields"))
        return super().save(*args, **kwargs)

    # -- the static build ------------------------------------------------------------------------
    # Page types publish through the interface described in docs/publishing.md (static_signatures,
    # static_signatures_bulk, build_queryset, prepare_build); a page without them is one file whose
    # content depends on its own live revision.
    def public_path(self) -> str | None:
        """The path of the page on its site ("/stories/…/"), or None when it is not routable."""
        parts = self.get_url_parts()
        return parts[2] if parts else None

    def public_url(self) -> str:
        """The absolute URL on the public static site, never the CMS host."""
        return settings.PUBLIC_BASE_URL + (self.public_path() or "/")
