"""After a sync, tell the CDN in front of the bucket which URLs changed."""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import urllib.request

from django.conf import settings

logger = logging.getLogger(__name__)


def purge(urls: list[str]):
    """Tell the CDN what changed: PUBLISH_PURGE_COMMAND (the URLs on its standard input, one a line) and/or
    PUBLISH_PURGE_WEBHOOK (a POST of {"urls": [...]}). A failure is logged, never fatal: the CDN's own
    revalidation (max-age=0) catches up."""
    urls = sorted(set(urls))
    if not urls:
        return
    if settings.PUBLISH_PURGE_COMMAND:
        try:
            subprocess.run(  # noqa: S603 - the operator's own command
                shlex.split(settings.PUBLISH_PURGE_COMMAND),
                input="\n".join(urls) + "\n",
                text=True,
                timeout=120,
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            logger.warning("CDN 刷新命令失败：%s", exc)
    if settings.PUBLISH_PURGE_WEBHOOK:
        request = urllib.request.Request(  # noqa: S310 - the operator's own https URL
            settings.PUBLISH_PURGE_WEBHOOK,
            data=json.dumps({"urls": urls}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30):  # noqa: S310
                pass
        except OSError as exc:
            logger.warning("CDN 刷新回调失败：%s", exc)
