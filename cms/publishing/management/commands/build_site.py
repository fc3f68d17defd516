from django.core.management.base import BaseCommand, CommandError

from cms.core.progress import Progress
from cms.publishing import targets
from cms.publishing.builder import Builder, BuildFailed
from cms.publishing.releases import build_lock

STAGES = {"render": "渲染", "verify": "检查", "search": "搜索索引"}


class Command(BaseCommand):
    help = "构建公开的静态网站：渲染、检查，然后原子地切换 site/current。默认只渲染有变化的文件。"

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="全部重新渲染，不复用上一个版本的文件")

    def handle(self, *args, **options):
        bars: dict[str, Progress] = {}

        def progress(stage, done, total):
            bar = bars.setdefault(stage, Progress(STAGES.get(stage, stage), threshold=50))
            bar(done, total)

        # The sync to the publish targets runs inside the build lock too: another CMS machine's build and
        # sync wait until this release is in the buckets, so two syncs never interleave.
        with build_lock():
            self.build_and_sync(options["full"], progress)

    def build_and_sync(self, full: bool, progress):
        synced, failed = [], []

        def sync():  # the publish targets (PUBLISH_TARGETS), if any: as soon as the release is live here
            try:
                synced.extend(targets.sync_live())
            except Exception as exc:  # noqa: BLE001 - the release is live here whatever the target answers
                failed.append(exc)

        try:
            result = Builder(full=full, reason="命令行 build_site", progress=progress, on_live=sync).run()
        except BuildFailed as exc:
            for problem in exc.problems:
                self.stderr.write(self.style.ERROR(problem))
            raise CommandError(str(exc)) from None
        except Exception as exc:
            raise CommandError(f"构建失败，线上网站保持不变：{exc}") from exc
        if result.skipped:
            self.stdout.write(self.style.SUCCESS(f"没有变化，线上版本保持不变（用时 {result.seconds:.2f} 秒）"))
        else:
            r = result.release
            self.stdout.write(
                self.style.SUCCESS(
                    f"已上线版本 {r.name}：{r.pages} 个页面，{r.files} 个文件（重新渲染 {r.rendered} 个），"
                    f"{r.bytes / 1024 / 1024:.1f} MB，用时 {r.seconds:.2f} 秒"
                )
            )
        if not failed:
            sync()  # a search-index release the build's housekeeping made, or a target behind before
        if failed:
            raise CommandError(f"已在本机上线，但发布目标同步失败：{failed[0]}") from None
        for s in synced:
            kb = s.bytes / 1024
            self.stdout.write(f"{s.location.url}：上传 {s.uploaded} 个文件（{kb:.0f} KB），用时 {s.seconds:.2f} 秒")
