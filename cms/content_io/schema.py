"""What each kind of file may contain: typed fields with the messages a writer needs when one is wrong, and
where a page keeps each of them (`Field.store`, see `fields.STORES`): the importer writes a page's fields
and the exporter reads them back from these schemas alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .fields import SNIPPET_SLUG_MAX, Field, Schema

# A meta description: search engines show about 80 to 120 Chinese characters of it. The admin's limit is the
# same (BasePageForm.SEARCH_DESCRIPTION_MAX in cms/core/models/base.py).
SEARCH_DESCRIPTION_MAX = 200
SEO = (
    Field("seo_title", "line", max_length=255),
    Field("search_description", "text", max_length=SEARCH_DESCRIPTION_MAX),
)
PAGE_SLUG = Field("slug", "slug", store="slug")
ORDER = Field("order", "int", required=True, store="order")
SOURCE_LINKS = Field("sources", "list", max_length=60, store="rows", attr="source_links")  # keys in sources.yaml

STORY = Schema(
    (
        Field("title", "line", required=True, max_length=255),
        PAGE_SLUG,
        Field("date", "date", required=True),
        Field("summary", "text", required=True, max_length=300),
        Field("street", "slug", store="street"),
        Field("tags", "list", max_length=100, store="tags"),
        Field("people", "refs", store="rows", attr="featured_people"),
        SOURCE_LINKS,
        Field("illustrative", "bool"),
        Field("featured", "bool"),
        Field("hero_image", "image", store="hero"),
        Field("related", "refs", store="rows", attr="related_links"),
        *SEO,
    ),
    body="markdown",
)
STORY_INDEX = Schema((Field("title", "line", required=True, max_length=255), PAGE_SLUG, *SEO), body="intro")
HOME = Schema(
    (
        Field("title", "line", required=True, max_length=255),
        Field("lead", "text"),
        Field("key_figures", "figures", store="stream", block="figure"),
        Field("latest_count", "int"),
        *SEO,
    )
)
SETTINGS = Schema(
    (
        Field("program_name", "line", max_length=60),
        Field("tagline", "line", max_length=120),
        Field("footer_text", "text"),
        Field("publisher", "line", max_length=120),
        Field("office_name", "line", max_length=80),
        Field("office_address", "line", max_length=160),
        Field("office_phone", "line", max_length=40),
        Field("office_email", "line", max_length=254),
        Field("office_hours", "line", max_length=80),
        Field("icp_number", "line", max_length=60),
        Field("police_number", "line", max_length=60),
    )
)
STREET = Schema(
    (
        Field("slug", "slug", max_length=SNIPPET_SLUG_MAX),
        Field("name", "line", required=True, max_length=60),
        Field("district", "line", required=True, max_length=30),
        Field("city", "line", max_length=30),
        Field("setting", "line", max_length=200),
        Field("summary", "text"),
        Field("key_figures", "figures"),
        Field("source", "slug", max_length=60),
    )
)
PERSON = Schema(
    (
        Field("slug", "slug", max_length=SNIPPET_SLUG_MAX),
        Field("name", "line", required=True, max_length=40),
        Field("role", "line", required=True, max_length=80),
        Field("organisation", "line", max_length=80),
        Field("street", "slug"),
        Field("named_in", "slug", max_length=60),
        Field("consent_on_record", "bool"),
        Field("consent_note", "line", max_length=200),
    )
)


SOURCE_QUOTE = Schema((Field("person", "slug", required=True), Field("text", "text", required=True, max_length=600)))
SOURCE = Schema(
    (
        Field("key", "slug", required=True, max_length=60),
        Field("publication", "line", required=True, max_length=80),
        Field("title", "line", required=True, max_length=200),
        Field("date", "date", required=True),
        Field("authors", "line", max_length=120),
        Field("url", "line", max_length=200),
        Field("note", "line", max_length=200),
        Field("quotes", "records", item=SOURCE_QUOTE, max_items=200),
    )
)

TITLE = Field("title", "line", required=True, max_length=255)
SECTION_INDEX = Schema(
    (TITLE, PAGE_SLUG, Field("intro", "text", required=True), *SEO), body="markdown", body_required=False
)
STEP = Schema(
    (
        Field("title", "line", required=True, max_length=120),
        Field("who", "line", required=True, max_length=120),
        Field("time", "line", required=True, max_length=80),
        Field("cost", "line", required=True, max_length=120),
        Field("needs", "line", required=True, max_length=200),
        Field("detail", "text"),
    )
)
PITFALL = Schema((Field("title", "line", required=True, max_length=120), Field("detail", "text", required=True)))
CASE = Schema(
    (
        Field("street", "slug", required=True),
        Field("text", "text", required=True),
        Field("figures", "figures"),
        Field("stories", "refs"),
        Field("sources", "list", max_length=60),
    )
)
TEMPLATE = Schema(
    (
        Field("file", "line", required=True),
        Field("title", "line", required=True, max_length=120),
        Field("description", "line", max_length=200),
    )
)
CHAPTER = Schema(
    (
        TITLE,
        PAGE_SLUG,
        ORDER,
        Field("summary", "text", required=True, max_length=300),
        Field("purpose", "text", required=True),
        Field("steps", "records", required=True, item=STEP, min_items=1, max_items=12, store="stream", block="step"),
        Field("checklist", "list", max_length=200, max_items=20, store="stream", block="item"),
        Field("pitfalls", "records", item=PITFALL, max_items=10, store="stream", block="pitfall"),
        Field("cases", "records", item=CASE, max_items=6, store="stream", block="case"),
        Field("templates", "records", item=TEMPLATE, max_items=10, store="stream", block="template"),
        Field("change_note", "line", max_length=300),
        Field("change_kind", "choice", choices=("major", "minor")),
        *SEO,
    ),
    body="markdown",
    body_required=False,
)
ADOPTION = Schema(
    (
        Field("street", "slug", required=True),
        Field("stage", "choice", required=True, choices=("planned", "pilot", "running", "expanding")),
        Field("since", "line", max_length=40),
        Field("runner", "line", required=True, max_length=120),
        Field("note", "line", required=True, max_length=300),
    )
)
COMPONENT = Schema(
    (
        TITLE,
        PAGE_SLUG,
        ORDER,
        Field("short_name", "line", max_length=12),
        Field("role", "choice", required=True, choices=("hub", "component")),
        Field("summary", "text", required=True, max_length=300),
        Field("problem", "text", required=True),
        Field("who_runs", "line", required=True, max_length=200),
        Field("needs_people", "line", required=True, max_length=200),
        Field("needs_space", "line", required=True, max_length=200),
        Field("needs_money", "line", required=True, max_length=200),
        Field("playbook", "ref", store="page", attr="playbook_chapter"),
        Field("measures", "list", max_length=120, min_items=1, max_items=10, store="stream", block="item"),
        Field("risks", "list", max_length=200, min_items=1, max_items=10, store="stream", block="item"),
        Field("adoptions", "records", item=ADOPTION, max_items=50, store="rows"),
        Field("stories", "refs", store="stream", block="page"),
        SOURCE_LINKS,
        *SEO,
    ),
    body="markdown",
    body_required=False,
)


COURSE = Schema(
    (
        TITLE,
        PAGE_SLUG,
        ORDER,
        Field("summary", "text", required=True, max_length=300),
        Field("audience", "line", required=True, max_length=120),
        *SEO,
    ),
    body="intro",
)
QUESTION = Schema(
    (
        Field("question", "line", required=True, max_length=300),
        Field("options", "list", required=True, max_length=200, min_items=2, max_items=4),
        Field("answer", "int", required=True),
        Field("explanation", "text", required=True),
    )
)
LESSON = Schema(
    (
        TITLE,
        PAGE_SLUG,
        ORDER,
        Field("duration", "int", required=True),
        Field(
            "key_points", "list", required=True, max_length=200, min_items=3, max_items=5, store="stream", block="item"
        ),
        Field("sources", "list", max_length=300, max_items=10, store="stream", block="item"),  # as written, not keys
        Field("quiz", "records", item=QUESTION, max_items=10, store="stream", block="question"),
        *SEO,
    ),
    body="markdown",
)


INFO = Schema((TITLE, PAGE_SLUG, Field("summary", "text", required=True, max_length=300), *SEO), body="markdown")
PAGES_FOLDER = "pages"  # content/pages/<slug>.md: information pages directly under home (privacy, reuse)


@dataclass
class Section:
    """A top-level folder of content/ and the page types it holds.

    A section with a grandchild model nests one level deeper: `training/<course>/_index.md` is a child
    page (a course) and `training/<course>/<lesson>.md` its children (lessons).
    """

    folder: str
    index_model: str  # "app_label.ModelName"
    index_schema: Schema
    child_model: str
    child_schema: Schema
    grandchild_model: str | None = None
    grandchild_schema: Schema | None = None
    extra: dict = field(default_factory=dict)


SECTIONS = {
    "stories": Section("stories", "stories.StoryIndexPage", STORY_INDEX, "stories.StoryPage", STORY),
    "playbook": Section("playbook", "playbook.PlaybookPage", SECTION_INDEX, "playbook.PlaybookChapterPage", CHAPTER),
    "model": Section("model", "governance.ModelIndexPage", SECTION_INDEX, "governance.ComponentPage", COMPONENT),
    "training": Section(
        "training",
        "training.TrainingIndexPage",
        SECTION_INDEX,
        "training.CoursePage",
        COURSE,
        grandchild_model="training.LessonPage",
        grandchild_schema=LESSON,
    ),
}
