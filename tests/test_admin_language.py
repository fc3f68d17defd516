"""The admin speaks Chinese to editors and reviewers: every screen they reach, in every state of review.

The walk logs in as an editor and as a reviewer (the groups of cms/editorial's migration), opens each screen their
work takes them to (the dashboard, the page explorer, creating and editing each page type, the states of review,
history, images, documents, snippets, share links, the reports their menu offers, the account page and the
choosers) with Django's test client, and finds no English in what a person reads there (tests/support/admin_text.py).
Strings that reach the browser through JavaScript are checked in the catalogs: every string of Wagtail's own
catalogs has a Chinese translation, from Wagtail or from the project's locale/.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real
from wagtail.models import Page

from cms.documents.models import CustomDocument
from cms.home.models import InformationPage
from tests.support.admin_text import english_in
from tests.support.helpers import (
    make_image,
    make_model,
    make_person,
    make_playbook,
    make_story,
    make_street,
    make_training,
)

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"
PEOPLE = {"editor": ("编辑", "王", "小红"), "reviewer": ("审核员", "李", "审"), "reviewer2": ("审核员", "张", "核")}
# User content that is not Chinese: user names (the account page shows them) and the document's file name.
USER_CONTENT = frozenset({"editor", "reviewer", "reviewer2"})


def submit_as(page, user):
    page = page.specific
    page.save_revision(user=user)
    page.get_workflow().start(page, user)
    return Page.objects.get(pk=page.pk).specific


def act(page, user, action):
    state = Page.objects.get(pk=page.pk).current_workflow_task_state
    state.task.specific.on_action(state, user, action)


@pytest.fixture
def newsroom(tree, django_user_model):
    """A site in every state an editor and a reviewer meet: live pages of each type, a draft, a story in review,
    one sent back, one a reviewer wrote, one approved; an image, a document, a street and a person."""
    home, index = tree
    users = {}
    for name, (group, last, first) in PEOPLE.items():
        user = django_user_model.objects.create_user(
            username=name, password=PASSWORD, first_name=first, last_name=last, email=f"{name}@example.cn"
        )
        user.groups.add(Group.objects.get(name=group))
        users[name] = user
    street = make_street()
    person = make_person(street=street)
    image = make_image()
    document = CustomDocument.objects.create(title="报名表", file=SimpleUploadedFile("baoming.txt", "报名表".encode()))
    live = make_story(index, title="已经发布的故事", street=street, image=image, people=[person], tags=["骑士驿站"])
    live.title = "已经发布的故事（修改中）"
    live.save_revision(user=users["editor"])
    draft = make_story(index, title="还没提交的草稿", publish=False)
    in_review = submit_as(make_story(index, title="等待审核的故事", publish=False), users["editor"])
    sent_back = submit_as(make_story(index, title="退回修改的故事", publish=False), users["editor"])
    act(sent_back, users["reviewer"], "reject")
    reviewers_own = submit_as(make_story(index, title="审核员自己写的故事", publish=False), users["reviewer2"])
    approved = submit_as(make_story(index, title="已经批准的故事", publish=False), users["editor"])
    act(approved, users["reviewer"], "approve")
    playbook, (chapter,) = make_playbook(home, chapters=1)
    model, components = make_model(home, streets=[street])
    training, course, (lesson,) = make_training(home, lessons=1)
    info = InformationPage(title="隐私说明", slug="privacy", summary="本站如何处理个人信息。", body=[])
    home.add_child(instance=info)
    info.save_revision().publish()
    return {
        "users": users, "home": home, "index": index, "live": live, "draft": draft, "in_review": in_review,
        "sent_back": sent_back, "reviewers_own": reviewers_own, "approved": approved, "playbook": playbook,
        "chapter": chapter, "model": model, "component": components[1], "training": training, "course": course,
        "lesson": lesson, "info": info, "image": image, "document": document, "street": street, "person": person,
    }  # fmt: skip


def screens(site) -> dict[str, str]:
    """Each screen of the walk: its name and its address."""
    pages = {name: site[name] for name in ("home", "info", "index", "live", "playbook", "chapter", "model",
                                           "component", "training", "course", "lesson")}  # fmt: skip
    live, home = site["live"], site["home"]
    revisions = list(live.revisions.order_by("pk").values_list("pk", flat=True))
    walk = {
        "控制面板": reverse("wagtailadmin_home"),
        "页面树的根": reverse("wagtailadmin_explore_root"),
        "首页之下的页面": reverse("wagtailadmin_explore", args=[home.pk]),
        "故事栏目之下的页面": reverse("wagtailadmin_explore", args=[site["index"].pk]),
        "页面搜索": reverse("wagtailadmin_pages:search") + "?q=故事",
        "没有结果的页面搜索": reverse("wagtailadmin_pages:search") + "?q=没有这个词",
        "选择新页面的类型": reverse("wagtailadmin_pages:add_subpage", args=[home.pk]),
    }
    for name, page in pages.items():
        walk[f"编辑页面：{name}"] = reverse("wagtailadmin_pages:edit", args=[page.pk])
    for model, parent in (("home.informationpage", home), ("stories.storypage", site["index"]),
                          ("playbook.playbookchapterpage", site["playbook"]),
                          ("governance.componentpage", site["model"]), ("training.coursepage", site["training"]),
                          ("training.lessonpage", site["course"])):  # fmt: skip
        app_label, model_name = model.split(".")
        walk[f"新建页面：{model}"] = reverse("wagtailadmin_pages:add", args=[app_label, model_name, parent.pk])
    for state in ("draft", "in_review", "sent_back", "reviewers_own", "approved"):
        walk[f"编辑页面：{state}"] = reverse("wagtailadmin_pages:edit", args=[site[state].pk])
        walk[f"审核记录：{state}"] = reverse("wagtailadmin_pages:workflow_history", args=[site[state].pk])
    approved = site["approved"]
    walk["审核记录详情"] = reverse(
        "wagtailadmin_pages:workflow_history_detail", args=[approved.pk, approved.workflow_states.first().pk]
    )
    walk["页面历史"] = reverse("wagtailadmin_pages:history", args=[live.pk])
    walk["版本对比"] = reverse("wagtailadmin_pages:revisions_compare", args=[live.pk, "live", revisions[-1]])
    walk["旧版本"] = reverse("wagtailadmin_pages:revisions_revert", args=[live.pk, revisions[0]])
    walk["页面的引用"] = reverse("wagtailadmin_pages:usage", args=[live.pk])
    walk["复制页面"] = reverse("wagtailadmin_pages:copy", args=[live.pk])
    walk["移动页面"] = reverse("wagtailadmin_pages:move", args=[live.pk])
    walk["取消发布"] = reverse("wagtailadmin_pages:unpublish", args=[live.pk])
    walk["取消审核的确认"] = reverse("wagtailadmin_pages:confirm_workflow_cancellation", args=[site["in_review"].pk])
    state = site["in_review"].current_workflow_task_state
    for action in ("approve", "reject"):
        walk[f"审核对话框：{action}"] = reverse(
            "wagtailadmin_pages:workflow_action", args=[site["in_review"].pk, action, state.pk]
        )
    walk["访问权限对话框"] = reverse("wagtailadmin_pages:set_privacy", args=[live.pk])
    image, document = site["image"], site["document"]
    walk |= {
        "图片": reverse("wagtailimages:index"),
        "编辑图片": reverse("wagtailimages:edit", args=[image.pk]),
        "上传图片": reverse("wagtailimages:add_multiple"),
        "图片的地址": reverse("wagtailimages:url_generator", args=[image.pk]),
        "图片的引用": reverse("wagtailimages:image_usage", args=[image.pk]),
        "选择图片对话框": reverse("wagtailimages_chooser:choose"),
        "文档": reverse("wagtaildocs:index"),
        "编辑文档": reverse("wagtaildocs:edit", args=[document.pk]),
        "上传文档": reverse("wagtaildocs:add_multiple"),
        "选择文档对话框": reverse("wagtaildocs_chooser:choose"),
        "选择页面对话框": reverse("wagtailadmin_choose_page"),
        "选择页面对话框：故事栏目": reverse("wagtailadmin_choose_page_child", args=[site["index"].pk]),
        "外部链接对话框": reverse("wagtailadmin_choose_page_external_link"),
        "邮件链接对话框": reverse("wagtailadmin_choose_page_email_link"),
        "电话链接对话框": reverse("wagtailadmin_choose_page_phone_link"),
        "锚点链接对话框": reverse("wagtailadmin_choose_page_anchor_link"),
        "片段": reverse("wagtailsnippets:index"),
        "街道": reverse("wagtailsnippets_core_street:list"),
        "编辑街道": reverse("wagtailsnippets_core_street:edit", args=[site["street"].pk]),
        "人物": reverse("wagtailsnippets_core_person:list"),
        "编辑人物": reverse("wagtailsnippets_core_person:edit", args=[site["person"].pk]),
        "选择人物对话框": reverse("wagtailsnippetchoosers_core_person:choose"),
        "分享预览链接": reverse("share_links:index"),
        "新建分享预览链接": reverse("share_links:add") + f"?page={live.pk}",
        "账户": reverse("wagtailadmin_account"),
        "工作流报告": reverse("wagtailadmin_reports:workflow"),
        "工作流任务报告": reverse("wagtailadmin_reports:workflow_tasks"),
        "网站历史": reverse("wagtailadmin_reports:site_history"),
        "较早的页面": reverse("wagtailadmin_reports:aging_pages"),
        "页面类型的使用": reverse("wagtailadmin_reports:page_types_usage"),
        "锁定的页面": reverse("wagtailadmin_reports:locked_pages"),
        "待审核": reverse("wagtailadmin_pages:workflow_preview", args=[site["in_review"].pk, state.task_id]),
    }
    return walk


def menu_urls(html: str) -> set[str]:
    """The addresses of the sidebar's menu (its JSON props)."""
    props = re.search(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', html, re.S)
    found = set()

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("url"), str) and value.get("name") not in ("help", "editor-guide"):
                found.add(value["url"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(json.loads(props.group(1)))
    return {url for url in found if url.startswith("/admin/") and "logout" not in url}


def page_html(response) -> str:
    """A screen's markup; a modal's comes as JSON with its markup inside."""
    if response["Content-Type"].startswith("application/json"):
        data = json.loads(response.content)
        return "".join(v for v in data.values() if isinstance(v, str) and "<" in v)
    return response.content.decode()


@pytest.mark.parametrize("role", ["editor", "reviewer"])
def test_every_screen_of_an_editor_and_a_reviewer_is_in_chinese(client, newsroom, role):
    client.force_login(newsroom["users"][role])
    walk = screens(newsroom)
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    unwalked = {url for url in menu_urls(dashboard) if not any(w.split("?")[0] == url for w in walk.values())}
    assert not unwalked, f"the menu leads to screens the walk does not open: {unwalked}"
    english, seen = {}, 0
    for name, url in walk.items():
        response = client.get(url)
        if response.status_code in (302, 403, 404) and name not in ALWAYS[role]:
            continue  # not this role's screen
        assert response.status_code == 200, (name, url, response.status_code)
        seen += 1
        found = english_in(page_html(response), USER_CONTENT)
        if found:
            english[f"{name} {url}"] = found
    if os.environ.get("XG_LANGUAGE_REPORT"):  # to list what is left while translating
        Path(os.environ["XG_LANGUAGE_REPORT"]).write_text(json.dumps(english, ensure_ascii=False, indent=1))
    report = "\n".join(f"{name}:\n    " + "\n    ".join(texts) for name, texts in english.items())
    assert not english, f"English on {len(english)} of {seen} screens:\n{report}"
    assert seen >= MINIMUM[role], seen


# The screens each role must reach (a 302 or 403 there would hide a screen from the walk).
ALWAYS = {
    "editor": {"控制面板", "页面树的根", "故事栏目之下的页面", "页面搜索", "编辑页面：story", "编辑页面：in_review",
               "编辑页面：sent_back", "新建页面：stories.storypage", "图片", "文档", "街道", "账户", "分享预览链接"},
    "reviewer": {"控制面板", "故事栏目之下的页面", "编辑页面：in_review", "审核对话框：approve", "审核对话框：reject",
                 "编辑页面：reviewers_own", "图片", "文档", "街道", "编辑街道", "账户", "锁定的页面"},
}  # fmt: skip
MINIMUM = {"editor": 50, "reviewer": 55}


def wagtail_msgids(domain: str):
    """(context, msgid, plural) of every message in the English catalogs of Wagtail's installed apps."""
    from cms.editorial.po import read_po

    for app in apps.get_app_configs():
        po = Path(app.path) / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po"
        if app.name.startswith("wagtail") and po.exists():
            for entry in read_po(po):
                if entry.msgid:
                    yield app.name, entry


def merged_catalog(t) -> dict:
    catalog = {}
    while t is not None:
        for key, value in t._catalog.items():
            catalog.setdefault(key, value)
        t = getattr(t, "_fallback", None)
    return catalog


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_string_of_wagtail_has_a_chinese_translation(domain):
    """What the walk cannot see (messages after an action, e-mails, what scripts render) is in the catalogs."""
    with translation.override("zh-hans"):
        if domain == "django":
            catalog = merged_catalog(trans_real.translation("zh-hans"))
        else:
            admin = os.path.join(apps.get_app_config("wagtailadmin").path, "locale")
            catalog = merged_catalog(trans_real.DjangoTranslation("zh-hans", domain=domain, localedirs=[admin]))
    missing = []
    for app, entry in wagtail_msgids(domain):
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        value = catalog.get((key, 0)) if entry.msgid_plural else catalog.get(key)
        if not value:
            missing.append(f"{app}: {entry.msgid!r}")
    assert not missing, f"{len(missing)} strings without a translation:\n" + "\n".join(missing)


# Wagtail's templates with an English word in them, overridden in cms/editorial/templates: ours, less these
# changes, must be Wagtail's (a Wagtail upgrade that changes one fails here, and the copy is made again).
OVERRIDES = {
    "wagtailadmin/home.html": [("value=\"{% translate 'Search' %}\"", 'value="Search"')],
    "wagtailadmin/shared/header.html": [("value=\"{% translate 'Search' %}\"", 'value="Search"')],
    "wagtailadmin/shared/headers/_actions.html": [
        ("{% load i18n %}{# Actions divider #}", "{# Actions divider #}"),
        ("aria-label=\"{% translate 'Actions' %}\"", 'aria-label="Actions"'),
    ],
    "wagtailadmin/shared/user_avatar.html": [
        ("{% load wagtailadmin_tags i18n %}", "{% load wagtailadmin_tags %}"),
        ("{% if user %}{{ user }}{% else %}{% translate 'System' %}{% endif %}", "{{ user }}"),
    ],
}


@pytest.mark.parametrize("name", OVERRIDES)
def test_overridden_templates_are_wagtails_but_for_the_translated_words(name):
    from django.template.loader import get_template

    ours = Path(apps.get_app_config("editorial").path) / "templates" / name
    assert get_template(name).origin.name == str(ours), "ours is the one Django finds"
    text = ours.read_text()
    for changed, original in OVERRIDES[name]:
        assert changed in text
        text = text.replace(changed, original)
    assert text == (Path(apps.get_app_config("wagtailadmin").path) / "templates" / name).read_text()


def test_the_committed_catalogs_are_compiled_from_their_po_files():
    from django.core.management import call_command

    call_command("compile_locale", "--check")  # raises CommandError when a .mo is stale


def test_compiling_without_gettext_gives_the_catalogs_msgfmt_gave_wagtail():
    """Our .po reader and .mo writer against GNU msgfmt's output: Wagtail's own compiled catalogs."""
    import gettext
    import io

    from cms.editorial.po import mo_bytes, read_po

    root = Path(apps.get_app_config("wagtailadmin").path) / "locale"
    for language in ("zh_Hans", "ja", "ru", "ar"):  # no plural forms, two, three, six
        for domain in ("django", "djangojs"):
            po = root / language / "LC_MESSAGES" / f"{domain}.po"
            ours = gettext.GNUTranslations(io.BytesIO(mo_bytes(read_po(po))))._catalog
            theirs = gettext.GNUTranslations(po.with_suffix(".mo").open("rb"))._catalog
            ours.pop("", None), theirs.pop("", None)  # the header: Wagtail's .po was touched after compiling
            assert ours == theirs, po


def test_a_chinese_name_is_written_family_name_first(django_user_model):
    """The admin names people by their full name (history, review, locks): 王小红, not "小红 王"."""
    assert django_user_model(first_name="小红", last_name="王").get_full_name() == "王小红"
    assert django_user_model(first_name="Ada", last_name="Lovelace").get_full_name() == "Ada Lovelace"
