"""Training as a courier meets it, rendered by the CMS and built into the release; and its import format."""

import json

import pytest

from cms.content_io.importer import run_import
from cms.publishing.builder import build_site, current_release_dir
from cms.training.models import LessonPage
from tests.support.helpers import make_training
from tests.support.import_fixtures import good_tree, write_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(tree):
    home, _index = tree
    return make_training(home, lessons=3)


def test_a_lesson_has_its_points_body_quiz_and_sources(client, course):
    _training, _course, lessons = course
    html = client.get(lessons[1].url).content.decode()
    assert "第 2 课，共 3 课" in html and "约 4 分钟" in html
    assert "第2课要点一" in html and "<li>确认周围安全。</li>" in html
    assert "把车停在划线车位" in html and "把电动车推进楼道里充电" in html
    # Every answer and its explanation are in the page, for readers without JavaScript.
    assert html.count('type="radio"') == 5 and html.count("<details") == 2
    assert "正确答案：120" in html and "医疗急救打120。" in html
    assert "中国红十字会救护员培训" in html
    assert 'rel="prev"' in html and 'rel="next"' in html
    assert 'rel="manifest" href="/training/manifest.webmanifest"' in html


def test_a_course_lists_its_lessons_and_offers_to_save_them(client, course):
    _training, course_page, lessons = course
    html = client.get(course_page.url).content.decode()
    assert "3 课，共约 12 分钟" in html and "适合：快递员、外卖骑手" in html
    assert all(lesson.title in html for lesson in lessons)
    urls = json.loads(html.split('data-urls="')[1].split('"')[0].replace("&quot;", '"'))
    assert urls == [course_page.url, *[lesson.url for lesson in lessons]]


def test_the_service_worker_and_manifest_are_published(client, course, settings, tmp_path):
    training, _course, _lessons = course
    worker = client.get(training.url + "sw.js")
    assert worker["Content-Type"].startswith("text/javascript") and worker["Service-Worker-Allowed"] == "/training/"
    assert '"/training/"' in worker.content.decode() and "/static/js/training" in worker.content.decode()
    manifest = json.loads(client.get(training.url + "manifest.webmanifest").content)
    assert manifest["start_url"] == "/training/" and manifest["lang"] == "zh-CN"
    settings.SITE_DIR = tmp_path / "site"
    build_site(full=True)
    live = current_release_dir()
    for rel in [
        "training/index.html",
        "training/sw.js",
        "training/manifest.webmanifest",
        "training/jijiu/lesson-1/index.html",
    ]:
        assert (live / rel).is_file(), rel


def release_manifest_icons(settings, tmp_path) -> tuple[object, list[dict]]:
    settings.SITE_DIR = tmp_path / "site"
    build_site(full=True)
    live = current_release_dir()
    manifest = json.loads((live / "training" / "manifest.webmanifest").read_text())
    return live, [icon for icon in manifest["icons"] if icon["type"] == "image/png"]


def test_the_manifest_lists_png_icons_of_the_right_sizes_one_maskable(course, settings, tmp_path):
    """An install prompt needs PNG icons of 192 and 512 px; launchers that cut icons to shapes need a maskable one
    whose mark stays inside the central circle (80 % of the width) on a background that fills the square."""
    from django.contrib.staticfiles import finders
    from PIL import Image

    _live, pngs = release_manifest_icons(settings, tmp_path)
    assert {(icon["sizes"], icon["purpose"]) for icon in pngs} == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    }
    for icon in pngs:
        name = icon["src"].removeprefix(settings.STATIC_URL)
        name = ".".join(part for part in name.split(".") if not (len(part) == 12 and part.isalnum()))  # hash
        with Image.open(finders.find(name)) as image:
            assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"], icon
            if icon["purpose"] == "maskable":
                rgba = image.convert("RGBA")
                size = image.width
                background = rgba.getpixel((0, 0))
                assert background[3] == 255, "a maskable icon is opaque to its corners"
                # Outside the safe circle there is only background; inside it, the mark.
                for x in range(0, size, 8):
                    for y in range(0, size, 8):
                        if (x - size / 2) ** 2 + (y - size / 2) ** 2 > (0.4 * size) ** 2:
                            assert rgba.getpixel((x, y)) == background, (x, y)
                assert rgba.getpixel((size // 2, size // 2)) != background


def test_the_release_serves_the_icons_the_manifest_names(course, settings, tmp_path):
    live, pngs = release_manifest_icons(settings, tmp_path)
    missing = [icon["src"] for icon in pngs if not (live / icon["src"].lstrip("/")).is_file()]
    assert not missing, missing


def test_training_files_import_nested_with_quizzes(tmp_path, tree):
    root = good_tree(tmp_path)
    write_files(
        root,
        {
            "training/_index.md": "---\ntitle: 培训\nintro: 写给小哥的短课。\n---\n",
            "training/jijiu/_index.md": (
                "---\ntitle: 急救常识\norder: 1\nsummary: 先保安全。\naudience: 快递员\n---\n课程介绍。\n"
            ),
            "training/jijiu/cpr.md": (
                "---\ntitle: 心肺复苏\norder: 1\nduration: 6\nkey_points: [一, 二, 三]\nsources: [中国红十字会]\n"
                "quiz:\n  - question: 按压频率？\n    options: [每分钟100到120次, 越快越好]\n    answer: 1\n"
                "    explanation: 指南如此。\n---\n\n正文。\n\n::: dodont\ndo: 用力按\ndont: 停下来等\n:::\n"
            ),
        },
    )
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    lesson = LessonPage.objects.get()
    assert lesson.get_parent().slug == "jijiu" and lesson.duration == 6
    assert lesson.quiz[0].value["answer"] == 1 and list(lesson.quiz[0].value["options"])[1] == "越快越好"
    assert [b.block_type for b in lesson.body] == ["paragraph", "dodont"]


@pytest.mark.parametrize(
    ("rel", "text", "field", "reason"),
    [
        (
            "training/jijiu/cpr.md",
            "---\ntitle: 心肺复苏\norder: 1\nduration: 6\nkey_points: [一, 二, 三]\n"
            "quiz:\n  - {question: 频率？, options: [甲, 乙], answer: 3, explanation: 因为。}\n---\n正文。\n",
            "quiz[1].answer",
            "answer 是第几个选项（1 到 2）",
        ),
        (
            "training/jijiu/cpr.md",
            "---\ntitle: 心肺复苏\norder: 1\nduration: 6\nkey_points: [一, 二]\n---\n正文。\n",
            "key_points",
            "至少要有 3 项",
        ),
        ("training/loose.md", "---\ntitle: 放错了\n---\n正文。\n", None, "每门课放在自己的文件夹里"),
        (
            "training/nocourse/cpr.md",
            "---\ntitle: 没有课程\norder: 1\nduration: 3\nkey_points: [一, 二, 三]\n---\n正文。\n",
            None,
            "缺少 training/nocourse/_index.md",
        ),
        (
            "training/jijiu/cpr.md",
            "---\ntitle: 心肺复苏\norder: 1\nduration: 6\nkey_points: [一, 二, 三]\n---\n"
            "::: dodont\ndo: 只有一半\n:::\n",
            None,
            "::: dodont 里要写两行",
        ),
    ],
)  # fmt: skip
def test_bad_training_files_are_refused_with_the_reason(tmp_path, tree, rel, text, field, reason):
    root = good_tree(tmp_path)
    write_files(
        root,
        {
            "training/_index.md": "---\ntitle: 培训\nintro: 短课。\n---\n",
            "training/jijiu/_index.md": "---\ntitle: 急救常识\norder: 1\nsummary: 先保安全。\naudience: 快递员\n---\n",
            rel: text,
        },
    )
    report, _ = run_import(root, publish=True)
    assert not report.ok
    assert any(
        p.path == rel and reason in p.message and (field is None or p.field == field) for p in report.rejected
    ), "\n".join(map(str, report.rejected))
    assert not LessonPage.objects.exists()
