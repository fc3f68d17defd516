"""The read API as another client uses it: full rendered content, filters, caching, CORS, and nothing that
is not public (drafts, private pages and collections, personal fields): each is tried and must fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction

from cms.documents.models import CustomDocument
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
SPEC = yaml.safe_load((Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml").read_text())


def check(data, schema_name: str):
    """Validate a real response against a schema of docs/openapi.yaml (OpenAPI 3.1 is JSON Schema 2020-12)."""
    schema = {"components": SPEC["components"], "$ref": f"#/components/schemas/{schema_name}"}
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.fixture
def content(tree):
    home, index = tree
    street = make_street()
    other_street = make_street(name="回龙观街道", slug="huilongguan", district="昌平区")
    person = make_person(street=street)
    image = make_image()
    story = make_story(index, tags=["隐患上报"], people=[person], street=street, image=image)
    other = make_story(index, title="小年夜的饺子", tags=["节日关怀"], street=other_street)
    draft = make_story(index, title="还没发布的草稿", publish=False)
    private = make_story(index, title="只给内部看的故事")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)
    _playbook, chapters = make_playbook(home, chapters=2)
    _model, components = make_model(home, streets=[street])
    _training, course, lessons = make_training(home, lessons=2)
    return locals()


def get(client, url, **headers):
    response = client.get(url, **headers)
    return response, (response.json() if response["Content-Type"].startswith("application/json") else None)


def test_the_openapi_document_is_valid_openapi_3_1():
    validate_spec(SPEC)
    assert SPEC["openapi"].startswith("3.1")


def test_a_client_gets_full_rendered_stories(client, content):
    response, data = get(client, "/api/v2/pages/?type=stories.StoryPage&fields=*")
    assert response.status_code == 200
    check(data, "PageListing")
    titles = {item["title"] for item in data["items"]}
    assert titles == {"四年，一条街巷的移动探头", "小年夜的饺子"}, "no draft, no private page"
    story = next(i for i in data["items"] if i["title"] == "四年，一条街巷的移动探头")
    check(story, "PageDetail")
    assert story["meta"]["html_url"].startswith("https://xiaoge.example.cn/stories/")
    paragraph = next(b for b in story["body"] if b["type"] == "paragraph")
    assert paragraph["value"].startswith("<p>刘阔每天骑着三轮车穿过胡同")
    callout = next(b for b in story["body"] if b["type"] == "callout")
    assert callout["value"]["body"] == "<p>先建群，再定规矩。</p>"
    hero = story["hero_image"]
    assert hero["alt"] == "冬日胡同里停着一辆快递三轮车" and hero["rendition"]["url"].startswith(
        "https://xiaoge.example.cn/media/"
    )
    assert 0 < hero["rendition"]["width"] <= 1200 and hero["rendition"]["url"].endswith(".jpg")
    assert story["tags"] == [{"name": "隐患上报", "slug": "yin-huan-shang-bao"}]
    assert story["street"]["name"] == "陶然亭街道"
    assert story["people"] == [{"name": "刘阔", "role": "快递员", "organisation": "顺丰速运北京区陶然北岸经营分部"}]


def test_every_page_type_validates_against_the_openapi_document(client, content):
    _response, listing = get(client, "/api/v2/pages/?limit=100")
    check(listing, "PageListing")
    types = set()
    for item in listing["items"]:
        response, detail = get(client, f"/api/v2/pages/{item['id']}/")
        assert response.status_code == 200
        check(detail, "PageDetail")
        types.add(detail["meta"]["type"])
    assert {
        "stories.StoryPage",
        "playbook.PlaybookChapterPage",
        "governance.ComponentPage",
        "training.CoursePage",
        "training.LessonPage",
        "playbook.PlaybookPage",
        "home.HomePage",
    } <= types


def test_structured_content_comes_out_whole(client, content):
    _r, chapter = get(client, f"/api/v2/pages/{content['chapters'][0].pk}/")
    assert chapter["steps"][0]["value"]["who"] == "街道党群工作部门"
    assert [b["value"] for b in chapter["checklist"]] == ["第1章清单一", "第1章清单二"]
    case_street = chapter["cases"][0]["value"]["street"]
    assert case_street["slug"] in ("taoranting", "huilongguan") and case_street["name"].endswith("街道")
    _r, lesson = get(client, f"/api/v2/pages/{content['lessons'][0].pk}/")
    question = lesson["quiz"][0]["value"]
    assert question["options"] == ["110", "120", "119"] and question["answer"] == 2
    assert next(b for b in lesson["body"] if b["type"] == "dodont")["value"]["dont"] == "把电动车推进楼道里充电"
    _r, hub = get(client, f"/api/v2/pages/{content['components'][0].pk}/")
    assert hub["adoptions"][0]["street"]["slug"] == "taoranting" and hub["adoptions"][0]["stage"] == "running"


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("type=stories.StoryPage&tag=jie-ri-guan-huai", {"小年夜的饺子"}),
        ("type=stories.StoryPage&street=taoranting", {"四年，一条街巷的移动探头"}),
        ("type=governance.ComponentPage&street=taoranting", {"社区治理联动微信群", "副楼长"}),
        ("type=training.LessonPage&course=jijiu", {"第1课的标题", "第2课的标题"}),
    ],
)
def test_filters_by_tag_street_and_course(client, content, query, titles):
    _r, data = get(client, f"/api/v2/pages/?{query}")
    assert {i["title"] for i in data["items"]} == titles


def test_a_filter_on_the_wrong_type_says_why(client, content):
    response, data = get(client, "/api/v2/pages/?tag=jie-ri-guan-huai")
    assert response.status_code == 400 and "type=stories.StoryPage" in data["message"]
    check(data, "Error")


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        # Numbers no database column holds, and digits int() refuses ("²".isdigit() is True): no course.
        ("/api/v2/pages/?type=training.LessonPage&course=99999999999999999999", 400, "没有这门课"),
        ("/api/v2/pages/?type=training.LessonPage&course=%C2%B2", 400, "没有这门课"),
        ("/api/v2/pages/?type=training.LessonPage&course=%D9%A3", 400, "没有这门课"),
        # Past the end, however far: an empty page of results, as the document says.
        ("/api/v2/pages/?offset=9223372036854775808", 200, None),
        ("/api/v2/pages/?offset=99999999999999999999999", 200, None),
        # limit is 1 to 100 (docs/openapi.yaml); an offset or limit is ASCII digits.
        ("/api/v2/pages/?limit=0", 400, "limit"),
        ("/api/v2/pages/?limit=101", 400, "limit"),
        ("/api/v2/pages/?limit=%D9%A3", 400, "limit"),
        ("/api/v2/pages/?offset=-1", 400, "offset"),
        ("/api/v2/pages/?child_of=%D9%A3", 400, "child_of"),
        ("/api/v2/pages/?descendant_of=99999999999999999999", 400, "doesn't exist"),
        # Ids that are not integers: the documented JSON 404, not Django's HTML page.
        ("/api/v2/pages/abc/", 404, None),
        ("/api/v2/pages/null,null/", 404, None),
        ("/api/v2/pages/-1/", 404, None),
        ("/api/v2/pages/99999999999999999999/", 404, None),
        ("/api/v2/images/abc/", 404, None),
        ("/api/v2/documents/%C2%B2/", 404, None),
        ("/api/v2/pages/find/?id=abc", 404, None),
        ("/api/v2/nothing/", 404, None),
    ],
)
def test_odd_numbers_and_ids_get_the_documented_json_answer(client, content, url, status, says):
    response, data = get(client, url)
    assert response.status_code == status, (url, response.content[:200])
    assert data is not None, f"{url}: {response['Content-Type']}, not JSON"
    if status == 200:
        check(data, "PageListing")
        assert data["items"] == [] and data["meta"]["total_count"] > 0
    else:
        check(data, "Error")
        assert says is None or says in data["message"], data


def test_drafts_and_private_pages_are_unreachable(client, content):
    for page in (content["draft"], content["private"]):
        response, _ = get(client, f"/api/v2/pages/{page.pk}/")
        assert response.status_code == 404
        _r, found = get(client, f"/api/v2/pages/?search={page.title}")
        assert page.pk not in [i["id"] for i in found["items"]]
        _r, by_path = get(client, f"/api/v2/pages/find/?html_path={page.url}")
        assert _r.status_code == 404
    # Asking for a draft's own fields by type does not reveal it either.
    _r, data = get(client, "/api/v2/pages/?type=stories.StoryPage&fields=*&limit=100")
    assert "还没发布的草稿" not in json.dumps(data, ensure_ascii=False)


def test_no_personal_field_is_in_any_response(client, content):
    person = content["person"]
    person.consent_note = "2023年3月书面同意，联系人见档案"
    person.save()
    _r, listing = get(client, "/api/v2/pages/?limit=100")
    text = json.dumps(listing, ensure_ascii=False)
    for item in listing["items"]:
        text += json.dumps(get(client, f"/api/v2/pages/{item['id']}/")[1], ensure_ascii=False)
    for field in ("consent", "consent_note", "consent_on_record", "书面同意", "email", "password"):
        assert field not in text
    response, _ = get(client, "/api/v2/pages/?type=stories.StoryPage&fields=featured_people")
    assert response.status_code == 400, "the inline people rows are not an API field"


def test_only_media_in_public_collections(client, content):
    root = Collection.get_first_root_node()
    internal = root.add_child(name="内部资料")
    CollectionViewRestriction.objects.create(collection=internal, restriction_type=CollectionViewRestriction.LOGIN)
    secret = make_image(title="内部照片")
    secret.collection = internal
    secret.save()
    _r, images = get(client, "/api/v2/images/")
    ids = [i["id"] for i in images["items"]]
    assert content["image"].pk in ids and secret.pk not in ids
    assert get(client, f"/api/v2/images/{secret.pk}/")[0].status_code == 404
    check(images, "MediaListing")
    doc = CustomDocument.objects.create(title="内部名单", collection=internal)
    assert get(client, f"/api/v2/documents/{doc.pk}/")[0].status_code == 404


def test_responses_carry_etags_and_cache_control(client, content):
    response, _ = get(client, "/api/v2/pages/?type=stories.StoryPage")
    assert response["ETag"] and "max-age=60" in response["Cache-Control"] and "public" in response["Cache-Control"]
    again = client.get("/api/v2/pages/?type=stories.StoryPage", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_cross_origin_reads_only_from_configured_origins(client, content, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://mp.example.cn"]
    allowed = client.get("/api/v2/pages/", HTTP_ORIGIN="https://mp.example.cn")
    assert allowed["Access-Control-Allow-Origin"] == "https://mp.example.cn"
    other = client.get("/api/v2/pages/", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other
    admin = client.get("/admin/login/", HTTP_ORIGIN="https://mp.example.cn")
    assert "Access-Control-Allow-Origin" not in admin, "only the API is shared"


def test_the_static_copy_in_the_release_is_the_live_api_byte_for_byte(client, content, settings, tmp_path):
    from cms.publishing.builder import build_site, current_release_dir

    settings.SITE_DIR = tmp_path / "site"
    build_site(full=True)
    live = current_release_dir()
    _r, listing = get(client, "/api/v2/pages/?limit=100")
    static_listing = json.loads((live / "api/v2/pages/index.json").read_text())
    check(static_listing, "PageListing")
    assert static_listing["meta"]["total_count"] == listing["meta"]["total_count"]
    by_id = {item["id"]: item for item in listing["items"]}
    for item in static_listing["items"]:
        assert item == by_id[item["id"]], "the same summary, keys and values"
        response = client.get(item["meta"]["detail_url"])
        document = live / item["meta"]["detail_url"].lstrip("/") / "index.json"
        assert document.read_bytes() == response.content, item["meta"]["detail_url"]
        check(json.loads(document.read_bytes()), "PageDetail")
    # Renditions the documents name are in the release.
    story = json.loads((live / f"api/v2/pages/{content['story'].pk}/index.json").read_text())
    rendition = story["hero_image"]["rendition"]["url"].removeprefix("https://xiaoge.example.cn/")
    assert (live / rendition).is_file()
    assert not (live / f"api/v2/pages/{content['draft'].pk}").exists()
    assert not (live / f"api/v2/pages/{content['private'].pk}").exists()
