"""The schedule rules with one home each: the next delivery (compute_next and the run's memo of it),
the change deadline and the delivery number an order prices on."""

from datetime import date

import pytest

from subscriptions.calendar import BusinessCalendar
from subscriptions.cycles import Cycle, CycleError, delivery_date
from subscriptions.schedule import (
    NextDelivery,
    ScheduleMemo,
    change_deadline_for,
    compute_next,
    delivery_number,
    first_changeable_creation,
    next_sequence,
)


def d(iso: str) -> date:
    return date.fromisoformat(iso)


# --- next_sequence --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_sequence", "skipped", "expected"),
    [
        (2, set(), (2, "2027-02-28")),
        (2, {2}, (3, "2027-03-31")),
        (2, {2, 3, 4}, (5, "2027-05-31")),
        (2, {3, 4}, (2, "2027-02-28")),
        (2, {1, 2, 4}, (3, "2027-03-31")),
        (1, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, (13, "2028-01-31")),
    ],
)
def test_next_sequence_jumps_over_runs_of_skips(from_sequence, skipped, expected):
    cycle = Cycle(unit="month", interval=1)

    sequence = next_sequence(from_sequence=from_sequence, anchor_sequence=1, skipped=skipped)
    got = (sequence, delivery_date(cycle, anchor_date=d("2027-01-31"), anchor_sequence=1, sequence=sequence))

    assert got == (expected[0], d(expected[1]))


def test_next_sequence_never_goes_before_the_anchor():
    assert next_sequence(from_sequence=6, anchor_sequence=7, skipped=frozenset()) == 7
    assert next_sequence(from_sequence=6, anchor_sequence=7, skipped={7, 8}) == 9


def test_a_delivery_before_the_anchor_is_rejected():
    cycle = Cycle(unit="month", interval=1)

    with pytest.raises(CycleError):
        delivery_date(cycle, anchor_date=d("2027-05-20"), anchor_sequence=7, sequence=6)


# --- compute_next and ScheduleMemo agree ---------------------------------------------------------


class _Row:
    def __init__(self, cycle: Cycle) -> None:
        self.cycle_unit = cycle.unit
        self.cycle_interval = cycle.interval
        self.cycle_day_of_month = cycle.day_of_month
        self.cycle_nth_week = cycle.nth_week
        self.cycle_weekday = cycle.weekday


@pytest.mark.parametrize(
    ("cycle", "anchor", "anchor_sequence", "from_sequence", "skipped"),
    [
        (Cycle(unit="month", interval=1, day_of_month=31), "2027-01-31", 1, 2, frozenset()),
        (Cycle(unit="month", interval=1, day_of_month=31), "2027-01-31", 1, 2, frozenset({2, 3})),
        (Cycle(unit="week", interval=2), "2027-03-01", 4, 2, frozenset({4})),
        (Cycle(unit="day", interval=10), "2027-04-29", 3, 5, frozenset({6})),
        (Cycle(unit="month", interval=1, nth_week=2, weekday=0), "2027-01-11", 1, 3, frozenset()),
    ],
)
def test_the_memo_gives_compute_nexts_answer(cycle, anchor, anchor_sequence, from_sequence, skipped):
    calendar = BusinessCalendar(closed_weekdays=frozenset({5, 6}), jp_holidays=True)
    memo = ScheduleMemo(calendar, 3)
    kwargs = {
        "anchor_date": d(anchor),
        "anchor_sequence": anchor_sequence,
        "from_sequence": from_sequence,
        "skipped": skipped,
    }

    expected = compute_next(cycle, calendar=calendar, lead_days=3, **kwargs)
    first, again = memo.next_delivery(_Row(cycle), **kwargs), memo.next_delivery(_Row(cycle), **kwargs)

    assert first == again == expected
    assert isinstance(expected, NextDelivery)
    assert expected.creation_date < expected.delivery_date


# --- change deadline and delivery number ----------------------------------------------------------


@pytest.mark.parametrize(
    ("creation", "days", "deadline"),
    [("2027-03-10", 2, "2027-03-08"), ("2027-03-10", 0, "2027-03-10"), ("2027-03-01", 3, "2027-02-26")],
)
def test_change_deadline_is_days_before_creation(creation, days, deadline):
    assert change_deadline_for(d(creation), change_deadline_days=days) == d(deadline)
    # and the first creation date still changeable on the deadline day is that creation date
    assert first_changeable_creation(d(deadline), change_deadline_days=days) == d(creation)


@pytest.mark.parametrize(("cycle_count", "ahead", "number"), [(0, 0, 1), (3, 0, 4), (3, 2, 6)])
def test_delivery_number_is_the_count_once_the_order_is_made(cycle_count, ahead, number):
    assert delivery_number(cycle_count, ahead=ahead) == number
