"""Inline rows beside a page or a snippet: picks, people, sources, quotes, adoptions, home features."""

from wagtail.models import Orderable

# The admin's form and the importer number rows; a script that adds rows without a number gets them in the
# order it added them. Ordered by sort_order alone, PostgreSQL returned such rows in any order (a row
# rewritten by an UPDATE came last), so two reads of the same picks could give a story two signatures.
ROW_ORDER = ("sort_order", "pk")


class InlineRow(Orderable):
    """An Orderable read in ROW_ORDER."""

    class Meta(Orderable.Meta):
        abstract = True
        ordering = list(ROW_ORDER)
