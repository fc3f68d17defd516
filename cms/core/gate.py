"""The one gate every version of a page passes on its way to the public.

Two rules, checked together wherever a page or a revision becomes live:

1. **Review**: the revision that goes live was approved, in the review workflow, by someone other than
   its author. Superusers (the site's technical administrators) may publish without review. Work done
   without a request (the command line: `import_content --publish`, the scheduler publishing a revision
   that was approved earlier) is the operator's and needs no review; inside a web request the person is
   always the request's user, whatever the code passed as `user`.
2. **Content**: the version carries no personal data (`cms.core.privacy.page_problems`), and what it says
   about real people is sourced: quotes verbatim from a source, a source listed wherever a real person
   is named, no real person in an illustrative story (`cms.core.provenance.provenance_problems`).

Where it runs, so that no route goes around it:

- `BasePage.publish()` (every `revision.publish()`: the editor, approval, bulk publish, revert, the
  scheduler, the importer) calls `check()` before anything is saved;
- `BasePage.save()` calls `guard_save()`: a page row that becomes live, or changes its live revision,
  without having passed `check()` in the same call (a copy kept live, an alias, code that sets
  `live=True`) is checked here; a new page that fails is saved as a draft instead, an existing one is
  refused;
- `pre_page_move` (every move: the admin's, bulk move, code) re-checks the live content of the page;
- the workflow publishes the revision that was approved (`publish_reviewed_revision`), not whatever was
  saved last.

A refusal raises `PublishRefused` (or its `PrivacyBlocked`) before anything is written, so the page stays
exactly as live or not-live as before; in the admin, `PublishRefusedMiddleware` turns it into a message.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from cms.core.middleware import current_request
from cms.core.privacy import PrivacyBlocked, PublishRefused, page_problems

#: (page id, revision id) pairs that passed `check()` in the current publish call.
_passed: ContextVar[frozenset] = ContextVar("xiaoge_gate_passed", default=frozenset())

REVIEW_NEEDED = "发布前需要另一位审核员审核：请点击“提交审核”。"


def acting_user(user=None):
    """The person behind this change: in a web request always its user; otherwise `user` (None = operator)."""
    request = current_request()
    if request is not None:
        person = getattr(request, "user", None)
        return person if person is not None and person.is_authenticated else user
    return user


def was_approved(revision, user) -> bool:
    """Was this exact revision approved in review by `user`, who is not its author?"""
    from wagtail.models import TaskState

    if revision is None or revision.pk is None or user is None or user.pk == revision.user_id:
        return False
    return TaskState.objects.filter(
        revision_id=revision.pk, status=TaskState.STATUS_APPROVED, finished_by_id=user.pk
    ).exists()


def review_problems(revision, user=None) -> list[str]:
    person = acting_user(user)
    if person is None or person.is_superuser:
        return []
    if was_approved(revision, person):
        return []
    if revision is not None and revision.user_id == person.pk:
        return ["这是你自己写的修改，" + REVIEW_NEEDED]
    return [REVIEW_NEEDED]


def content_problems(obj) -> list[str]:
    """No personal data anywhere the version shows; every quote and every real person sourced."""
    from cms.core.provenance import provenance_problems

    return page_problems(obj) + provenance_problems(obj)


def check(obj, revision, user=None) -> None:
    """Refuse (raise) unless this version may go live now. Nothing is written either way."""
    problems = review_problems(revision, user)
    if problems:
        raise PublishRefused(problems)
    problems = content_problems(obj)
    if problems:
        raise PrivacyBlocked(problems)


@contextmanager
def passed(page_id, revision_id):
    """Inside: the page row may take this live revision (it has just passed `check`)."""
    token = _passed.set(_passed.get() | {(page_id, revision_id)})
    try:
        yield
    finally:
        _passed.reset(token)


def guard_save(page, update_fields=None) -> None:
    """Called by `BasePage.save()` before the row is written: the last line behind every route.

    A row becoming live, or changing the revision it shows, must have passed `check()` in this call.
    Otherwise the gate runs here: on the row's own content when it is new (a copy, an alias), on the live
    revision's content when that changes. A new page that fails becomes a draft (Wagtail's copy and
    create code would otherwise leave it live), with a message for the person; an existing page that
    fails is refused.
    """
    from wagtail.models import Page

    adding = page._state.adding or page.pk is None
    before = None if adding else Page.objects.filter(pk=page.pk).values("live", "live_revision_id").first()
    if not page.live:
        # A draft cannot point at a live revision (Wagtail's copy sets it after the copy became a draft).
        if page.live_revision_id and (before is None or before["live_revision_id"] != page.live_revision_id):
            page.live_revision = None
        return
    becoming_live = before is None or not before["live"]
    new_revision = before is not None and before["live_revision_id"] != page.live_revision_id
    if not (becoming_live or new_revision):
        return
    if (page.pk, page.live_revision_id) in _passed.get():
        return
    revision = page.live_revision if page.live_revision_id else None
    if getattr(page, "alias_of_id", None):
        # An alias shows its original's live content, which passed the gate when it was published.
        source = Page.objects.filter(pk=page.alias_of_id).values("live").first()
        problems = [] if source and source["live"] else [REVIEW_NEEDED]
    elif adding:
        # A new live row (a copy kept live): its author is whoever made it; nobody reviewed it.
        problems = review_problems(None)
    else:
        problems = review_problems(revision)
    content = revision.as_object() if (revision is not None and not adding) else page
    problems = problems or content_problems(content)
    if not problems:
        return
    if adding:
        page.live = False
        page.has_unpublished_changes = True
        page.live_revision = None
        page.first_published_at = page.last_published_at = None
        _tell("《{}》已保存为草稿，没有发布：{}".format(page.title, "；".join(problems)))
        return
    raise PublishRefused(problems)


def _tell(message: str) -> None:
    from django.contrib import messages

    request = current_request()
    if request is not None and hasattr(request, "_messages"):
        messages.warning(request, message)


def before_move(sender, instance, **kwargs) -> None:
    """`pre_page_move`: a live page about to appear under another parent is checked again (its live
    content may predate a stricter rule). Raising here stops the move before anything changes."""
    check_live_content(instance)


def check_live_content(page) -> None:
    """A live page shown somewhere else (moved): its live content must still pass the content rule."""
    if not page.live:
        return
    page = page.specific
    revision = page.live_revision
    content = revision.as_object() if revision is not None else page
    problems = content_problems(content)
    if problems:
        raise PrivacyBlocked(problems)


#: Revision content that records when and where, not what the page says.
BOOKKEEPING = {
    "pk", "id", "path", "depth", "numchild", "url_path", "draft_title", "latest_revision", "latest_revision_id",
    "latest_revision_created_at", "live", "live_revision", "has_unpublished_changes", "first_published_at",
    "last_published_at", "locked", "locked_at", "locked_by", "owner", "content_type", "wagtail_admin_comments",
}  # fmt: skip


def same_content(a, b) -> bool:
    """Do two revisions say the same thing? (The editor saves a revision on every post of its form, even
    when nothing was changed: then only the bookkeeping differs.)"""
    if a is None or b is None:
        return False
    strip = lambda content: {k: v for k, v in content.items() if k not in BOOKKEEPING}  # noqa: E731
    return strip(a.content) == strip(b.content)


def publish_reviewed_revision(workflow_state, user=None):
    """The workflow's last step (WAGTAIL_FINISH_WORKFLOW_ACTION): publish the revision the reviewer
    approved. Wagtail's own publishes the latest revision, which may be one saved during the review."""
    state = workflow_state.current_task_state
    revision = state.revision if state is not None and state.revision_id else None
    page = workflow_state.content_object
    latest = page.get_latest_revision()
    if revision is None:
        revision = latest
    revision.publish(user=user)
    if latest is not None and latest.pk != revision.pk and same_content(latest, revision):
        # The reviewer's click saved an identical revision: nothing is waiting to be published.
        type(page).objects.filter(pk=page.pk).update(has_unpublished_changes=False)
