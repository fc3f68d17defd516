from django.core.checks import Warning, register

from . import pdf


@register()
def chinese_font_for_pdf(app_configs, **kwargs):
    """Say so when the playbook's PDF cannot be made: without a Chinese font it would print boxes."""
    if pdf.chinese_font() is not None:
        return []
    return [
        Warning(
            pdf.missing_font_message(),
            hint=f"Debian/Ubuntu：apt install {pdf.FONT_PACKAGE}；其他系统请安装任一简体中文字体"
            "（如 Noto Sans CJK SC）。",
            id="playbook.W001",
        )
    ]
