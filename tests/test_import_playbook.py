"""Importing the playbook and the model: structured fields are checked item by item, with the file, the
field (steps[2].who) and the reason; templates are imported as documents; order puts chapters in place."""

from __future__ import annotations

import pytest

from cms.content_io.importer import run_import
from cms.documents.models import CustomDocument
from cms.governance.models import ComponentPage
from cms.playbook.models import PlaybookChange, PlaybookChapterPage
from tests.support.import_fixtures import counts, good_tree, write_files

pytestmark = pytest.mark.django_db

BOOK_INDEX = "---\ntitle: 政策手册\nintro: 写给想启动项目的街道。\n---\n\n按步骤读。\n"
MODEL_INDEX = "---\ntitle: 治理模式\nintro: 一个联动机制连起 n 个组件。\n---\n"


def chapter(title: str, order: int, *, steps: str | None = None, extra: str = "") -> str:
    steps = steps or (
        "steps:\n"
        "  - title: 联系站点负责人\n    who: 街道党群工作部门\n    time: 约2周（参考值）\n    cost: 无需专项经费\n"
        "    needs: 站点名单\n"
        "  - title: 召开见面会\n    who: 社区书记\n    time: 半天\n    cost: 无\n    needs: 会议室\n"
    )
    return (
        f"---\ntitle: {title}\norder: {order}\nsummary: {title}的摘要。\npurpose: 为什么做这一步。\n{steps}"
        "checklist: [已确定牵头科室, 已建群]\n"
        "cases:\n  - street: taoranting\n    text: 陶然亭的做法。\n    stories: [../stories/good.md]\n"
        f"{extra}---\n\n正文。\n"
    )


def component(title: str, order: int, *, role: str = "component", extra: str = "") -> str:
    return (
        f"---\ntitle: {title}\norder: {order}\nrole: {role}\nsummary: {title}是什么。\nproblem: 它解决的问题。\n"
        "who_runs: 街道\nneeds_people: 一名联络人\nneeds_space: 无\nneeds_money: 无需专项经费\n"
        "playbook: ../playbook/start.md\nmeasures: [上报问题数]\nrisks: [流于形式]\n"
        "adoptions:\n  - street: taoranting\n    stage: running\n    since: 2022年\n    runner: 陶然亭街道\n"
        "    note: 在运行。\n"
        f"{extra}---\n"
    )


@pytest.fixture
def root(tmp_path, tree):
    content = good_tree(tmp_path)
    return write_files(
        content,
        {
            "playbook/_index.md": BOOK_INDEX,
            "playbook/start.md": chapter(
                "决定启动", 1, extra="templates:\n  - file: templates/rules.txt\n    title: 群规\n"
            ),
            "playbook/census.md": chapter("摸清底数", 2, extra="change_note: 首次发布\nchange_kind: major\n"),
            "playbook/templates/rules.txt": "群规模板\n",
            "model/_index.md": MODEL_INDEX,
            "model/hub.md": component("联动微信群", 1, role="hub"),
            "model/station.md": component("骑士驿站", 2),
        },
    )


def test_the_playbook_and_model_import_with_everything_in_place(root):
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    chapters = list(PlaybookChapterPage.objects.order_by("path"))
    assert [c.title for c in chapters] == ["决定启动", "摸清底数"], "ordered by `order`, not by file name"
    start = chapters[0]
    assert [b.value["who"] for b in start.steps] == ["街道党群工作部门", "社区书记"]
    assert [b.value for b in start.checklist] == ["已确定牵头科室", "已建群"]
    case = start.cases[0].value
    assert case["street"].slug == "taoranting" and case["stories"][0].slug == "good"
    document = start.templates[0].value["document"]
    assert document.title == "群规" and document.file.read() == "群规模板\n".encode()
    assert PlaybookChange.objects.get().note == "首次发布"
    hub = ComponentPage.objects.get(role="hub")
    assert hub.playbook_chapter_id == start.pk
    assert [(a.street.slug, a.stage, a.since) for a in hub.adoptions.all()] == [("taoranting", "running", "2022年")]


def test_reordering_files_moves_the_chapters(root):
    run_import(root, publish=True)
    write_files(root, {"playbook/start.md": chapter("决定启动", 3), "playbook/census.md": chapter("摸清底数", 1)})
    report, _ = run_import(root, publish=True)
    assert report.ok, [str(p) for p in report.rejected]
    assert [c.title for c in PlaybookChapterPage.objects.order_by("path")] == ["摸清底数", "决定启动"]


@pytest.mark.parametrize(
    ("rel", "text", "field", "reason"),
    [
        (
            "playbook/census.md",
            chapter("摸清底数", 2, steps="steps:\n  - title: 只有标题\n"),
            "steps[1].who",
            "缺少必填字段",
        ),
        ("playbook/census.md", chapter("摸清底数", 2, steps="steps: []\n"), "steps", "至少要有 1 项"),
        ("playbook/census.md", chapter("摸清底数", 2, steps="steps: 联系站点\n"), "steps", "应是列表"),
        ("playbook/census.md", chapter("摸清底数", 1), "order", "order 1 与 playbook/"),
        (
            "playbook/census.md",
            chapter("摸清底数", 2, extra="change_kind: big\n"),
            "change_kind",
            "只能是 major / minor 之一",
        ),
        (
            "playbook/census.md",
            chapter("摸清底数", 2, extra="templates:\n  - file: templates/missing.docx\n    title: 缺失\n"),
            "templates[1].file",
            "找不到文档文件",
        ),
        (
            "playbook/census.md",
            chapter("摸清底数", 2, extra="templates:\n  - file: ../../secret.txt\n    title: 外面\n"),
            "templates[1].file",
            "在 content/ 以外",
        ),
        ("model/station.md", component("骑士驿站", 2, role="hub"), "role", "只能有一个 role: hub"),
        (
            "model/station.md",
            component("骑士驿站", 2).replace("stage: running", "stage: done"),
            "adoptions[1].stage",
            "只能是 planned / pilot / running / expanding 之一",
        ),
        (
            "model/station.md",
            component("骑士驿站", 2).replace("street: taoranting", "street: nowhere"),
            "adoptions[1].street",
            "没有网址名为 “nowhere” 的街道",
        ),
        (
            "model/station.md",
            component("骑士驿站", 2).replace("../playbook/start.md", "../playbook/gone.md"),
            "playbook",
            "链接到不存在的页面",
        ),
    ],
)
def test_a_bad_structured_field_is_refused_naming_it(root, rel, text, field, reason):
    write_files(root, {rel: text})
    before = counts()
    report, _ = run_import(root, publish=True)
    assert not report.ok
    # A clash between two files is reported on whichever comes second; anything else on the bad file.
    found = [
        p for p in report.rejected if (p.path == rel or field == "order") and p.field == field and reason in p.message
    ]
    assert found, "\n".join(map(str, report.rejected))
    assert counts() == before and not CustomDocument.objects.exists(), "nothing is written"


def test_a_template_that_is_not_utf8_text_is_refused(root):
    write_files(root, {"playbook/templates/rules.txt": "群规".encode("gbk")})
    report, _ = run_import(root, publish=True)
    assert any("不是 UTF-8" in p.message and p.field == "templates[1].file" for p in report.rejected)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("rules.txt", "群规模板\n联系人：王师傅 138 1234 5678\n".encode(), "含有手机号码 138*****678"),
        ("rules.pdf", b"\xff\xd8\xff\xe0" + b"\0" * 64, "内容却是"),  # a JPEG's bytes under a .pdf name
    ],
    ids=["a-mobile-number", "not-what-its-extension-says"],
)
def test_a_template_the_upload_checks_would_refuse_is_refused_by_file_and_field(root, name, data, reason):
    """Before, the import wrote on, the document model refused the file, and the command ended in a traceback."""
    start = (root / "playbook/start.md").read_text(encoding="utf-8").replace("templates/rules.txt", f"templates/{name}")
    write_files(root, {f"playbook/templates/{name}": data, "playbook/start.md": start})
    before = counts()
    report, _ = run_import(root, publish=True)
    found = [p for p in report.rejected if p.path == "playbook/start.md" and p.field == "templates[1].file"]
    assert found and reason in found[0].message, "\n".join(map(str, report.rejected))
    assert "13812345678" not in found[0].message
    assert counts() == before and not CustomDocument.objects.exists(), "nothing is written"
