"""Every page type's place in the tree, in one place."""

import pytest
from wagtail.models import Page

from cms.governance.models import ComponentPage, ModelIndexPage
from cms.home.models import HomePage, InformationPage
from cms.playbook.models import PlaybookChapterPage, PlaybookPage
from cms.stories.models import StoryIndexPage, StoryPage
from cms.training.models import CoursePage, LessonPage, TrainingIndexPage

TREE = {
    HomePage: {
        "parents": {Page},
        "children": {StoryIndexPage, PlaybookPage, ModelIndexPage, TrainingIndexPage, InformationPage},
    },
    InformationPage: {"parents": {HomePage}, "children": set()},
    TrainingIndexPage: {"parents": {HomePage}, "children": {CoursePage}},
    CoursePage: {"parents": {TrainingIndexPage}, "children": {LessonPage}},
    LessonPage: {"parents": {CoursePage}, "children": set()},
    PlaybookPage: {"parents": {HomePage}, "children": {PlaybookChapterPage}},
    PlaybookChapterPage: {"parents": {PlaybookPage}, "children": set()},
    ModelIndexPage: {"parents": {HomePage}, "children": {ComponentPage}},
    ComponentPage: {"parents": {ModelIndexPage}, "children": set()},
    StoryIndexPage: {"parents": {HomePage}, "children": {StoryPage}},
    StoryPage: {"parents": {StoryIndexPage}, "children": set()},
}


def test_every_page_type_is_listed_here():
    from wagtail.models import get_page_models

    ours = {m for m in get_page_models() if m is not Page}
    assert ours == set(TREE), "add the new page type to TREE with its parents and children"


@pytest.mark.parametrize("model", list(TREE), ids=lambda m: m.__name__)
def test_allowed_parents_and_children(model):
    assert set(model.allowed_parent_page_models()) == TREE[model]["parents"]
    assert set(model.allowed_subpage_models()) == TREE[model]["children"]


@pytest.mark.parametrize("model", list(TREE), ids=lambda m: m.__name__)
def test_every_page_type_describes_itself(model):
    assert model.page_description
    assert model._meta.verbose_name and model._meta.verbose_name != model.__name__.lower()


def test_singletons():
    assert HomePage.max_count == 1
    assert StoryIndexPage.max_count == 1
    assert PlaybookPage.max_count == 1
    assert ModelIndexPage.max_count == 1
    assert TrainingIndexPage.max_count == 1
