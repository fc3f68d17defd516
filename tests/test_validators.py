"""Independent validators over a release built from content/ and over the live API, so that the site keeps to
the standards it claims:

- the Nu HTML Checker (vnu.jar from npm's vnu-jar; needs Java) on every HTML file, the stylesheet and the SVG;
- the sitemap against the sitemaps.org 0.9 schema (tests/data/sitemap-0.9.xsd), every URL a file of the release;
- every Atom feed parsed by feedparser and checked for RFC 4287's required elements (§4.1.1, §4.1.2);
- structured data as extruct reads it (JSON-LD, Open Graph): every URL it names on the public site is a file
  of the release, Articles name an author, and every page has a share card (WeChat reads og:title,
  og:description and og:image);
- landmarks: two of one kind on a page each carry a distinct accessible name;
- schemathesis against the live API (`/api/v2/`) with docs/openapi.yaml: no 5xx, and every answer,
  errors included, as the document says.

The release is built once per test session (`content_release` in tests/conftest.py). `.ci/run` installs
Java and `npm ci` installs vnu-jar; without them locally the Nu HTML Checker test skips and says why.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import extruct
import feedparser
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from lxml import etree
from lxml import html as lxml_html
from schemathesis.config import SchemathesisConfig

from tests.conftest import CONTENT_RELEASE_BASE_URL as BASE

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")
NEEDS_VNU = pytest.mark.skipif(
    not (JAVA and VNU_JAR.is_file()),
    reason="the Nu HTML Checker needs Java and node_modules/vnu-jar (.ci/run installs both: apt "
    "default-jre-headless, npm ci)",
)
SITEMAP_XSD = Path(__file__).resolve().parent / "data" / "sitemap-0.9.xsd"
ATOM = "{http://www.w3.org/2005/Atom}"
SHARE_CARD = ("og:title", "og:description", "og:image", "og:url", "og:type", "og:site_name", "og:locale")


# -- the release ---------------------------------------------------------------------------------------------
def release_file(release: Path, url: str) -> Path | None:
    """The file of the release a public URL (absolute on the public site, or a path) is served from."""
    if url.startswith(BASE):
        url = url[len(BASE) :]
    if not url.startswith("/"):
        return None
    path = unquote(urlsplit(url).path)
    candidate = release / path.lstrip("/")
    if path.endswith("/"):
        for index in ("index.html", "index.json"):
            if (candidate / index).is_file():
                return candidate / index
        return None
    return candidate if candidate.is_file() else None


@pytest.fixture(scope="module")
def html_files(content_release) -> dict[str, Path]:
    """{URL path: file} of every HTML page in the release."""
    out = {}
    for path in sorted(content_release.rglob("*.html")):
        rel = path.relative_to(content_release).as_posix()
        out["/" + rel.removesuffix("index.html")] = path
    return out


@pytest.fixture(scope="module")
def documents(html_files) -> dict[str, lxml_html.HtmlElement]:
    return {url: lxml_html.fromstring(path.read_bytes()) for url, path in html_files.items()}


@pytest.fixture(scope="module")
def pages(documents) -> dict[str, lxml_html.HtmlElement]:
    """The pages with a canonical URL: every page of the page tree and every listing route (not the 404 page)."""
    return {url: doc for url, doc in documents.items() if doc.xpath("//link[@rel='canonical']")}


def public_urls(value) -> list[str]:
    """Every string in a JSON value that is a URL on the public site."""
    if isinstance(value, str):
        return [value] if value.startswith(BASE + "/") else []
    if isinstance(value, dict):
        return [u for v in value.values() for u in public_urls(v)]
    if isinstance(value, list):
        return [u for v in value for u in public_urls(v)]
    return []


# -- the Nu HTML Checker -------------------------------------------------------------------------------------
@NEEDS_VNU
def test_the_nu_html_checker_finds_nothing_in_any_page_stylesheet_or_svg(content_release, html_files):
    assets = [
        p
        for p in (content_release / "static").rglob("*")
        if p.suffix in (".css", ".svg") and p.is_file() and not p.is_symlink()
    ]
    files = [str(p) for p in html_files.values()] + [str(p) for p in assets]
    result = subprocess.run(
        [JAVA, "-Xss4m", "-jar", str(VNU_JAR), "--format", "json", "--also-check-css", "--also-check-svg", *files],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.stderr.startswith("{"), result.stderr[-2000:]
    messages = json.loads(result.stderr)["messages"]
    problems = [
        f"{m.get('url', '').split(str(content_release))[-1]}:{m.get('lastLine', '')}: {m['type']}"
        f"{'/' + m['subType'] if m.get('subType') else ''}: {m['message']}"
        for m in messages
        if m["type"] == "error" or m.get("subType") in ("warning", "fatal")
    ]
    assert not problems, "\n".join(problems[:40])
    assert len(html_files) > 100 and assets, "the checker saw the whole release"


# -- the sitemap ---------------------------------------------------------------------------------------------
def test_the_sitemap_is_valid_against_the_sitemaps_org_schema_and_lists_files_of_the_release(content_release):
    # /sitemap.xml is a sitemap index (sitemaps.org's siteindex.xsd, checked here by hand: a <sitemapindex> of
    # <sitemap> entries, each one <loc>, an absolute URL on the public site) naming sitemap files at the root.
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    index = etree.parse(str(content_release / "sitemap.xml")).getroot()
    assert index.tag == ns + "sitemapindex" and len(index) >= 1
    named = []
    for entry in index:
        assert entry.tag == ns + "sitemap" and [child.tag for child in entry] == [ns + "loc"]
        named.append(entry[0].text)
    assert all(re.fullmatch(re.escape(BASE) + r"/sitemap-\d+-of-\d+\.xml", loc) for loc in named), named
    schema = etree.XMLSchema(etree.parse(str(SITEMAP_XSD)))
    locs = []
    for loc in named:
        sitemap = etree.parse(str(release_file(content_release, loc)))
        assert schema.validate(sitemap), "\n".join(str(e) for e in schema.error_log)
        listed = [e.text for e in sitemap.iter(ns + "loc")]
        assert 0 < len(listed) <= 50_000, f"{loc}: {len(listed)} URLs (the protocol allows 50,000)"
        locs += listed
    assert len(locs) == len(set(locs)), "no URL twice"
    assert any(loc.endswith("/stories/") for loc in locs) and any("/training/" in loc for loc in locs)
    missing = [loc for loc in locs if release_file(content_release, loc) is None]
    assert not missing, f"sitemap URLs that are no file of the release: {missing}"
    robots = (content_release / "robots.txt").read_text()
    assert f"Sitemap: {BASE}/sitemap.xml" in robots


# -- feeds ---------------------------------------------------------------------------------------------------
def feeds(content_release, documents) -> set[str]:
    """Every feed a page announces, and every Atom document in the release."""
    found = {
        href
        for doc in documents.values()
        for href in doc.xpath("//link[@rel='alternate'][@type='application/atom+xml']/@href")
    }
    for path in content_release.rglob("*.xml"):
        if etree.parse(str(path)).getroot().tag == ATOM + "feed":
            found.add(BASE + "/" + path.relative_to(content_release).as_posix())
    return {BASE + href if href.startswith("/") else href for href in found}


def rfc4287_problems(root: etree._Element) -> list[str]:
    """What RFC 4287 requires of a feed document and its entries that it lacks (§4.1.1, §4.1.2, §4.2)."""
    problems = []

    def count(element, name):
        return len(element.findall(ATOM + name))

    for name in ("id", "title", "updated"):
        if count(root, name) != 1:
            problems.append(f"feed: {count(root, name)} atom:{name} (exactly one required)")
    if count(root, "link[@rel='self']") < 1:
        problems.append("feed: no atom:link rel=self (SHOULD)")
    feed_author = count(root, "author") > 0
    for n, entry in enumerate(root.findall(ATOM + "entry"), 1):
        title = entry.findtext(ATOM + "title")
        for name in ("id", "title", "updated"):
            if count(entry, name) != 1:
                problems.append(f"entry {n} {title}: {count(entry, name)} atom:{name} (exactly one required)")
        if not feed_author and count(entry, "author") == 0 and count(entry, "source/" + ATOM + "author") == 0:
            problems.append(f"entry {n} {title}: no atom:author, and the feed has none (§4.1.1)")
        if count(entry, "content") == 0 and count(entry, "link[@rel='alternate']") + count(entry, "link[@href]") == 0:
            problems.append(f"entry {n} {title}: neither atom:content nor a link rel=alternate")
        for author in entry.findall(ATOM + "author") + root.findall(ATOM + "author"):
            if not (author.findtext(ATOM + "name") or "").strip():
                problems.append(f"entry {n} {title}: an atom:author without atom:name (§3.2.1)")
    return problems


def test_every_feed_has_the_elements_rfc_4287_requires(content_release, documents):
    found = feeds(content_release, documents)
    assert found, "the release has feeds"
    for url in sorted(found):
        path = release_file(content_release, url)
        assert path is not None, f"{url} is announced but is no file of the release"
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, f"{url}: {parsed.bozo_exception}"
        assert parsed.version == "atom10", url
        assert parsed.entries, url
        root = etree.parse(str(path)).getroot()
        problems = rfc4287_problems(root)
        assert not problems, f"{url}:\n" + "\n".join(problems)
        for entry in parsed.entries:
            assert entry.get("author") or parsed.feed.get("author"), f"{url}: {entry.title}: feedparser finds no author"
            assert release_file(content_release, entry.link), f"{url}: {entry.link} is no file of the release"


# -- structured data and share cards -------------------------------------------------------------------------
def test_structured_data_names_only_files_of_the_release_and_articles_have_authors(content_release, pages):
    problems, articles = [], 0
    for url, doc in pages.items():
        data = extruct.extract(
            lxml_html.tostring(doc, encoding="unicode"), base_url=BASE + url, syntaxes=["json-ld"], errors="strict"
        )
        for item in data["json-ld"]:
            for ref in public_urls(item):
                if release_file(content_release, ref) is None:
                    problems.append(f"{url}: JSON-LD {item.get('@type')} names {ref}, which is not in the release")
            if item.get("@type") in ("Article", "NewsArticle", "BlogPosting"):
                articles += 1
                for prop in ("headline", "author", "publisher", "datePublished"):
                    if not item.get(prop):
                        problems.append(f"{url}: Article without {prop}")
                for who in ("author", "publisher"):
                    for party in item.get(who) if isinstance(item.get(who), list) else [item.get(who)]:
                        if party and not (isinstance(party, dict) and party.get("@type") and party.get("name")):
                            problems.append(f"{url}: Article {who} {party!r} has no @type and name")
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} problems)"
    assert articles >= 10, "every story carries an Article"


def test_every_page_has_a_share_card_whose_image_is_in_the_release(content_release, pages):
    problems = []
    for url, doc in pages.items():
        data = extruct.extract(lxml_html.tostring(doc, encoding="unicode"), base_url=BASE + url, syntaxes=["opengraph"])
        og = {}
        for item in data["opengraph"]:
            for key, value in item.get("properties", []):
                og.setdefault(key, value)
        missing = [key for key in SHARE_CARD if not og.get(key)]
        if missing:
            problems.append(f"{url}: no {', '.join(missing)}")
            continue
        canonical = doc.xpath("//link[@rel='canonical']/@href")[0]
        if og["og:url"] != canonical:
            problems.append(f"{url}: og:url {og['og:url']} is not the canonical {canonical}")
        image = release_file(content_release, og["og:image"])
        if image is None or image.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            problems.append(f"{url}: og:image {og['og:image']} is no JPEG or PNG of the release")
        if not (og.get("og:image:width") and og.get("og:image:height") and og.get("og:image:alt")):
            problems.append(f"{url}: og:image without width, height or alt")
        if not doc.xpath("//meta[@name='twitter:card']/@content"):
            problems.append(f"{url}: no twitter:card")
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} of {len(pages)} pages)"


# -- landmarks -----------------------------------------------------------------------------------------------
LANDMARKS = {"aside": "complementary", "nav": "navigation"}


def accessible_name(doc, element) -> str:
    if element.get("aria-label"):
        return element.get("aria-label").strip()
    names = []
    for ref in (element.get("aria-labelledby") or "").split():
        target = doc.get_element_by_id(ref, None)
        if target is not None:
            names.append(target.text_content().strip())
    return " ".join(names)


def test_two_landmarks_of_one_kind_on_a_page_have_distinct_names(documents):
    """ARIA's landmark rule (and axe's landmark-unique): a screen reader lists the landmarks by role and
    name; two complementary or navigation landmarks need names that tell them apart."""
    problems = []
    for url, doc in documents.items():
        for tag, role in LANDMARKS.items():
            elements = doc.xpath(f"//{tag}[not(@role)] | //*[@role='{role}']")
            if len(elements) < 2:
                continue
            names = [accessible_name(doc, e) for e in elements]
            unnamed = [e.get("class") or e.tag for e, name in zip(elements, names, strict=True) if not name]
            if unnamed:
                problems.append(f"{url}: {len(elements)} <{tag}> ({role}), unnamed: {unnamed}")
            elif len(set(names)) < len(names):
                problems.append(f"{url}: {len(elements)} <{tag}> ({role}) with the same name: {names}")
    assert not problems, "\n".join(problems) + f"\n({len(problems)} pages)"


# -- the live API against docs/openapi.yaml ------------------------------------------------------------------
# A query can be well formed and still name nothing (type=x, child_of=0, course=x, order=x): the document says
# those get a 400 with the reason, so a 400 to schema-valid data is an answer as documented, not a rejection.
API_SCHEMA = schemathesis.openapi.from_path(
    ROOT / "docs" / "openapi.yaml",
    config=SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]}}}
    ),
)


@pytest.fixture
def api_app(db):
    """The CMS as a WSGI application on the test database, with every page type, drafts and a private page.
    Django's close_old_connections would close the test's transaction after each request (its test client
    turns it off the same way)."""
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections
    from wagtail.models import PageViewRestriction

    from tests.support.helpers import (
        make_image,
        make_model,
        make_person,
        make_playbook,
        make_story,
        make_street,
        make_training,
        make_tree,
    )

    home, index = make_tree()
    street = make_street()
    make_story(index, tags=["隐患上报"], people=[make_person(street=street)], street=street, image=make_image())
    make_story(index, title="还没发布的草稿", publish=False)
    private = make_story(index, title="只给内部看的故事")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)
    make_playbook(home, chapters=2)
    make_model(home, streets=[street])
    make_training(home, lessons=2)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@API_SCHEMA.parametrize()
@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_live_api_answers_as_its_openapi_document_says(case, api_app):
    case.call_and_validate(base_url="http://testserver", app=api_app)
