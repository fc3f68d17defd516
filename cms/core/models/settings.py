from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting


@register_setting(icon="cog")
class SiteSettings(BaseGenericSetting):
    """What every public page shows around its content: the program's name, footer and office contact."""

    program_name = models.CharField("项目名称", max_length=60, default="小哥")
    tagline = models.CharField(
        "一句话介绍", max_length=120, default="快递小哥参与社区治理：故事、手册、培训与可复制的模式"
    )
    footer_text = models.TextField(
        "页脚说明",
        blank=True,
        default="本站由街道党群工作部门编辑发布，内容可供其他街道和地区参考复制。",
    )
    office_name = models.CharField("项目办公室", max_length=80, blank=True, default="“小哥”项目办公室")
    office_address = models.CharField("办公地址", max_length=160, blank=True)
    office_email = models.EmailField("联系邮箱", blank=True)
    office_hours = models.CharField("办公时间", max_length=80, blank=True, default="工作日 9:00–17:00")

    panels = [
        MultiFieldPanel([FieldPanel("program_name"), FieldPanel("tagline")], heading="项目"),
        FieldPanel("footer_text"),
        MultiFieldPanel(
            [
                FieldPanel("office_name"),
                FieldPanel("office_address"),
                FieldPanel("office_email"),
                FieldPanel("office_hours"),
            ],
            heading="项目办公室联系方式（公开）",
        ),
    ]

    class Meta:
        verbose_name = "网站设置"
