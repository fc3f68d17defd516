from .base import BasePage, ListingFieldsMixin, SocialFieldsMixin
from .settings import SiteSettings
from .snippets import Person, Source, SourceLink, SourceQuote, Street
from .tags import Tag

__all__ = [
    "BasePage",
    "ListingFieldsMixin",
    "Person",
    "SiteSettings",
    "SocialFieldsMixin",
    "Source",
    "SourceLink",
    "SourceQuote",
    "Street",
    "Tag",
]
