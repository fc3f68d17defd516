"""The three groups, named in Chinese, and the review workflow on every page.

编辑 (editors) create, edit and submit for review; 审核员 (reviewers) approve or send back, which
publishes; 站点管理员 (site administrators) also manage users, snippets and settings. Wagtail's default
English groups and its "Moderators approval" workflow are replaced.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS, REVIEWERS, ADMINS = "编辑", "审核员", "站点管理员"
WORKFLOW, TASK = "审核后发布", "审核员审核"

PAGE = {
    EDITORS: ["add_page", "change_page"],
    REVIEWERS: ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"],
    ADMINS: ["add_page", "change_page", "publish_page", "bulk_delete_page", "lock_page", "unlock_page"],
}
COLLECTION = {
    EDITORS: [("wagtailimages", "add_image"), ("wagtailimages", "change_image"), ("wagtailimages", "choose_image"),
              ("wagtaildocs", "add_document"), ("wagtaildocs", "change_document"), ("wagtaildocs", "choose_document")],
}  # fmt: skip
COLLECTION[REVIEWERS] = COLLECTION[EDITORS] + [("wagtailimages", "delete_image"), ("wagtaildocs", "delete_document")]
COLLECTION[ADMINS] = COLLECTION[REVIEWERS]
MODEL = {
    EDITORS: [("core", "view_street"), ("core", "view_person"), ("core", "add_tag"), ("core", "view_tag")],
    REVIEWERS: [("core", "view_street"), ("core", "change_street"), ("core", "view_person"), ("core", "change_person"),
                ("core", "add_tag"), ("core", "view_tag"), ("core", "change_tag")],
    ADMINS: [(app, f"{verb}_{model}") for app, model in (("core", "street"), ("core", "person"), ("core", "tag"),
             ("core", "sitesettings"), ("users", "user")) for verb in ("add", "change", "delete", "view")]
    + [("auth", "view_group"), ("auth", "change_group"), ("wagtailcore", "view_workflow")],
}  # fmt: skip


def perm(apps, app_label, codename):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations; these groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    ReviewTask = apps.get_model("editorial", "ReviewTask")

    root = Page.objects.filter(depth=1).first()
    collection = Collection.objects.filter(depth=1).first()
    groups = {}
    for name in (EDITORS, REVIEWERS, ADMINS):
        group, _ = Group.objects.get_or_create(name=name)
        groups[name] = group
        group.permissions.add(perm(apps, "wagtailadmin", "access_admin"))
        for app_label, codename in MODEL[name]:
            p = perm(apps, app_label, codename)
            if p:
                group.permissions.add(p)
        if root:
            for codename in PAGE[name]:
                GroupPagePermission.objects.get_or_create(
                    group=group, page=root, permission=perm(apps, "wagtailcore", codename)
                )
        if collection:
            for app_label, codename in COLLECTION[name]:
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=collection, permission=perm(apps, app_label, codename)
                )

    # Wagtail's default groups and workflow, in English, give way to ours.
    Group.objects.filter(name__in=["Editors", "Moderators"]).delete()
    Workflow.objects.filter(name="Moderators approval").update(active=False)
    WorkflowPage.objects.all().delete()

    task_type, _ = ContentType.objects.get_or_create(app_label="editorial", model="reviewtask")
    task = ReviewTask.objects.filter(name=TASK).first()
    if task is None:
        task = ReviewTask.objects.create(name=TASK, active=True, content_type=task_type)
    task.groups.set([groups[REVIEWERS]])
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW, defaults={"active": True})
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    if root:
        WorkflowPage.objects.update_or_create(page=root, defaults={"workflow": workflow})


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[EDITORS, REVIEWERS, ADMINS]).delete()
    apps.get_model("wagtailcore", "Workflow").objects.filter(name=WORKFLOW).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("editorial", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailadmin", "0006_formstate"),
        ("core", "0001_initial"),
        ("users", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
