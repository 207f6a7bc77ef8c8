"""Cycle maths: every delivery date is computed from the anchor, never from the previous date."""

from datetime import date

import pytest

from subscriptions.cycles import (
    LAST,
    Cycle,
    CycleError,
    deliveries,
    delivery_date,
    first_sequence_on_or_after,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def d(iso: str) -> date:
    return date.fromisoformat(iso)


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"unit": "day", "interval": 1},
        {"unit": "day", "interval": 365},
        {"unit": "week", "interval": 52},
        {"unit": "month", "interval": 24},
        {"unit": "month", "interval": 1, "day_of_month": 1},
        {"unit": "month", "interval": 1, "day_of_month": 31},
        {"unit": "month", "interval": 1, "day_of_month": LAST},
        {"unit": "month", "interval": 1, "nth_week": 1, "weekday": MON},
        {"unit": "month", "interval": 1, "nth_week": 4, "weekday": SUN},
        {"unit": "month", "interval": 1, "nth_week": LAST, "weekday": FRI},
    ],
)
def test_valid_cycles_are_accepted(kwargs):
    cycle = Cycle(**kwargs)

    assert cycle.unit == kwargs["unit"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unit": "year", "interval": 1}, "unit"),
        ({"unit": "day", "interval": 0}, "interval"),
        ({"unit": "day", "interval": -1}, "interval"),
        ({"unit": "day", "interval": 366}, "365"),
        ({"unit": "week", "interval": 53}, "52"),
        ({"unit": "month", "interval": 25}, "24"),
        ({"unit": "month", "interval": True}, "interval"),
        ({"unit": "month", "interval": 1.5}, "interval"),
        ({"unit": "day", "interval": 1, "day_of_month": 5}, "day_of_month"),
        ({"unit": "week", "interval": 1, "day_of_month": LAST}, "day_of_month"),
        ({"unit": "month", "interval": 1, "day_of_month": 0}, "day_of_month"),
        ({"unit": "month", "interval": 1, "day_of_month": 32}, "day_of_month"),
        ({"unit": "month", "interval": 1, "day_of_month": -2}, "day_of_month"),
        ({"unit": "month", "interval": 1, "nth_week": 2}, "weekday"),
        ({"unit": "month", "interval": 1, "weekday": MON}, "nth_week"),
        ({"unit": "month", "interval": 1, "nth_week": 0, "weekday": MON}, "nth_week"),
        ({"unit": "month", "interval": 1, "nth_week": 5, "weekday": MON}, "nth_week"),
        ({"unit": "month", "interval": 1, "nth_week": 1, "weekday": 7}, "weekday"),
        ({"unit": "month", "interval": 1, "nth_week": 1, "weekday": -1}, "weekday"),
        ({"unit": "month", "interval": 1, "day_of_month": 5, "nth_week": 1, "weekday": MON}, "both"),
        ({"unit": "week", "interval": 1, "nth_week": 1, "weekday": MON}, "nth_week"),
        ({"unit": "day", "interval": 1, "weekday": MON}, "weekday"),
    ],
)
def test_invalid_cycles_are_rejected_with_a_readable_message(kwargs, message):
    with pytest.raises(CycleError, match=message):
        Cycle(**kwargs)


def test_cycle_error_is_a_value_error():
    assert issubclass(CycleError, ValueError)


# --- delivery_date: day and week ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "interval", "anchor", "sequence", "expected"),
    [
        ("day", 1, "2027-01-01", 1, "2027-01-01"),
        ("day", 1, "2027-01-01", 2, "2027-01-02"),
        ("day", 2, "2027-01-01", 3, "2027-01-05"),
        ("day", 3, "2027-01-01", 4, "2027-01-10"),
        ("day", 3, "2027-12-30", 2, "2028-01-02"),
        ("day", 1, "2028-02-28", 2, "2028-02-29"),
        ("week", 1, "2027-01-04", 2, "2027-01-11"),
        ("week", 2, "2027-01-04", 3, "2027-02-01"),
        ("week", 3, "2027-01-04", 2, "2027-01-25"),
        ("week", 1, "2027-12-27", 2, "2028-01-03"),
    ],
)
def test_day_and_week_cycles_step_by_a_fixed_number_of_days(unit, interval, anchor, sequence, expected):
    cycle = Cycle(unit=unit, interval=interval)

    got = delivery_date(cycle, anchor_date=d(anchor), anchor_sequence=1, sequence=sequence)

    assert got == d(expected)


# --- delivery_date: month by day of month ---------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "day_of_month", "anchor", "sequence", "expected"),
    [
        # The anchor day survives a short month: 31 -> Feb 28 -> Mar 31 -> Apr 30.
        (1, None, "2027-01-31", 2, "2027-02-28"),
        (1, None, "2027-01-31", 3, "2027-03-31"),
        (1, None, "2027-01-31", 4, "2027-04-30"),
        (1, None, "2027-01-31", 5, "2027-05-31"),
        # Leap years: 2028 and 2000 are leap, 2100 is not.
        (1, None, "2028-01-31", 2, "2028-02-29"),
        (1, None, "2000-01-31", 2, "2000-02-29"),
        (1, None, "2100-01-31", 2, "2100-02-28"),
        (1, None, "2028-01-30", 2, "2028-02-29"),
        (1, None, "2027-01-29", 2, "2027-02-28"),
        # Intervals 2 and 3.
        (2, None, "2027-12-31", 2, "2028-02-29"),
        (2, None, "2027-12-31", 3, "2028-04-30"),
        (2, None, "2027-12-31", 4, "2028-06-30"),
        (2, None, "2027-12-31", 5, "2028-08-31"),
        (3, None, "2027-11-30", 2, "2028-02-29"),
        (3, None, "2027-11-30", 3, "2028-05-30"),
        (3, None, "2027-01-15", 5, "2028-01-15"),
        # Year ends.
        (1, None, "2027-12-10", 2, "2028-01-10"),
        (1, None, "2027-11-15", 3, "2028-01-15"),
        # "last" follows the month's length.
        (1, LAST, "2027-04-30", 2, "2027-05-31"),
        (1, LAST, "2027-04-30", 3, "2027-06-30"),
        (1, LAST, "2028-01-31", 2, "2028-02-29"),
        (1, LAST, "2100-01-31", 2, "2100-02-28"),
        # An explicit day of month overrides the anchor's day.
        (1, 10, "2027-01-31", 2, "2027-02-10"),
        (1, 25, "2027-01-05", 2, "2027-02-25"),
        (1, 31, "2027-03-31", 2, "2027-04-30"),
        (1, 31, "2027-03-31", 3, "2027-05-31"),
        # The anchor need not match the rule; the rule applies from the next occurrence.
        (1, 31, "2027-01-15", 1, "2027-01-15"),
        (1, 31, "2027-01-15", 2, "2027-02-28"),
        (1, 31, "2027-01-15", 3, "2027-03-31"),
        (1, LAST, "2027-01-15", 2, "2027-02-28"),
        (1, 1, "2027-01-31", 2, "2027-02-01"),
    ],
)
def test_monthly_by_day_clamps_to_the_month_without_losing_the_day(
    interval, day_of_month, anchor, sequence, expected
):
    cycle = Cycle(unit="month", interval=interval, day_of_month=day_of_month)

    got = delivery_date(cycle, anchor_date=d(anchor), anchor_sequence=1, sequence=sequence)

    assert got == d(expected)


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        (14, "2028-02-29"),
        (26, "2029-02-28"),
        (120, "2036-12-31"),
        (122, "2037-02-28"),
    ],
)
def test_high_sequences_are_computed_from_the_anchor(sequence, expected):
    cycle = Cycle(unit="month", interval=1)

    got = delivery_date(cycle, anchor_date=d("2027-01-31"), anchor_sequence=1, sequence=sequence)

    assert got == d(expected)


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [(7, "2027-05-20"), (8, "2027-06-20"), (19, "2028-05-20")],
)
def test_re_anchored_schedule_counts_from_the_anchor_sequence(sequence, expected):
    cycle = Cycle(unit="month", interval=1)

    got = delivery_date(cycle, anchor_date=d("2027-05-20"), anchor_sequence=7, sequence=sequence)

    assert got == d(expected)


def test_anchor_occurrence_is_the_anchor_date_as_given_for_every_unit():
    anchor = d("2027-01-13")  # a Wednesday, not the rule's day
    for cycle in (
        Cycle(unit="day", interval=3),
        Cycle(unit="week", interval=2),
        Cycle(unit="month", interval=1, day_of_month=LAST),
        Cycle(unit="month", interval=1, nth_week=1, weekday=MON),
    ):
        assert delivery_date(cycle, anchor_date=anchor, anchor_sequence=4, sequence=4) == anchor


def test_a_sequence_before_the_anchor_is_rejected():
    cycle = Cycle(unit="month", interval=1)

    with pytest.raises(CycleError, match="before"):
        delivery_date(cycle, anchor_date=d("2027-05-20"), anchor_sequence=7, sequence=6)


def test_sequences_start_at_one():
    cycle = Cycle(unit="month", interval=1)

    with pytest.raises(CycleError, match="anchor_sequence"):
        delivery_date(cycle, anchor_date=d("2027-05-20"), anchor_sequence=0, sequence=1)


def test_a_date_past_year_9999_is_a_cycle_error():
    cycle = Cycle(unit="month", interval=1)

    with pytest.raises(CycleError, match="range"):
        delivery_date(cycle, anchor_date=d("9999-12-01"), anchor_sequence=1, sequence=2)


# --- delivery_date: month by n-th weekday ---------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "nth", "weekday", "anchor", "sequence", "expected"),
    [
        (1, 2, TUE, "2027-01-12", 2, "2027-02-09"),
        (1, 2, TUE, "2027-01-12", 3, "2027-03-09"),
        # January 2027 has five Fridays: the 4th is the 22nd, the last the 29th.
        (1, 4, FRI, "2026-12-25", 2, "2027-01-22"),
        (1, LAST, FRI, "2026-12-25", 2, "2027-01-29"),
        (1, LAST, FRI, "2027-01-29", 2, "2027-02-26"),
        (1, LAST, FRI, "2027-01-29", 3, "2027-03-26"),
        # February 2028 (leap) has five Tuesdays; the last one is the 29th.
        (1, 4, TUE, "2028-01-25", 2, "2028-02-22"),
        (1, LAST, TUE, "2028-01-25", 2, "2028-02-29"),
        # The 4th always exists, even in a 28-day February.
        (1, 4, SUN, "2027-01-24", 2, "2027-02-28"),
        (1, 4, MON, "2027-01-25", 2, "2027-02-22"),
        # Year end.
        (1, 1, MON, "2027-12-06", 2, "2028-01-03"),
        # Intervals 2 and 3.
        (2, 3, WED, "2027-01-20", 2, "2027-03-17"),
        (2, 3, WED, "2027-01-20", 3, "2027-05-19"),
        (3, LAST, SUN, "2027-01-31", 2, "2027-04-25"),
        (3, LAST, SUN, "2027-01-31", 3, "2027-07-25"),
        # An anchor that does not match the rule.
        (1, 1, MON, "2027-01-15", 1, "2027-01-15"),
        (1, 1, MON, "2027-01-15", 2, "2027-02-01"),
    ],
)
def test_monthly_by_nth_weekday(interval, nth, weekday, anchor, sequence, expected):
    cycle = Cycle(unit="month", interval=interval, nth_week=nth, weekday=weekday)

    got = delivery_date(cycle, anchor_date=d(anchor), anchor_sequence=1, sequence=sequence)

    assert got == d(expected)


# --- deliveries -----------------------------------------------------------------------------------


def test_deliveries_lists_consecutive_sequences_with_their_dates():
    cycle = Cycle(unit="month", interval=1)

    got = deliveries(cycle, anchor_date=d("2027-01-31"), anchor_sequence=1, start_sequence=2, count=3)

    assert got == [(2, d("2027-02-28")), (3, d("2027-03-31")), (4, d("2027-04-30"))]


def test_deliveries_of_zero_count_is_empty():
    cycle = Cycle(unit="day", interval=1)

    assert deliveries(cycle, anchor_date=d("2027-01-01"), anchor_sequence=1, start_sequence=1, count=0) == []


@pytest.mark.parametrize(("start_sequence", "count"), [(1, -1), (0, 2)])
def test_deliveries_rejects_a_negative_count_or_a_start_before_the_anchor(start_sequence, count):
    cycle = Cycle(unit="day", interval=1)

    with pytest.raises(CycleError):
        deliveries(
            cycle, anchor_date=d("2027-01-01"), anchor_sequence=1, start_sequence=start_sequence, count=count
        )


# --- first_sequence_on_or_after -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cycle", "anchor", "anchor_sequence", "earliest", "min_sequence", "expected"),
    [
        # Equal dates count as "on or after".
        (Cycle("month", 1), "2027-01-31", 1, "2027-02-28", 1, (2, "2027-02-28")),
        (Cycle("month", 1), "2027-01-31", 1, "2027-03-01", 1, (3, "2027-03-31")),
        (Cycle("month", 1), "2027-01-31", 1, "2027-01-31", 1, (1, "2027-01-31")),
        (Cycle("month", 1), "2027-01-31", 1, "2027-02-01", 1, (2, "2027-02-28")),
        # Before the anchor: the anchor itself, or min_sequence if that is later.
        (Cycle("month", 1), "2027-01-31", 1, "2020-01-01", 1, (1, "2027-01-31")),
        (Cycle("month", 1), "2027-01-31", 1, "2020-01-01", 5, (5, "2027-05-31")),
        (Cycle("month", 1), "2027-01-31", 3, "2020-01-01", 1, (3, "2027-01-31")),
        # min_sequence wins when its date is already after earliest.
        (Cycle("month", 1), "2027-01-31", 1, "2027-02-28", 4, (4, "2027-04-30")),
        # Day and week cycles, just before, on and after a delivery.
        (Cycle("day", 3), "2027-01-01", 1, "2027-01-06", 1, (3, "2027-01-07")),
        (Cycle("day", 3), "2027-01-01", 1, "2027-01-07", 1, (3, "2027-01-07")),
        (Cycle("day", 3), "2027-01-01", 1, "2027-01-08", 1, (4, "2027-01-10")),
        (Cycle("week", 2), "2027-01-04", 1, "2027-01-18", 1, (2, "2027-01-18")),
        (Cycle("week", 2), "2027-01-04", 1, "2027-01-19", 1, (3, "2027-02-01")),
        # Year end.
        (Cycle("month", 1), "2027-10-31", 1, "2027-12-31", 1, (3, "2027-12-31")),
        (Cycle("month", 1), "2027-10-31", 1, "2028-01-01", 1, (4, "2028-01-31")),
        # An anchor that does not match the rule.
        (Cycle("month", 1, day_of_month=31), "2027-01-15", 1, "2027-01-16", 1, (2, "2027-02-28")),
        # Far from the anchor, re-anchored at sequence 7.
        (Cycle("month", 1), "2027-05-20", 7, "2050-05-21", 1, (284, "2050-06-20")),
        (Cycle("day", 1), "2027-01-01", 1, "9000-01-01", 1, (2546837, "9000-01-01")),
        (Cycle("month", 1, nth_week=LAST, weekday=FRI), "2027-01-29", 1, "2027-01-30", 1, (2, "2027-02-26")),
    ],
)
def test_first_sequence_on_or_after(cycle, anchor, anchor_sequence, earliest, min_sequence, expected):
    got = first_sequence_on_or_after(
        cycle,
        anchor_date=d(anchor),
        anchor_sequence=anchor_sequence,
        earliest=d(earliest),
        min_sequence=min_sequence,
    )

    assert got == (expected[0], d(expected[1]))


@pytest.mark.parametrize(
    "cycle",
    [
        Cycle("day", 1),
        Cycle("day", 10),
        Cycle("week", 3),
        Cycle("month", 1),
        Cycle("month", 2, day_of_month=LAST),
        Cycle("month", 3, day_of_month=31),
        Cycle("month", 1, nth_week=LAST, weekday=SUN),
        Cycle("month", 5, nth_week=2, weekday=WED),
    ],
)
def test_first_sequence_on_or_after_agrees_with_a_walk_over_the_schedule(cycle):
    anchor = d("2027-01-15")
    schedule = deliveries(cycle, anchor_date=anchor, anchor_sequence=3, start_sequence=3, count=810)
    for offset in range(-3, 800, 7):
        earliest = date.fromordinal(anchor.toordinal() + offset)
        expected = next((seq, day) for seq, day in schedule if day >= earliest)

        got = first_sequence_on_or_after(
            cycle, anchor_date=anchor, anchor_sequence=3, earliest=earliest, min_sequence=1
        )

        assert got == expected, earliest
