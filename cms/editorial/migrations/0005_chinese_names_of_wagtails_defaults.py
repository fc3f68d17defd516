"""What Wagtail's own migrations named in English, and editors read in the admin, named in Chinese.

The root of the page tree ("Root": the explorer's top, every breadcrumb) becomes 根目录. Wagtail's default
workflow and task ("Moderators approval"), which 0002 replaced by 审核后发布 and left unused, keep existing (a
site may hold their history) under a name that says so, and the task stops being offered.
"""

from django.db import migrations

ROOT = ("Root", "根目录")
DEFAULTS = ("Moderators approval", "Wagtail 默认审批（未使用）")


def rename(apps, old_new):
    (root_old, root_new), (default_old, default_new) = old_new
    Page = apps.get_model("wagtailcore", "Page")
    Page.objects.filter(depth=1, title=root_old).update(title=root_new)
    Page.objects.filter(depth=1, draft_title=root_old).update(draft_title=root_new)
    apps.get_model("wagtailcore", "Workflow").objects.filter(name=default_old).update(name=default_new)
    apps.get_model("wagtailcore", "Task").objects.filter(name=default_old).update(name=default_new)


def forwards(apps, schema_editor):
    rename(apps, (ROOT, DEFAULTS))
    Task = apps.get_model("wagtailcore", "Task")
    TaskState = apps.get_model("wagtailcore", "TaskState")
    for task in Task.objects.filter(name=DEFAULTS[1], active=True):
        if not TaskState.objects.filter(task=task, status="in_progress").exists():
            task.active = False
            task.save(update_fields=["active"])


def backwards(apps, schema_editor):
    rename(apps, (ROOT[::-1], DEFAULTS[::-1]))


class Migration(migrations.Migration):
    dependencies = [("editorial", "0004_share_link_permissions"), ("wagtailcore", "0098_apitoken")]
    operations = [migrations.RunPython(forwards, backwards)]
