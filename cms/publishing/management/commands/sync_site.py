"""Copy the live release to the publish targets (PUBLISH_TARGETS), or check them against it."""

from django.core.management.base import BaseCommand, CommandError

from cms.publishing import targets
from cms.publishing.models import Release
from cms.publishing.releases import build_lock, current_release_dir, load_manifest


class Command(BaseCommand):
    help = "把线上版本同步到发布目标（对象存储）；--verify 对照存储桶的实际内容并修复差异。"

    def add_arguments(self, parser):
        parser.add_argument("--verify", action="store_true", help="列出存储桶，与线上版本逐个比对并修复")

    def handle(self, *args, **options):
        locations = targets.configured()
        if not locations:
            raise CommandError("没有配置发布目标（环境变量 PUBLISH_TARGETS，例如 s3://存储桶/前缀）")
        with build_lock():
            live = current_release_dir()
            release = Release.objects.filter(name=live.name).first() if live else None
            if release is None:
                raise CommandError("还没有线上版本：先运行 manage.py build_site")
            if release.status != Release.STATUS_LIVE:
                newer = Release.objects.filter(status=Release.STATUS_LIVE).first()
                raise CommandError(
                    f"本机网站目录里的版本 {release.name} 不是线上版本"
                    f"{f'（线上是 {newer.name}，由另一台 CMS 机器构建）' if newer else ''}："
                    "同步它会让存储桶退回旧内容。"
                    "请在构建线上版本的机器上运行，或在本机先运行 manage.py build_site --full。"
                )
            manifest = load_manifest(live.name)
            try:
                if options["verify"]:
                    for loc in locations:
                        found = targets.verify(loc, release, live, manifest)
                        self.stdout.write(
                            f"{loc.url}：缺少 {len(found['missing'])} 个、内容不同 {len(found['changed'])} 个"
                            f"（已重新上传），不属于任何版本的 {len(found['unknown'])} 个"
                            + (f"：{'、'.join(found['unknown'][:10])}" if found["unknown"] else "")
                        )
                else:
                    for result in targets.sync_release(release, live, manifest):
                        self.stdout.write(
                            f"{result.location.url}：上传 {result.uploaded} 个文件（{result.bytes / 1024:.0f} KB），"
                            f"删除 {result.deleted} 个，用时 {result.seconds:.2f} 秒"
                        )
            except targets.TargetError as exc:
                raise CommandError(str(exc)) from None
