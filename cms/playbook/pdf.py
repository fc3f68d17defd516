"""The whole playbook as a PDF, made with WeasyPrint from the print page, in a Chinese font.

Without a Chinese font a PDF would show boxes, so none is made: the build says which package to
install, and the playbook links to no PDF.
"""

from __future__ import annotations

import functools
import mimetypes
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

FONT_PACKAGE = "fonts-noto-cjk"  # Debian/Ubuntu; the README names it for other systems


@functools.cache
def chinese_font() -> str | None:
    """The family name of an installed font that covers Simplified Chinese, or None."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - a fixed command
            [fc_list, ":lang=zh-cn", "family"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    families = sorted({name.split(",")[0].strip() for name in out.splitlines() if name.strip()})
    for preferred in ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei"):
        if preferred in families:
            return preferred
    return families[0] if families else None


def missing_font_message() -> str:
    return (
        f"没有找到中文字体，本次发布不含手册 PDF（也不链接它）。"
        f"请安装 {FONT_PACKAGE}（如 apt install {FONT_PACKAGE}）后重新发布。"
    )


def _fetch(url: str):
    """Resolve /static/ and /media/ URLs to local files; nothing is fetched from the network."""
    from weasyprint import default_url_fetcher

    path = urlsplit(url).path
    base = urlsplit(settings.PUBLIC_BASE_URL).path.rstrip("/")
    if base and path.startswith(base):
        path = path[len(base) :]
    local: Path | None = None
    if path.startswith(settings.STATIC_URL):
        rel = path[len(settings.STATIC_URL) :]
        found = Path(settings.STATIC_ROOT) / rel
        local = found if found.exists() else (Path(p) if (p := finders.find(rel)) else None)
    elif path.startswith(settings.MEDIA_URL):
        from django.core.files.storage import default_storage

        name = path[len(settings.MEDIA_URL) :]
        try:
            local = Path(default_storage.path(name))
        except NotImplementedError:  # media on the bucket (MEDIA_STORAGE_URL): read through the storage
            try:
                with default_storage.open(name, "rb") as fh:
                    return {"string": fh.read(), "mime_type": mimetypes.guess_type(name)[0], "redirected_url": url}
            except FileNotFoundError:
                raise ValueError(f"PDF 只使用本站的文件：{url}") from None
    if local is None or not local.is_file():
        raise ValueError(f"PDF 只使用本站的文件：{url}")
    return default_url_fetcher(local.resolve().as_uri())


def html_to_pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML

    font = chinese_font()
    # The pages' layout (margins, running title, page numbers, the contents' page numbers) is in
    # playbook/pdf_base.html; here only the font this machine has.
    css = CSS(string=f'html {{ font-family: "{font}", sans-serif; font-size: 10.5pt; }}')
    document = HTML(string=html, base_url=settings.PUBLIC_BASE_URL + "/", url_fetcher=_fetch)
    return document.write_pdf(stylesheets=[css])
