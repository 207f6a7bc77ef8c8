"""The first delivery dates a checkout offers: the calendar's earliest, up to the shop's window."""

from __future__ import annotations

from datetime import date

import pytest

from storefront.first_dates import first_delivery_choices, first_delivery_range
from subscriptions.calendar import BusinessCalendar

WEEKEND = frozenset({5, 6})


@pytest.mark.parametrize(
    ("case", "today", "first_creation", "calendar", "lead_days", "window", "expected"),
    [
        # Wed 2027-01-13, 5 open days (Thu, Fri, Mon, Tue, Wed… counting from today): order
        # created today at the latest, so delivery the day after the 5th open day from today.
        ("weekday", date(2027, 1, 13), date(2027, 1, 13), BusinessCalendar(WEEKEND), 5, 60,
         (date(2027, 1, 20), date(2027, 3, 14))),
        # Month end: Fri 2027-01-29 + 3 open days (Fri, Mon, Tue) → Wed 2027-02-03.
        ("month end", date(2027, 1, 29), date(2027, 1, 29), BusinessCalendar(WEEKEND), 3, 30,
         (date(2027, 2, 3), date(2027, 2, 28))),
        # Year end into 2028: 12-31 Fri, closed 1-3 specially; 01-01 holiday anyway.
        ("new year closure", date(2027, 12, 30), date(2027, 12, 30),
         BusinessCalendar(WEEKEND, jp_holidays=True, special_closures={date(2027, 12, 31), date(2028, 1, 3)}),
         2, 10, (date(2028, 1, 5), date(2028, 1, 9))),
        # Golden Week: 2027-04-29 (Thu, 昭和の日) and 05-03..05 are holidays.
        ("golden week", date(2027, 4, 28), date(2027, 4, 28), BusinessCalendar(WEEKEND, jp_holidays=True),
         3, 60, (date(2027, 5, 7), date(2027, 6, 27))),
        # Holidays not closed: the same dates count as open days.
        ("holidays open", date(2027, 4, 28), date(2027, 4, 28), BusinessCalendar(WEEKEND), 3, 60,
         (date(2027, 5, 1), date(2027, 6, 27))),
        # Tonight's run already made today's orders: counting starts tomorrow.
        ("after the run", date(2027, 1, 13), date(2027, 1, 14), BusinessCalendar(WEEKEND), 1, 60,
         (date(2027, 1, 15), date(2027, 3, 14))),
        # lead_days 0: the first open day itself (Sat today → Mon).
        ("lead 0 weekend", date(2027, 1, 16), date(2027, 1, 16), BusinessCalendar(WEEKEND), 0, 5,
         (date(2027, 1, 18), date(2027, 1, 21))),
        # A window shorter than the lead time never gives an empty range.
        ("tiny window", date(2027, 1, 13), date(2027, 1, 13), BusinessCalendar(WEEKEND), 5, 2,
         (date(2027, 1, 20), date(2027, 1, 20))),
        # Leap year: Fri 2028-02-25 + 2 open days (Fri, Mon 28) → Tue Feb 29.
        ("leap day", date(2028, 2, 25), date(2028, 2, 25), BusinessCalendar(WEEKEND), 2, 7,
         (date(2028, 2, 29), date(2028, 3, 3))),
    ],
)  # fmt: skip
def test_first_delivery_range(case, today, first_creation, calendar, lead_days, window, expected) -> None:  # noqa: ANN001
    got = first_delivery_range(
        first_creation=first_creation, today=today, calendar=calendar, lead_days=lead_days, window_days=window
    )
    assert got == expected, case
    # the earliest is exactly the first date whose order can be created on or after first_creation
    earliest = got[0]
    assert calendar.creation_date(earliest, lead_days) >= first_creation
    if lead_days:
        from datetime import timedelta

        assert calendar.creation_date(earliest - timedelta(days=1), lead_days) < first_creation


def test_choices_are_every_day_of_the_range() -> None:
    days = first_delivery_choices(earliest=date(2027, 2, 27), latest=date(2027, 3, 2))
    assert days == [date(2027, 2, 27), date(2027, 2, 28), date(2027, 3, 1), date(2027, 3, 2)]
