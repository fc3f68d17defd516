from .base import BasePage, ListingFieldsMixin, SocialFieldsMixin
from .rows import ROW_ORDER, InlineRow
from .sections import RoutableBasePage, SectionIndexPage
from .settings import SiteSettings
from .snippets import Person, Source, SourceLink, SourceQuote, Street
from .tags import Tag

__all__ = [
    "ROW_ORDER",
    "BasePage",
    "InlineRow",
    "ListingFieldsMixin",
    "Person",
    "RoutableBasePage",
    "SectionIndexPage",
    "SiteSettings",
    "SocialFieldsMixin",
    "Source",
    "SourceLink",
    "SourceQuote",
    "Street",
    "Tag",
]
