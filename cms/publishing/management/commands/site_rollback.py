from django.core.management.base import BaseCommand, CommandError

from cms.publishing.releases import BuildFailed, build_lock, rollback
from cms.publishing.targets import sync_live_quietly


class Command(BaseCommand):
    help = "把上一个发布版本重新设为线上版本（一次原子切换）。"

    def handle(self, *args, **options):
        with build_lock():  # the publish targets follow inside the lock: no other machine's sync between
            try:
                release = rollback(locked=True)
            except BuildFailed as exc:
                for problem in exc.problems:  # the pages the refused rollback would have brought back
                    self.stderr.write(self.style.ERROR(problem))
                raise CommandError(str(exc)) from None
            self.stdout.write(self.style.SUCCESS(f"已回滚：线上版本现在是 {release.name}"))
            for result in sync_live_quietly():  # a failure is recorded on the release
                self.stdout.write(f"{result.location.url}：已同步（上传 {result.uploaded} 个文件）")
