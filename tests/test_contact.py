"""How a reader reaches whoever publishes the site, and how the operator is told when they cannot."""

import re
from pathlib import Path

import pytest
from django.core.checks import run_checks

from cms.core.models import SiteSettings
from cms.home.models import InformationPage
from tests.support.helpers import make_story

pytestmark = pytest.mark.django_db

CONTENT = Path(__file__).resolve().parent.parent / "content"


def _text(html: str) -> str:
    """The words a reader sees: a line break or a block ends a line, links and spans do not."""
    html = re.sub(r"<(br|/p|/h2|/li)\b[^>]*>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _footer(html: str) -> str:
    return _text(html.split('<footer class="site-footer">')[1].split("</footer>")[0])


def _contact(html: str) -> str:
    return _text(re.search(r'<div class="site-footer__contact" id="contact">(.*?)</div>', html, re.S).group(1))


def _fill_in(**fields):
    s = SiteSettings.load()
    for name, value in fields.items():
        setattr(s, name, value)
    s.full_clean()
    s.save()


@pytest.fixture
def pages(tree):
    home, index = tree
    story = make_story(index, title="页脚")
    privacy = home.add_child(
        instance=InformationPage(title="隐私说明", slug="privacy", summary="本站不收集读者的信息。")
    )
    privacy.save_revision().publish()
    return {"home": home, "story": story, "privacy": privacy}


def test_until_the_operator_fills_it_in_the_footer_says_plainly_there_is_no_contact(client, pages):
    for page in pages.values():
        contact = _contact(client.get(page.url).content.decode())
        assert contact.startswith("联系我们")
        assert "本站的运营方还没有公布联系方式" in contact and "暂时无法通过本站联系我们" in contact
        assert "电话" not in contact.replace("电话或", "") and "@" not in contact


def test_the_footer_shows_the_contact_the_operator_filled_in_on_every_page(client, pages):
    _fill_in(
        publisher="某某区某某街道办事处",
        office_name="党群工作办公室",
        office_address="北京市某某区某某路1号",
        office_phone="010-6512 3456",
        office_email="xiaoge@example.org",
        office_hours="工作日 9:00–17:00",
    )
    for page in pages.values():
        html = client.get(page.url).content.decode()
        contact = _contact(html)
        assert "某某区某某街道办事处 党群工作办公室" in contact
        assert "地址：北京市某某区某某路1号" in contact and "电话：010-6512 3456" in contact
        assert "电子邮箱：xiaoge@example.org" in contact and "办公时间：工作日 9:00–17:00" in contact
        assert "还没有公布" not in _footer(html)
        assert 'href="tel:01065123456"' in html and 'href="mailto:xiaoge@example.org"' in html


def test_a_department_without_a_way_to_reach_it_is_not_a_contact(client, pages):
    _fill_in(publisher="某某区某某街道办事处", office_name="党群工作办公室")
    contact = _contact(client.get(pages["home"].url).content.decode())
    assert "还没有公布联系方式" in contact


def test_the_privacy_page_sends_readers_to_the_footers_contact():
    text = (CONTENT / "pages" / "privacy.md").read_text(encoding="utf-8")
    assert "页面底部“联系我们”" in text and "运营方还没有填写时，“联系我们”里会如实写明" in text


def test_the_deploy_check_and_the_dashboard_warn_the_operator_until_there_is_a_contact(client, django_user_model, tree):
    def warnings():
        return [m for m in run_checks(include_deployment_checks=True) if m.id == "core.W001"]

    admin = django_user_model.objects.create_superuser("operator", "operator@example.org", "pw")
    client.force_login(admin)
    assert warnings() and "联系方式" in warnings()[0].msg and "网站设置" in warnings()[0].hint
    dashboard = client.get("/admin/").content.decode()
    assert "公开网站还没有联系方式" in dashboard and 'href="/admin/settings/core/sitesettings/"' in dashboard

    _fill_in(office_email="xiaoge@example.org")
    assert warnings() == []
    assert "公开网站还没有联系方式" not in client.get("/admin/").content.decode()
