"""A release with one page of every type the public site has, for the browser-verified quality checks
(accessibility, budgets, screenshots): `build_every_page_type` returns {page type: path};
`serve_every_page_type` builds it once for a test module and serves it on loopback."""

from __future__ import annotations

import contextlib
import datetime
from pathlib import Path

from django.db import connection, transaction
from django.test import override_settings

from cms.publishing.builder import build_site, current_release_dir
from tests.support.browser import serve
from tests.support.helpers import (
    make_image,
    make_model,
    make_person,
    make_playbook,
    make_story,
    make_street,
    make_training,
    report_quote,
)

RICH_BODY = [
    ("heading", {"text": "从一张照片开始", "level": "h2"}),
    ("paragraph", '<p>刘阔每天骑着三轮车穿过胡同，看到隐患就拍照发到<a href="/stories/">群里</a>。</p>'),
    ("heading", {"text": "群里的规矩", "level": "h3"}),
    ("paragraph", "<ul><li>先拍照。</li><li>再写清楚位置。</li></ul>"),
    ("quote", "REPORT_QUOTE"),
    ("figure", {"value": "498", "unit": "名", "label": "路客联盟成员", "source": "街道统计"}),
    ("callout", {"tone": "info", "title": "经验", "body": "<p>先建群，再定规矩。</p>"}),
    ("callout", {"tone": "warning", "title": "注意", "body": "<p>不要在群里发住址。</p>"}),
    ("callout", {"tone": "success", "title": "成效", "body": "<p>一年上报隐患三百多条。</p>"}),
    ("dodont", {"do": "把车停在划线车位", "dont": "把电动车推进楼道里充电"}),
]


def _body_with_images(image):
    figure = {"image": image, "caption": "驿站里的充电柜", "credit": "街道供图"}
    gallery = {"title": "驿站一角", "images": [figure, {"image": image, "caption": "休息区", "credit": ""}]}
    body = [("quote", report_quote()) if block == ("quote", "REPORT_QUOTE") else block for block in RICH_BODY]
    return [*body, ("image", figure), ("gallery", gallery)]


def build_every_page_type(tree) -> dict[str, str]:
    """Builds the release (full) and returns the address of one page of each type."""
    from cms.home.models import HomePage, InformationPage

    home, index = tree
    home = HomePage.objects.get(pk=home.pk)
    home.key_figures = [
        ("figure", {"value": "498", "unit": "名", "label": "路客联盟成员", "source": ""}),
        ("figure", {"value": "147", "unit": "栋", "label": "有副楼长的楼", "source": ""}),
        ("figure", {"value": "1000", "unit": "余家", "label": "合作商户", "source": ""}),
    ]
    home.save_revision().publish()

    street = make_street()
    other = make_street(name="回龙观街道", slug="huilongguan", district="昌平区")
    person = make_person(street=street)
    image = make_image()
    story = make_story(
        index,
        title="四年，一条街巷的移动探头",
        tags=["隐患上报", "联动微信群"],
        people=[person],
        street=street,
        image=image,
        featured=True,
        body=_body_with_images(image),
        date=datetime.date(2024, 3, 2),
    )
    # Eleven more, so that the archive has a first page of ten (/stories/page/1/).
    for n in range(11):
        make_story(
            index,
            title=f"第{n + 1}个故事：小哥和社区",
            tags=["隐患上报"] if n % 2 else ["节日关怀"],
            street=other if n % 3 else street,
            image=image if n < 3 else None,
            featured=n < 2,
            date=datetime.date(2023, 1, 1) + datetime.timedelta(days=n),
        )
    make_playbook(home, chapters=3)
    _model, components = make_model(home, streets=[street, other])
    make_training(home, lessons=3)
    privacy = InformationPage(
        title="隐私说明",
        slug="privacy",
        summary="本站不收集读者的任何信息。",
        body=[
            ("heading", {"text": "我们不收集什么", "level": "h2"}),
            ("paragraph", "<ul><li><b>不用 Cookie。</b>每一页都是静态文件。</li><li>没有统计和跟踪代码。</li></ul>"),
            ("heading", {"text": "联系我们", "level": "h2"}),
            ("paragraph", "<p>请通过页面底部的联系方式告诉我们。</p>"),
        ],
    )
    home.add_child(instance=privacy)
    privacy.save_revision().publish()
    build_site(full=True)
    return {
        "home": "/",
        "story": story.url,
        "stories": "/stories/",
        "archive": "/stories/page/1/",
        "tag": "/stories/tag/yin-huan-shang-bao/",
        "street": f"/stories/street/{street.slug}/",
        "playbook": "/playbook/",
        "chapter": "/playbook/chapter-1/",
        "print": "/playbook/print/",
        "changes": "/playbook/changes/",
        "model": "/model/",
        "adoption": "/model/adoption/",
        "model-street": f"/model/street/{street.slug}/",
        "component": components[1].url,
        "training": "/training/",
        "course": "/training/jijiu/",
        "lesson": "/training/jijiu/lesson-1/",
        "search": "/search/",
        "404": "/404.html",
        "privacy": "/privacy/",
    }


@contextlib.contextmanager
def serve_every_page_type(django_db_blocker, tmp_path_factory):
    """Yields (base URL, {page type: path}) of a release built once, for a module-scoped fixture (building is
    the slow part); its rows are rolled back afterwards. The module needs the django_db mark, so that
    pytest-django sets up the test database."""
    from tests.support.helpers import make_tree

    with django_db_blocker.unblock(), transaction.atomic():
        name = str(connection.settings_dict["NAME"])
        assert "memory" in name or Path(name).name.startswith("test"), f"not a test database: {name}"
        with override_settings(SITE_DIR=tmp_path_factory.mktemp("every-page-type") / "site"):
            pages = build_every_page_type(make_tree())
            with serve(current_release_dir()) as url:
                yield url, pages
        transaction.set_rollback(True)
