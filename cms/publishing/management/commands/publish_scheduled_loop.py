"""Run Wagtail's scheduled publishing every minute, so go-live and expiry happen with nobody logged in.

`make run` starts it; in production run it as a service (or call `manage.py publish_scheduled` from cron).
Each publish or expiry fires Wagtail's signals, which queue a static build like any other publish.
"""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "每分钟执行一次 Wagtail 的定时发布与到期下线。"

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=60.0)

    def handle(self, *args, **options):
        while True:
            call_command("publish_scheduled", verbosity=0)
            time.sleep(options["interval"])
