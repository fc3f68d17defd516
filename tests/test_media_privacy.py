"""What the privacy guard sees in documents and images: real files, made here, with personal data in their
text, their metadata, their names; a JPEG renamed .pdf; media in a collection only logged-in users may see."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader, PdfWriter
from wagtail.models import Collection, CollectionViewRestriction

from cms.core.personal_data import find_personal_data
from cms.documents import checks
from cms.documents.checks import document_problems, restricted_problems
from cms.documents.models import CustomDocument, DocumentRefused
from cms.images.checks import image_problems
from cms.images.exif import has_location
from cms.images.models import CustomImage
from tests.test_images import jpeg_with_gps

pytestmark = pytest.mark.django_db

MOBILE = "13800138000"
RESIDENT_ID = "11010519491231002X"


def masked(number: str) -> str:
    """How the guard shows a number (whatever the detector's mask looks like)."""
    (hit,) = find_personal_data(number)
    return hit[1]


@functools.cache
def pdf(body: str, author: str = "", title: str = "联系表") -> bytes:
    """A real PDF with text (WeasyPrint, as the playbook's PDF is made); its /Info carries the author."""
    from weasyprint import HTML

    meta = f'<meta name="author" content="{author}">' if author else ""
    html = f"<html><head>{meta}<title>{title}</title></head><body><p>{body}</p></body></html>"
    return HTML(string=html).write_pdf()


def with_xmp(data: bytes, creator: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.xmp_metadata = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:title>台账</dc:title><dc:creator>{creator}</dc:creator><cp:lastModifiedBy>{modifier}</cp:lastModifiedBy>"
    "</cp:coreProperties>"
)


def docx(paragraphs: list[list[str]], creator: str = "王小明", modifier: str = "李小红") -> bytes:
    """A Word file written as its zip of XML; each paragraph is a list of runs (Word splits text into runs)."""
    body = "".join(
        "<w:p>" + "".join(f'<w:r><w:t xml:space="preserve">{run}</w:t></w:r>' for run in runs) + "</w:p>"
        for runs in paragraphs
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{body}</w:body></w:document>"
        ),
        "docProps/core.xml": CORE.format(creator=creator, modifier=modifier),
    }
    return make_zip(files)


def xlsx(cells: list[str], numbers: list[str]) -> bytes:
    """An Excel file: text cells in the shared strings, number cells in the sheet (a mobile typed as a number)."""
    shared = "".join(f"<si><t>{c}</t></si>" for c in cells)
    row = "".join(f'<c r="A{n}" t="s"><v>{n - 1}</v></c>' for n in range(1, len(cells) + 1))
    row += "".join(f'<c r="B{n}"><v>{v}</v></c>' for n, v in enumerate(numbers, 1))
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
        ),
        "xl/workbook.xml": "<workbook><sheets><sheet name='台账' sheetId='1'/></sheets></workbook>",
        "xl/sharedStrings.xml": f"<sst>{shared}</sst>",
        "xl/worksheets/sheet1.xml": f"<worksheet><sheetData><row r='1'>{row}</row></sheetData></worksheet>",
        "docProps/core.xml": CORE.format(creator="王小明", modifier="王小明"),
    }
    return make_zip(files)


def make_zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return out.getvalue()


def stored(document) -> bytes:
    with document.open_file() as f:
        return f.read()


def old_document(title: str, name: str, data: bytes) -> CustomDocument:
    """A document stored before the guard existed (the row and the file written as they were)."""
    document = CustomDocument.objects.create(title="占位", file=SimpleUploadedFile("placeholder.txt", b"placeholder"))
    Path(document.file.path).with_name(name).write_bytes(data)
    CustomDocument.objects.filter(pk=document.pk).update(title=title, file=f"documents/{name}")
    return CustomDocument.objects.get(pk=document.pk)


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


def upload_document(admin_client, name: str, data: bytes):
    """The admin's multiple-upload (drag and drop), as the browser posts it."""
    return admin_client.post(
        "/admin/documents/multiple/add/",
        {"files[]": SimpleUploadedFile(name, data), "collection": Collection.get_first_root_node().pk},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    ).json()


def media_files(folder: str) -> set[str]:
    root = Path(settings.MEDIA_ROOT) / folder
    return {p.name for p in root.iterdir()} if root.exists() else set()


# -- uploads ---------------------------------------------------------------------------------------------


def test_a_pdf_with_a_mobile_and_an_id_number_is_refused_on_upload_with_the_matches_masked(admin_client):
    before = media_files("documents")
    body = upload_document(admin_client, "lianxi.pdf", pdf(f"联系人手机：138 0013 8000，身份证号 {RESIDENT_ID}"))
    assert body["success"] is False
    message = body["error_message"]
    assert "lianxi.pdf" in message and "第 1 页" in message
    assert f"手机号码 {masked(MOBILE)}" in message and f"身份证号码 {masked(RESIDENT_ID)}" in message
    assert "0013" not in message and RESIDENT_ID not in message, "the refusal does not repeat the numbers"
    assert not CustomDocument.objects.exists()
    assert media_files("documents") == before, "nothing of the refused file is stored"


def test_the_single_upload_form_names_the_file_and_the_title(admin_client):
    response = admin_client.post(
        "/admin/documents/add/",
        {
            "title": f"联系人{MOBILE}",
            "file": SimpleUploadedFile("lianxi.pdf", pdf(f"身份证号 {RESIDENT_ID}")),
            "collection": Collection.get_first_root_node().pk,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and not CustomDocument.objects.exists()
    assert f"文件“lianxi.pdf”的第 1 页含有身份证号码 {masked(RESIDENT_ID)}，不能上传" in html
    assert f"“标题”的内容含有手机号码 {masked(MOBILE)}" in html
    assert MOBILE not in html.replace(f"联系人{MOBILE}", ""), "only the form's own input repeats the number"


def test_a_jpeg_renamed_pdf_is_refused(admin_client):
    body = upload_document(admin_client, "zhaopian.pdf", jpeg_with_gps())
    assert body["success"] is False
    assert "zhaopian.pdf" in body["error_message"] and "JPEG 图片" in body["error_message"]
    assert "扩展名" in body["error_message"]
    assert not CustomDocument.objects.exists()


def test_a_clean_pdf_is_accepted_and_loses_its_author_and_xmp(admin_client):
    data = with_xmp(pdf("社区议事会的会议纪要，欢迎居民参加。", author="王小明"), creator="王小明")
    assert PdfReader(io.BytesIO(data)).metadata["/Author"] == "王小明"
    body = upload_document(admin_client, "jiyao.pdf", data)
    assert body["success"] is True, body
    document = CustomDocument.objects.get()
    reader = PdfReader(io.BytesIO(stored(document)))
    assert dict(reader.metadata or {}) == {"/Title": "联系表"}, "the title stays, who made it goes"
    assert "/Metadata" not in reader.root_object and b"xmpmeta" not in stored(document)
    assert "王小明".encode("utf-16-be") not in stored(document), "not even as an unreferenced object"
    assert "会议纪要" in reader.pages[0].extract_text(), "the text itself is kept"
    assert document.file_size == len(stored(document))
    assert document_problems(document) == []


def test_a_number_only_in_the_metadata_is_removed_and_the_upload_accepted(admin_client):
    data = with_xmp(pdf("会议纪要", author=f"王小明 {MOBILE}"), creator=f"王小明 {MOBILE}")
    assert "XMP 元数据" in "".join(document_problems(old_document("纪要", "jiyao.pdf", data)))
    CustomDocument.objects.all().delete()
    assert upload_document(admin_client, "jiyao.pdf", data)["success"] is True
    assert MOBILE.encode() not in stored(CustomDocument.objects.get())


def test_a_docx_loses_its_creator_and_last_editor_on_upload(admin_client):
    body = upload_document(admin_client, "taizhang.docx", docx([["驿站值班安排"]], creator="王小明", modifier="李小红"))
    assert body["success"] is True, body
    with zipfile.ZipFile(io.BytesIO(stored(CustomDocument.objects.get()))) as z:
        core = z.read("docProps/core.xml").decode()
        assert "王小明" not in core and "李小红" not in core
        assert "<dc:creator></dc:creator>" in core and "<dc:title>台账</dc:title>" in core
        assert "驿站值班安排" in z.read("word/document.xml").decode()


def test_a_docx_with_a_mobile_split_across_runs_is_refused(admin_client):
    body = upload_document(admin_client, "mingdan.docx", docx([["联系电话：", "138", "0013", "8000"]]))
    assert body["success"] is False
    assert f"文件“mingdan.docx”的正文含有手机号码 {masked(MOBILE)}" in body["error_message"]


def test_the_importer_path_strips_and_refuses_too(tmp_path):
    """The importer stores the file first, then saves the document (write_files): save() checks it."""
    document = CustomDocument(title="台账模板")
    document.file.save("taizhang.docx", ContentFile(docx([["值班表"]])), save=False)
    document.save()
    with zipfile.ZipFile(io.BytesIO(stored(document))) as z:
        assert "王小明" not in z.read("docProps/core.xml").decode()
    assert document.file_size == len(stored(document))

    refused = CustomDocument(title="名单")
    refused.file.save("mingdan.docx", ContentFile(docx([[f"身份证 {RESIDENT_ID}"]])), save=False)
    path = Path(refused.file.path)
    assert path.exists()
    with pytest.raises(DocumentRefused) as caught:
        refused.save()
    assert f"身份证号码 {masked(RESIDENT_ID)}" in str(caught.value) and "mingdan.docx" in str(caught.value)
    assert not path.exists(), "the refused file is removed from the media folder"
    assert CustomDocument.objects.count() == 1


def odt(text: str, creator: str) -> bytes:
    """An OpenDocument text: the mimetype first and stored, as the format requires."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", f"<office:document-content><text:p>{text}</text:p></office:document-content>")
        z.writestr(
            "meta.xml",
            "<office:document-meta><office:meta>"
            f"<meta:initial-creator>{creator}</meta:initial-creator><dc:creator>{creator}</dc:creator>"
            "</office:meta></office:document-meta>",
        )
    return out.getvalue()


def test_an_opendocument_text_loses_its_creators_and_keeps_its_mimetype_first():
    document = CustomDocument(title="通知")
    document.file.save("tongzhi.odt", ContentFile(odt("明天下午开会", creator="王小明")), save=False)
    document.save()
    with zipfile.ZipFile(io.BytesIO(stored(document))) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        meta = z.read("meta.xml").decode()
        assert "王小明" not in meta and "<meta:initial-creator></meta:initial-creator>" in meta
    assert document_problems(document) == []


def test_a_word_file_renamed_xlsx_is_refused():
    """Both are zip files: what counts is the main part the package declares."""
    with pytest.raises(DocumentRefused, match="内容却是 Word 文档（.docx），不是 Excel 表格（.xlsx）"):
        CustomDocument(title="表", file=SimpleUploadedFile("biao.xlsx", docx([["值班表"]]))).save()
    assert not CustomDocument.objects.exists()


def test_a_document_with_no_file_and_an_unchanged_file_save_as_before():
    CustomDocument.objects.create(title="内部名单")
    document = CustomDocument.objects.create(title="规则", file=SimpleUploadedFile("guize.txt", "群规".encode()))
    Path(document.file.path).write_text(f"联系 {MOBILE}", encoding="utf-8")  # stored before the guard
    document.title = "群规"
    document.save()  # an edit of the title does not re-check the file; the publishing gate does
    assert document_problems(document)


# -- what the gate is told -------------------------------------------------------------------------------


def test_document_problems_name_the_document_and_mask_every_match():
    data = pdf(f"联系人手机：138 0013 8000<br>身份证号 {RESIDENT_ID}", author=f"张三 {MOBILE}")
    document = old_document(f"联系表 {MOBILE}", "lianxi.pdf", data)
    problems = document_problems(document)
    text = "\n".join(problems)
    name = f"文档《联系表 {masked(MOBILE)}》（lianxi.pdf）"
    assert f"{name}的标题含有手机号码 {masked(MOBILE)}" in problems
    assert f"{name}的第 1 页含有手机号码 {masked(MOBILE)}" in problems
    assert f"{name}的第 1 页含有身份证号码 {masked(RESIDENT_ID)}" in problems
    assert f"{name}的文档属性（Author）含有手机号码 {masked(MOBILE)}" in problems
    assert MOBILE not in text and RESIDENT_ID not in text


def test_document_problems_read_spreadsheets_and_text_in_gb18030():
    sheet = old_document("台账", "taizhang.xlsx", xlsx(["姓名", "王小明"], [MOBILE]))
    assert f"文档《台账》（taizhang.xlsx）的第 1 个工作表含有手机号码 {masked(MOBILE)}" in document_problems(sheet)
    names = old_document("名单", "mingdan.csv", f"姓名,身份证号\n王小明,{RESIDENT_ID}\n".encode("gb18030"))
    assert f"文档《名单》（mingdan.csv）的内容含有身份证号码 {masked(RESIDENT_ID)}" in document_problems(names)
    assert document_problems(old_document("群规", "qungui.txt", "群规：文明交流。".encode("gb18030"))) == []


def test_document_problems_catch_a_jpeg_renamed_pdf_and_a_number_in_the_file_name():
    renamed = old_document("照片", "zhaopian.pdf", jpeg_with_gps())
    (problem,) = document_problems(renamed)
    assert problem.startswith("文档《照片》（zhaopian.pdf）的扩展名是 .pdf，内容却是 JPEG 图片")
    named = old_document("表格", f"biao{MOBILE}.txt", "表格".encode())
    assert f"文档《表格》（biao{masked(MOBILE)}.txt）的文件名含有手机号码 {masked(MOBILE)}" in document_problems(named)


def test_a_clean_pdf_passes():
    assert document_problems(old_document("纪要", "jiyao.pdf", pdf("社区议事会纪要"))) == []


def test_a_pdf_is_read_once_per_content(monkeypatch):
    document = old_document("纪要", "jiyao.pdf", pdf("社区议事会纪要，第二次"))
    checks._cache.clear()
    reads = []
    original = checks._pdf_texts
    monkeypatch.setattr(checks, "_pdf_texts", lambda data: reads.append(1) or original(data))
    for _ in range(3):
        assert document_problems(document) == []
    assert len(reads) == 1
    Path(document.file.path).write_bytes(pdf(f"电话 {MOBILE}"))
    assert document_problems(document) and len(reads) == 2, "new content is read again"


# -- images ----------------------------------------------------------------------------------------------


def plain_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "#0b4f8a").save(out, "JPEG")
    return out.getvalue()


def test_image_problems_check_every_word_and_the_file_name():
    image = CustomImage.objects.create(
        title=f"王师傅 {MOBILE}",
        description=f"身份证 {RESIDENT_ID}",
        caption=f"电话 {MOBILE}",
        credit=f"摄影 {MOBILE}",
        file=SimpleUploadedFile("wang.jpg", plain_jpeg()),
    )
    image.tags.add(f"联系{MOBILE}")
    problems = image_problems(image)
    name = f"图片《王师傅 {masked(MOBILE)}》（wang.jpg）"
    for expected in (
        f"{name}的标题含有手机号码 {masked(MOBILE)}",
        f"{name}的描述含有身份证号码 {masked(RESIDENT_ID)}",
        f"{name}的图片说明含有手机号码 {masked(MOBILE)}",
        f"{name}的图片来源/摄影含有手机号码 {masked(MOBILE)}",
        f"{name}的标签“联系{masked(MOBILE)}”含有手机号码 {masked(MOBILE)}",
    ):
        assert expected in problems, problems
    assert MOBILE not in "".join(problems) and RESIDENT_ID not in "".join(problems)


def test_image_problems_find_gps_left_in_a_file():
    image = CustomImage.objects.create(title="胡同", description="胡同", file=SimpleUploadedFile("h.jpg", plain_jpeg()))
    assert image_problems(image) == []
    Path(image.file.path).write_bytes(jpeg_with_gps())  # as if it got past the upload
    assert image_problems(image) == [
        f"图片《胡同》（{Path(image.file.name).name}）还带有 GPS 位置信息：请重新上传（上传时会自动去除）"
    ]


def test_the_image_upload_refuses_a_number_in_its_name_or_title_and_keeps_no_gps(admin_client):
    body = admin_client.post(
        "/admin/images/multiple/add/",
        {"files[]": SimpleUploadedFile(f"wang{MOBILE}.jpg", jpeg_with_gps())},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    ).json()
    assert body["success"] is False and f"文件名含有手机号码 {masked(MOBILE)}" in body["error_message"]
    assert not CustomImage.objects.exists()

    response = admin_client.post(
        "/admin/images/add/",
        {
            "title": "胡同",
            "description": f"联系电话 {MOBILE}",
            "file": SimpleUploadedFile("hutong.jpg", jpeg_with_gps()),
            "collection": Collection.get_first_root_node().pk,
        },
    )
    assert response.status_code == 200 and not CustomImage.objects.exists()
    assert f"“描述”的内容含有手机号码 {masked(MOBILE)}，请删去或改写" in response.content.decode()

    body = admin_client.post(
        "/admin/images/multiple/add/",
        {"files[]": SimpleUploadedFile("hutong.jpg", jpeg_with_gps())},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    ).json()
    assert body["success"] is True, body
    image = CustomImage.objects.get()
    with image.open_file() as f:
        assert not has_location(f.read())


# -- private collections ---------------------------------------------------------------------------------


def test_media_in_a_login_restricted_collection_are_named_with_the_collection():
    root = Collection.get_first_root_node()
    internal = root.add_child(name="内部资料")
    CollectionViewRestriction.objects.create(collection=internal, restriction_type=CollectionViewRestriction.LOGIN)
    photos = internal.add_child(name="活动照片")
    image = CustomImage.objects.create(
        title="内部照片", description="会议", collection=photos, file=SimpleUploadedFile("p.jpg", plain_jpeg())
    )
    document = CustomDocument.objects.create(
        title="内部名单", collection=internal, file=SimpleUploadedFile("mingdan.txt", "名单".encode())
    )
    (problem,) = restricted_problems(document)
    assert problem == (
        "文档《内部名单》（mingdan.txt）在受限的集合“内部资料”中（仅登录用户可见），"
        "不能用在公开页面上：请把它移到公开的集合，或从页面中去掉"
    )
    assert problem in document_problems(document)
    (problem,) = image_problems(image)
    assert "集合“活动照片”中，其上级集合“内部资料”受限（仅登录用户可见）" in problem and "图片《内部照片》" in problem

    public = root.add_child(name="公开资料")
    image.collection = public
    image.save()
    assert restricted_problems(image) == [] and image_problems(image) == []
