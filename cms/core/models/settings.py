from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting


@register_setting(icon="cog")
class SiteSettings(BaseGenericSetting):
    """What every public page shows around its content: the program's name, who publishes the site and how
    to reach them. The operator fills in their real identity when they deploy; until then the footer
    names no publisher (the site does not speak for any street office) and its 联系我们 says plainly
    that no contact has been given, and the admin's dashboard and `check --deploy` warn the operator."""

    program_name = models.CharField("项目名称", max_length=60, default="小哥")
    tagline = models.CharField(
        "一句话介绍", max_length=120, default="快递小哥参与社区治理：故事、手册、培训与可复制的模式"
    )
    footer_text = models.TextField(
        "页脚说明",
        blank=True,
        default="",
        help_text="只写真实的情况。本站是项目的出版物，不是街道办事处的官方网站，不要以街道名义落款。",
    )
    publisher = models.CharField(
        "主办单位", max_length=120, blank=True, help_text="部署本站的单位的全称；不填则页脚不写主办单位"
    )
    office_name = models.CharField("联系部门", max_length=80, blank=True)
    office_address = models.CharField(
        "办公地址", max_length=160, blank=True, help_text="单位的办公地址（公开；隐私检查不会把它当作个人住址）"
    )
    office_phone = models.CharField(
        "办公电话", max_length=40, blank=True, help_text="单位的办公电话（公开）；不要填写个人手机号码"
    )
    office_email = models.EmailField("联系邮箱", blank=True)
    office_hours = models.CharField("办公时间", max_length=80, blank=True)
    icp_number = models.CharField("ICP 备案号", max_length=60, blank=True, help_text="如 京ICP备00000000号-1")
    police_number = models.CharField(
        "公安备案号", max_length=60, blank=True, help_text="如 京公网安备 11010202000000号"
    )

    panels = [
        MultiFieldPanel([FieldPanel("program_name"), FieldPanel("tagline")], heading="项目"),
        FieldPanel("footer_text"),
        MultiFieldPanel(
            [
                FieldPanel("publisher"),
                FieldPanel("office_name"),
                FieldPanel("office_address"),
                FieldPanel("office_phone"),
                FieldPanel("office_email"),
                FieldPanel("office_hours"),
            ],
            heading="主办单位与联系方式（公开）",
        ),
        MultiFieldPanel([FieldPanel("icp_number"), FieldPanel("police_number")], heading="备案信息"),
    ]

    class Meta:
        verbose_name = "网站设置"

    def clean(self):
        from django.core.exceptions import ValidationError

        from cms.core.personal_data import find_personal_data

        for kind, masked in find_personal_data(self.office_phone or ""):
            if kind == "mobile":
                message = f"这是手机号码（{masked}）：请填写单位的办公电话，不要公开个人手机。"
                raise ValidationError({"office_phone": message})

    @property
    def has_contact(self) -> bool:
        """A reader can reach the operator: an address, a telephone or an e-mail is filled in."""
        return bool(self.office_address.strip() or self.office_phone.strip() or self.office_email.strip())

    @property
    def author_name(self) -> str:
        """Who articles and feeds name as their author: the publisher the operator filled in, else the program
        (the site is the program's publication: it names no person and speaks for no street office)."""
        return self.publisher or self.program_name

    @property
    def police_record_code(self) -> str:
        """The digits of the public-security record number, for the link to its record page."""
        return "".join(c for c in self.police_number if c.isdigit())
