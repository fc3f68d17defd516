"""The governance model as a reader meets it: the diagram, the adoption matrix, street pages, a component."""

import pytest

from tests.support.helpers import make_model, make_playbook, make_street

pytestmark = pytest.mark.django_db


def test_the_model_shows_the_diagram_matrix_and_street_pages(client, tree):
    home, _index = tree
    taoranting = make_street()
    jianwai = make_street(name="建外街道", slug="jianwai", district="朝阳区")
    model, components = make_model(home, streets=[taoranting, jianwai])
    html = client.get(model.url).content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "<title" in svg and "社区治理联动微信群" in svg
    for component in components:
        assert f'href="{component.url}"' in svg, "each box links to its component"
    assert '<table class="matrix">' in html and '<th scope="col">' in html and '<th scope="row">' in html
    assert "运行中" in html and "计划中" in html and "未开展" in html
    adoption = client.get(model.url + "adoption/").content.decode()
    assert "2022年起" in adoption and "街道" in adoption
    street = client.get(model.url + "street/taoranting/").content.decode()
    assert "社区治理联动微信群" in street and "副楼长" in street and "骑士驿站" not in street
    assert client.get(model.url + "street/nowhere/").status_code == 404


def test_a_component_says_what_it_is_and_who_runs_it(client, tree):
    home, _index = tree
    street = make_street()
    model, components = make_model(home, streets=[street])
    playbook, chapters = make_playbook(home, chapters=1)
    hub = components[0]
    hub.playbook_chapter = chapters[0]
    hub.save_revision().publish()
    html = client.get(hub.url).content.decode()
    assert "社区治理联动微信群是什么。" in html and "它解决的问题。" in html
    assert "一名联络人" in html and "无需专项经费" in html
    assert "上报问题数" in html and "流于形式" in html
    assert "陶然亭街道" in html and "运行中" in html and "2022年起" in html
    assert chapters[0].url in html and "怎样建立" in html
    assert "模式的中枢" in html
