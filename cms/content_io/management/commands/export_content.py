from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cms.content_io.exporter import run_export


class Command(BaseCommand):
    help = "把 CMS 中的页面、街道、人物和图片按 content/ 的格式写到 PATH（PATH 须为空文件夹或不存在）。"

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--force", action="store_true", help="允许写入已有内容的文件夹（覆盖同名文件）")

    def handle(self, *args, **options):
        out = Path(options["path"])
        if out.exists() and any(out.iterdir()) and not options["force"]:
            raise CommandError(f"{out} 不是空文件夹；换一个路径，或加 --force 覆盖同名文件")
        written = run_export(out)
        pages = sum(1 for w in written if w.endswith(".md"))
        images = sum(1 for w in written if not w.endswith((".md", ".yaml")))
        self.stdout.write(self.style.SUCCESS(f"已导出到 {out}：{pages} 个页面，{images} 张图片，{len(written)} 个文件"))
