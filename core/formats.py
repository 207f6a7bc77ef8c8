"""How dates read in documents, emails and refusals: 2027年2月28日（日） in Japanese, and the same
date in the customer's words when their language is another (Sun, February 28, 2027).

The Japanese patterns are Django date formats whose literal characters (年, 月, 日) pass through,
so the catalogue translates the pattern, not each date.
"""

from __future__ import annotations

from datetime import date

from django.utils import dateformat
from django.utils.translation import gettext


def format_date(day: date, *, weekday: bool = False) -> str:
    """The date in the active language: 2027年2月28日（日） / Sun, February 28, 2027."""
    pattern = gettext("Y年n月j日（D）") if weekday else gettext("Y年n月j日")
    return dateformat.format(day, pattern)


def format_short_date(day: date) -> str:
    """Month and day in the active language: 2月28日 / Feb 28."""
    return dateformat.format(day, gettext("n月j日"))
