"""Which first delivery dates a checkout offers. Pure: the business calendar decides, nothing here
re-derives it.

The earliest is the first date whose order can still be created in time: BusinessCalendar.earliest_delivery
from the first creation date still open today (tomorrow once tonight's run has created today's
orders: subscriptions.selectors.first_creation_date). The latest is `window_days` after today.
"""

from __future__ import annotations

from datetime import date, timedelta

from subscriptions.calendar import BusinessCalendar


def first_delivery_range(
    *, first_creation: date, today: date, calendar: BusinessCalendar, lead_days: int, window_days: int
) -> tuple[date, date]:
    """(earliest, latest) first delivery date, both inclusive; latest is never before earliest."""
    earliest = calendar.earliest_delivery(first_creation, lead_days)
    return earliest, max(earliest, today + timedelta(days=window_days))


def first_delivery_choices(*, earliest: date, latest: date) -> list[date]:
    """Every date from earliest to latest: a delivery day may be closed, carriers deliver anyway."""
    return [earliest + timedelta(days=n) for n in range((latest - earliest).days + 1)]
