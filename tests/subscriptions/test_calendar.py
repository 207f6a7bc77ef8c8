"""Business calendar: which days the shop works, and when an order must be created."""

from datetime import date, timedelta

import pytest

from subscriptions.calendar import BusinessCalendar, CalendarError

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKEND = frozenset({SAT, SUN})


def d(iso: str) -> date:
    return date.fromisoformat(iso)


def days(first: str, last: str) -> frozenset[date]:
    start, end = d(first), d(last)
    return frozenset(start + timedelta(n) for n in range((end - start).days + 1))


NEW_YEAR_CLOSURE = days("2026-12-29", "2027-01-03")  # 年末年始
ALL_OPEN = BusinessCalendar()
WEEKDAYS_ONLY = BusinessCalendar(closed_weekdays=WEEKEND)
JAPAN = BusinessCalendar(closed_weekdays=WEEKEND, jp_holidays=True)
JAPAN_WITH_NEW_YEAR = BusinessCalendar(
    closed_weekdays=WEEKEND, jp_holidays=True, special_closures=NEW_YEAR_CLOSURE
)
HOLIDAYS_ONLY = BusinessCalendar(jp_holidays=True)


# --- is_open ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        # With nothing configured every day is open, holidays included.
        (ALL_OPEN, "2027-01-01", True),
        (ALL_OPEN, "2027-01-02", True),
        # Closed weekdays.
        (WEEKDAYS_ONLY, "2027-01-02", False),  # Saturday
        (WEEKDAYS_ONLY, "2027-01-03", False),  # Sunday
        (WEEKDAYS_ONLY, "2027-01-04", True),  # Monday
        (WEEKDAYS_ONLY, "2027-04-29", True),  # 昭和の日, but holidays are not configured
        # Japanese public holidays: Golden Week 2027.
        (HOLIDAYS_ONLY, "2027-04-28", True),
        (HOLIDAYS_ONLY, "2027-04-29", False),  # 昭和の日
        (HOLIDAYS_ONLY, "2027-04-30", True),
        (HOLIDAYS_ONLY, "2027-05-03", False),  # 憲法記念日
        (HOLIDAYS_ONLY, "2027-05-04", False),  # みどりの日
        (HOLIDAYS_ONLY, "2027-05-05", False),  # こどもの日
        (HOLIDAYS_ONLY, "2027-05-06", True),
        # New Year, 振替休日 and autumn holidays (incl. 2026's 国民の休日).
        (HOLIDAYS_ONLY, "2027-01-01", False),
        (HOLIDAYS_ONLY, "2026-05-06", False),  # 憲法記念日 振替休日
        (HOLIDAYS_ONLY, "2027-03-22", False),  # 春分の日 振替休日
        (HOLIDAYS_ONLY, "2026-09-21", False),  # 敬老の日
        (HOLIDAYS_ONLY, "2026-09-22", False),  # 国民の休日
        (HOLIDAYS_ONLY, "2026-09-23", False),  # 秋分の日
        (HOLIDAYS_ONLY, "2027-09-23", False),  # 秋分の日
        (HOLIDAYS_ONLY, "2027-11-23", False),  # 勤労感謝の日
        (HOLIDAYS_ONLY, "2027-09-24", True),
        # Special closures.
        (JAPAN_WITH_NEW_YEAR, "2026-12-28", True),
        (JAPAN_WITH_NEW_YEAR, "2026-12-29", False),
        (JAPAN_WITH_NEW_YEAR, "2026-12-30", False),
        (JAPAN_WITH_NEW_YEAR, "2027-01-03", False),
        (JAPAN_WITH_NEW_YEAR, "2027-01-04", True),
    ],
)
def test_is_open(calendar, day, expected):
    assert calendar.is_open(d(day)) is expected


@pytest.mark.parametrize(
    "opening",
    [
        "2027-05-03",  # a public holiday
        "2027-01-09",  # a closed Saturday
        "2026-12-30",  # a special closure
    ],
)
def test_a_special_opening_wins_over_every_kind_of_closure(opening):
    calendar = BusinessCalendar(
        closed_weekdays=WEEKEND,
        jp_holidays=True,
        special_closures=NEW_YEAR_CLOSURE,
        special_openings=frozenset({d(opening)}),
    )

    assert calendar.is_open(d(opening))


@pytest.mark.parametrize("weekday", [-1, 7])
def test_an_unknown_closed_weekday_is_rejected(weekday):
    with pytest.raises(CalendarError, match="weekday"):
        BusinessCalendar(closed_weekdays=frozenset({weekday}))


def test_plain_sets_are_accepted_and_the_calendar_stays_hashable():
    calendar = BusinessCalendar(closed_weekdays={SAT}, special_closures={d("2027-01-01")})

    assert calendar == BusinessCalendar(
        closed_weekdays=frozenset({SAT}), special_closures=frozenset({d("2027-01-01")})
    )
    assert hash(calendar) == hash(
        BusinessCalendar(closed_weekdays=frozenset({SAT}), special_closures=frozenset({d("2027-01-01")}))
    )


# --- creation_date -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "delivery", "lead_days", "expected"),
    [
        # The delivery day itself is never one of the lead days.
        (ALL_OPEN, "2027-01-05", 0, "2027-01-05"),
        (ALL_OPEN, "2027-01-05", 1, "2027-01-04"),
        (ALL_OPEN, "2027-01-05", 3, "2027-01-02"),
        (ALL_OPEN, "2027-01-05", 10, "2026-12-26"),
        # Weekends are skipped while counting.
        (WEEKDAYS_ONLY, "2027-01-11", 1, "2027-01-08"),
        (WEEKDAYS_ONLY, "2027-01-11", 2, "2027-01-07"),
        (WEEKDAYS_ONLY, "2027-01-12", 1, "2027-01-11"),
        # Lead 0 on a closed day: the latest open day before it.
        (WEEKDAYS_ONLY, "2027-01-09", 0, "2027-01-08"),
        (WEEKDAYS_ONLY, "2027-01-10", 0, "2027-01-08"),
        (JAPAN, "2027-05-05", 0, "2027-04-30"),
        # Golden Week 2027: Apr 29 and May 3-5 are holidays, May 1-2 a weekend.
        (JAPAN, "2027-05-06", 1, "2027-04-30"),
        (JAPAN, "2027-05-06", 2, "2027-04-28"),
        (JAPAN, "2027-05-07", 1, "2027-05-06"),
        # Golden Week 2026 ends with a 振替休日 on Wed May 6.
        (JAPAN, "2026-05-07", 1, "2026-05-01"),
        # Autumn 2026: Mon 21 敬老の日, Tue 22 国民の休日, Wed 23 秋分の日.
        (JAPAN, "2026-09-24", 1, "2026-09-18"),
        (JAPAN, "2026-09-24", 2, "2026-09-17"),
        # New Year closure Dec 29 - Jan 3, then the weekend.
        (JAPAN_WITH_NEW_YEAR, "2027-01-05", 1, "2027-01-04"),
        (JAPAN_WITH_NEW_YEAR, "2027-01-05", 2, "2026-12-28"),
        (JAPAN_WITH_NEW_YEAR, "2027-01-04", 1, "2026-12-28"),
        (JAPAN_WITH_NEW_YEAR, "2027-01-01", 0, "2026-12-28"),
    ],
)
def test_creation_date_counts_open_days_back_from_delivery(calendar, delivery, lead_days, expected):
    assert calendar.creation_date(d(delivery), lead_days) == d(expected)


def test_lead_days_across_a_long_closure():
    summer_break = BusinessCalendar(
        closed_weekdays=WEEKEND, special_closures=days("2027-08-01", "2027-08-31")
    )

    assert summer_break.creation_date(d("2027-09-01"), 1) == d("2027-07-30")
    assert summer_break.creation_date(d("2027-09-01"), 3) == d("2027-07-28")


def test_a_special_opening_counts_as_a_lead_day():
    calendar = BusinessCalendar(closed_weekdays=WEEKEND, special_openings=frozenset({d("2027-01-09")}))

    assert calendar.creation_date(d("2027-01-11"), 1) == d("2027-01-09")
    assert calendar.creation_date(d("2027-01-10"), 0) == d("2027-01-09")


def test_only_special_openings_can_still_be_found_far_back():
    calendar = BusinessCalendar(
        closed_weekdays=frozenset(range(7)), special_openings=frozenset({d("2027-01-01")})
    )

    assert calendar.creation_date(d("2027-03-01"), 1) == d("2027-01-01")


def test_a_closure_shorter_than_400_days_is_walked_over():
    calendar = BusinessCalendar(special_closures=days("2026-02-01", "2027-03-01"))  # 394 days

    assert calendar.creation_date(d("2027-03-02"), 1) == d("2026-01-31")


def test_a_closure_longer_than_400_days_is_treated_as_a_misconfiguration():
    calendar = BusinessCalendar(special_closures=days("2026-01-01", "2027-03-01"))  # 425 days

    with pytest.raises(CalendarError, match="no open day within 400 days"):
        calendar.creation_date(d("2027-03-02"), 1)


@pytest.mark.parametrize("lead_days", [0, 1, 5])
def test_a_calendar_with_every_day_closed_raises_instead_of_looping(lead_days):
    calendar = BusinessCalendar(closed_weekdays=frozenset(range(7)))

    with pytest.raises(CalendarError, match="open day"):
        calendar.creation_date(d("2027-03-01"), lead_days)


def test_negative_lead_days_are_rejected():
    with pytest.raises(CalendarError, match="lead_days"):
        ALL_OPEN.creation_date(d("2027-03-01"), -1)


# --- earliest_delivery -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "today", "lead_days", "expected"),
    [
        (ALL_OPEN, "2027-01-05", 0, "2027-01-05"),
        (ALL_OPEN, "2027-01-05", 1, "2027-01-06"),
        (ALL_OPEN, "2027-01-05", 3, "2027-01-08"),
        # Today is a closed Saturday: nothing can be created before Monday.
        (WEEKDAYS_ONLY, "2027-01-09", 0, "2027-01-11"),
        (WEEKDAYS_ONLY, "2027-01-09", 1, "2027-01-12"),
        # Created on Friday, delivered on Saturday: deliveries may fall on closed days.
        (WEEKDAYS_ONLY, "2027-01-08", 1, "2027-01-09"),
        (WEEKDAYS_ONLY, "2027-01-08", 2, "2027-01-12"),
        (JAPAN, "2027-04-30", 1, "2027-05-01"),
        (JAPAN, "2027-05-01", 1, "2027-05-07"),
        (JAPAN_WITH_NEW_YEAR, "2026-12-29", 2, "2027-01-06"),
    ],
)
def test_earliest_delivery(calendar, today, lead_days, expected):
    assert calendar.earliest_delivery(d(today), lead_days) == d(expected)


@pytest.mark.parametrize(
    "calendar",
    [
        ALL_OPEN,
        WEEKDAYS_ONLY,
        JAPAN_WITH_NEW_YEAR,
        BusinessCalendar(
            closed_weekdays=frozenset({WED, SUN}), special_openings=frozenset({d("2027-01-03")})
        ),
    ],
)
@pytest.mark.parametrize("lead_days", [0, 1, 2, 5])
def test_earliest_delivery_is_the_first_date_an_order_created_today_can_meet(calendar, lead_days):
    for offset in range(0, 400, 3):
        today = d("2026-04-01") + timedelta(offset)

        earliest = calendar.earliest_delivery(today, lead_days)

        assert earliest >= today
        assert calendar.creation_date(earliest, lead_days) >= today
        if earliest > today:
            assert calendar.creation_date(earliest - timedelta(1), lead_days) < today, today


def test_earliest_delivery_with_every_day_closed_raises():
    with pytest.raises(CalendarError):
        BusinessCalendar(closed_weekdays=frozenset(range(7))).earliest_delivery(d("2027-01-01"), 1)


def test_earliest_delivery_rejects_negative_lead_days():
    with pytest.raises(CalendarError, match="lead_days"):
        ALL_OPEN.earliest_delivery(d("2027-01-01"), -1)
