from .base import BasePage, ListingFieldsMixin, SocialFieldsMixin
from .sections import RoutableBasePage, SectionIndexPage
from .settings import SiteSettings
from .snippets import Person, Source, SourceLink, SourceQuote, Street
from .tags import Tag

__all__ = [
    "BasePage",
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
