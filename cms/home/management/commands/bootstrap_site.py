"""Create the page tree (the home page, the default site, the stories section) and a development admin.
Safe to run any number of times. It lives in `home`, the app of the tree's root; core knows no content app."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from wagtail.models import Page, Site

from cms.home.models import HomePage
from cms.stories.models import StoryIndexPage

DEV_ADMIN_USERNAME = "admin"
DEV_ADMIN_PASSWORD = "xiaoge-dev-2026"  # noqa: S105 - development only; printed by `make run`


class Command(BaseCommand):
    help = "创建页面树（首页、故事栏目）和开发用管理员账号；重复运行不会改变已有内容。"

    def add_arguments(self, parser):
        parser.add_argument("--no-admin", action="store_true", help="不创建开发用管理员账号")

    @transaction.atomic
    def handle(self, *args, **options):
        home = HomePage.objects.first()
        if home is None:
            root = Page.get_first_root_node()
            # Wagtail's initial migration creates a placeholder "Welcome" page; replace it.
            for page in root.get_children().exact_type(Page):
                page.delete()
            home = root.add_child(
                instance=HomePage(
                    title="小哥：快递小哥参与社区治理",
                    slug="home",
                    lead="快递员、外卖骑手每天走遍社区的每一条街巷。街道把他们请进社区治理，也为他们提供培训、驿站和关怀。"
                    "这里记录他们的故事，并把做法整理成其他街道可以照着做的手册和模式。",
                    seo_title="小哥：快递小哥参与社区治理",
                    search_description="快递小哥参与社区治理的故事、政策手册、培训课程与可复制的治理模式。",
                )
            )
            self.stdout.write("已创建首页")
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="小哥")
        elif site.root_page_id != home.pk:
            site.root_page = home
            site.site_name = "小哥"
            site.save()
        if not StoryIndexPage.objects.exists():
            index = StoryIndexPage(
                title="故事",
                slug="stories",
                intro="小哥们在街巷里做的事：上报隐患、看望独居老人、在驿站歇脚、和居民一起包饺子。",
                search_description="快递小哥参与社区治理的故事，按时间、标签和街道浏览。",
                show_in_menus=True,
            )
            home.add_child(instance=index)
            index.save_revision().publish()
            self.stdout.write("已创建故事栏目")
        if not options["no_admin"]:
            self.ensure_dev_admin()

    def ensure_dev_admin(self):
        User = get_user_model()
        username = os.environ.get("DEV_ADMIN_USERNAME", DEV_ADMIN_USERNAME)
        if not User.objects.filter(username=username).exists():
            User.objects.create_superuser(
                username=username,
                email="admin@example.org",
                password=os.environ.get("DEV_ADMIN_PASSWORD", DEV_ADMIN_PASSWORD),
                first_name="开发",
                last_name="管理员",
            )
            self.stdout.write(f"已创建开发用管理员账号 {username}")
        # An editor and a reviewer, to try the review workflow (same development password).
        from django.contrib.auth.models import Group

        password = os.environ.get("DEV_ADMIN_PASSWORD", DEV_ADMIN_PASSWORD)
        for name, group, first in (("editor", "编辑", "编辑"), ("reviewer", "审核员", "审核员")):
            if User.objects.filter(username=name).exists() or not Group.objects.filter(name=group).exists():
                continue
            user = User.objects.create_user(
                username=name, email=f"{name}@example.org", password=password, first_name=first, last_name="测试"
            )
            user.groups.add(Group.objects.get(name=group))
            self.stdout.write(f"已创建开发用账号 {name}（{group}）")
