import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cms.content_io.importer import run_import
from cms.content_io.models import ContentSource
from cms.core.progress import Progress


class Command(BaseCommand):
    help = "从 content/ 导入页面和数据：先检查全部文件，全部有效才写入（一个事务）；未改动的文件不产生新版本。"

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(Path(settings.BASE_DIR) / "content"))
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告将会发生的变化，不写入")
        parser.add_argument("--publish", action="store_true", help="发布导入的页面（默认只保存为草稿版本）")
        parser.add_argument("--time-budget", type=float, default=5.0, help="每个文件的转换时间上限（秒）")
        parser.add_argument(
            "--initial", action="store_true", help="只在第一次运行时导入：已经导入过内容就什么也不做（make run 使用）"
        )

    def handle(self, *args, **options):
        if options["initial"] and ContentSource.objects.exists():
            self.stdout.write("内容已经导入过，跳过（要更新内容请直接运行 import_content）")
            return
        started = time.monotonic()
        root = Path(options["path"])
        report, _plan = run_import(
            root,
            publish=options["publish"],
            dry_run=options["dry_run"],
            budget=options["time_budget"],
            progress=Progress("导入"),
        )
        for problem in report.rejected:
            self.stderr.write(self.style.ERROR(f"拒绝 {problem}"))
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"注意 {warning}"))
        for ignored in report.ignored:
            self.stdout.write(f"忽略 {ignored}")
        if options["verbosity"] > 1:
            for state in ("created", "updated"):
                for key in getattr(report, state):
                    self.stdout.write(f"{'新建' if state == 'created' else '更新'} {key}")
        prefix = "（试运行，未写入）" if options["dry_run"] else ""
        summary = f"{prefix}{report.summary()}，用时 {time.monotonic() - started:.1f} 秒"
        if not report.ok:
            raise CommandError(f"{summary}。没有写入任何内容：请修正上面的问题后重新导入。")
        if not options["dry_run"] and (report.created or report.updated):
            # The admin's search index is otherwise updated by the task worker, one object at a time, when it
            # runs (`make setup` runs none): after an import it is whole at once.
            call_command("update_index", verbosity=0)
        self.stdout.write(self.style.SUCCESS(summary))
