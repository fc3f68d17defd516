"""bench/editors_load.click_to_live: the time from a click on publish (or approve) to the release that shows
the revision it published going live, read from Wagtail's publish log, the releases' manifests and
PageState (a benchmark's measurement: the figures themselves are never asserted, only how they are found)."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from django.utils import timezone

from bench.editors_load import click_to_live
from cms.publishing.models import PageState, Release
from tests.support.helpers import make_story


def publish(story) -> dict:
    """Publish a new revision of the story as the editor's click would; the event locust writes for it."""
    clicked = time.time()
    story.title = f"{story.title}（改）"
    story.save_revision().publish()
    story.refresh_from_db()
    return {"page": story.pk, "title": story.title, "how": "publish", "clicked": clicked, "answered": time.time()}


def release(name: str, finished: float, folder, pages: dict | None, **fields) -> Release:
    """A live (or superseded) release that finished at `finished` (epoch seconds), with its manifest's
    pages ({page id: revision id}) written to `folder` unless None (pruned before anyone saw it)."""
    created = Release.objects.create(
        name=name,
        status=fields.pop("status", Release.STATUS_SUPERSEDED),
        finished_at=datetime.datetime.fromtimestamp(finished, tz=datetime.UTC),
        **fields,
    )
    if pages is not None:
        (folder / f"{name}.json").write_text(json.dumps({"files": {}, "pages": {str(k): v for k, v in pages.items()}}))
    return created


@pytest.fixture
def stories(tree):
    _home, index = tree
    stories = [make_story(index, title=f"故事{n}", sources=[]) for n in (1, 2, 3)]
    for story in stories:
        story.refresh_from_db()
    return stories


@pytest.mark.django_db
def test_the_first_release_showing_the_revision_not_the_first_after_the_click(stories, tmp_path):
    """A release that finished after the click but read the pages before the publish (its manifest shows the
    old revision) is not the one that made it live: the next one, which shows it, is."""
    since = timezone.now() - datetime.timedelta(seconds=5)
    story = stories[0]
    old = story.live_revision_id
    event = publish(story)
    new = story.live_revision_id
    read_before = release("r1", event["clicked"] + 1.0, tmp_path, {story.pk: old})
    showing = release("r2", event["clicked"] + 3.5, tmp_path, {story.pk: new}, status=Release.STATUS_LIVE)
    PageState.objects.create(page_id=story.pk, revision_id=new, release=showing)

    result = click_to_live([event], since, [tmp_path])

    assert result["publish"] == [pytest.approx(3.5, abs=0.01)]
    assert result["never"] == [] and result["unmatched"] == 0 and result["no_manifest"] == []
    assert result["checked"] == 1 and result["disagree"] == []
    assert read_before.finished_at.timestamp() > event["clicked"]  # finished after the click, yet not it


@pytest.mark.django_db
def test_a_revision_shown_only_through_a_later_one_and_one_never_live(stories, tmp_path):
    """Two publishes of one page built together: the first is live when the release shows the second. A
    publish no release showed by the end is counted as never live."""
    since = timezone.now() - datetime.timedelta(seconds=5)
    first_story, second_story = stories[:2]
    first = publish(first_story)
    again = publish(first_story)
    never = publish(second_story)
    both = release("r1", again["clicked"] + 2.0, tmp_path, {first_story.pk: first_story.live_revision_id})

    result = click_to_live([first, again, never], since, [tmp_path])

    finished = both.finished_at.timestamp()
    assert result["publish"] == [
        pytest.approx(finished - first["clicked"], abs=0.01),
        pytest.approx(finished - again["clicked"], abs=0.01),
    ]
    assert len(result["never"]) == 1 and f"页面 {second_story.pk} " in result["never"][0]


@pytest.mark.django_db
def test_page_state_stands_in_for_a_pruned_manifest_and_a_search_release(stories, tmp_path):
    """A release whose manifest was pruned before it was seen: PageState names the release that first showed
    the page's revision; when a search-index release took its place there, the page release it refreshed."""
    since = timezone.now() - datetime.timedelta(seconds=5)
    story = stories[0]
    event = publish(story)
    event["how"] = "approve"
    pruned = release("r1", event["clicked"] + 2.0, tmp_path, None)
    search = release("r1-search", event["clicked"] + 9.0, tmp_path, None, content_of=pruned)
    PageState.objects.create(page_id=story.pk, revision_id=story.live_revision_id, release=search)

    result = click_to_live([event], since, [tmp_path])

    assert result["approve"] == [pytest.approx(2.0, abs=0.01)]
    assert result["no_manifest"] == ["r1"]
    assert result["never"] == []


@pytest.mark.django_db
def test_manifest_and_page_state_disagreeing_is_reported(stories, tmp_path):
    since = timezone.now() - datetime.timedelta(seconds=5)
    story = stories[0]
    event = publish(story)
    shown = release("r1", event["clicked"] + 1.0, tmp_path, {story.pk: story.live_revision_id})
    later = release("r2", event["clicked"] + 4.0, tmp_path, {story.pk: story.live_revision_id})
    PageState.objects.create(page_id=story.pk, revision_id=story.live_revision_id, release=later)

    result = click_to_live([event], since, [tmp_path])

    assert result["publish"] == [pytest.approx(1.0, abs=0.01)]
    assert result["checked"] == 1
    assert result["disagree"] == [f"页面 {story.pk} 版本 {story.live_revision_id}：清单 {shown.name}，PageState r2"]
