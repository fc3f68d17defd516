"""Every group may make, list and revoke share links (editors share drafts with outside reviewers)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["编辑", "审核员", "站点管理员"]


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("editorial")
    app_config.models_module = True  # a migration's app stub: let create_permissions run now
    create_permissions(app_config, apps=apps, verbosity=0)
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="editorial", codename__endswith="_sharelink")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [("editorial", "0003_sharelink"), ("editorial", "0002_groups_and_review_workflow")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
