"""Checks for the operator: the public site must say how to reach whoever publishes it."""

from django.core.checks import Warning, register
from django.db import DatabaseError

CONTACT_MISSING = (
    "公开网站还没有联系方式：网站设置里的办公地址、办公电话和联系邮箱都是空的，"
    "页脚的“联系我们”和隐私说明只能告诉读者“运营方还没有公布联系方式”。"
)
CONTACT_HINT = (
    "在管理后台的 设置 → 网站设置 → 主办单位与联系方式（公开）里填写单位的真实信息（见 docs/operations.md）。"
)


def contact_missing() -> bool | None:
    """True when the site settings give readers no way to reach the operator; None when unknown (no database yet)."""
    from cms.core.models import SiteSettings

    try:
        settings = SiteSettings.objects.first()
    except DatabaseError:  # before `migrate`: nothing to say yet
        return None
    return settings is None or not settings.has_contact


@register(deploy=True)
def public_contact(app_configs, **kwargs):
    """`check --deploy` (the production checklist in docs/operations.md) warns until the contact is filled in."""
    if contact_missing():
        return [Warning(CONTACT_MISSING, hint=CONTACT_HINT, id="core.W001")]
    return []
