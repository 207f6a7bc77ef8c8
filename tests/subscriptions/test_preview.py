"""Preview rows: the schedule's delivery dates with the creation date each order will get."""

from datetime import date

import pytest

from subscriptions.calendar import BusinessCalendar
from subscriptions.cycles import LAST, Cycle, CycleError
from subscriptions.preview import PreviewRow, format_rows, preview_schedule

SAT, SUN = 5, 6


def d(iso: str) -> date:
    return date.fromisoformat(iso)


def test_month_end_example_with_a_skip():
    rows = preview_schedule(
        Cycle(unit="month", interval=1),
        anchor_date=d("2027-01-31"),
        anchor_sequence=1,
        start_sequence=1,
        count=2,
        calendar=BusinessCalendar(),
        lead_days=5,
        skipped=frozenset({2}),
    )

    assert rows == [
        PreviewRow(sequence=1, delivery_date=d("2027-01-31"), creation_date=d("2027-01-26"), skipped=False),
        PreviewRow(sequence=2, delivery_date=d("2027-02-28"), creation_date=d("2027-02-23"), skipped=True),
    ]
    assert format_rows(rows) == "1 2027-01-31 2027-01-26\n2 2027-02-28 2027-02-23 skipped\n"


def test_creation_dates_step_around_golden_week_and_weekends():
    rows = preview_schedule(
        Cycle(unit="month", interval=1),
        anchor_date=d("2027-04-06"),
        anchor_sequence=1,
        start_sequence=1,
        count=3,
        calendar=BusinessCalendar(closed_weekdays=frozenset({SAT, SUN}), jp_holidays=True),
        lead_days=3,
    )

    assert format_rows(rows) == (
        "1 2027-04-06 2027-04-01\n"
        "2 2027-05-06 2027-04-27\n"  # Apr 29 and May 3-5 are holidays, May 1-2 a weekend
        "3 2027-06-06 2027-06-02\n"  # delivered on a Sunday; counting starts from Saturday
    )


@pytest.mark.parametrize(
    ("skipped", "expected_flags"),
    [
        (frozenset(), [False, False, False, False]),
        (frozenset({3}), [False, False, True, False]),
        (frozenset({2, 3, 4}), [False, True, True, True]),
        (frozenset({1, 9}), [True, False, False, False]),
    ],
)
def test_skipped_rows_are_flagged_and_dates_do_not_move(skipped, expected_flags):
    rows = preview_schedule(
        Cycle(unit="week", interval=2),
        anchor_date=d("2027-01-04"),
        anchor_sequence=1,
        start_sequence=1,
        count=4,
        calendar=BusinessCalendar(),
        lead_days=0,
        skipped=skipped,
    )

    assert [row.skipped for row in rows] == expected_flags
    assert [row.delivery_date for row in rows] == [
        d("2027-01-04"),
        d("2027-01-18"),
        d("2027-02-01"),
        d("2027-02-15"),
    ]


def test_preview_of_a_re_anchored_schedule_starts_where_asked():
    rows = preview_schedule(
        Cycle(unit="month", interval=1, day_of_month=LAST),
        anchor_date=d("2027-03-10"),
        anchor_sequence=4,
        start_sequence=5,
        count=2,
        calendar=BusinessCalendar(),
        lead_days=1,
        skipped=frozenset({6}),
    )

    assert format_rows(rows) == "5 2027-04-30 2027-04-29\n6 2027-05-31 2027-05-30 skipped\n"


def test_preview_before_the_anchor_is_a_cycle_error():
    with pytest.raises(CycleError):
        preview_schedule(
            Cycle(unit="day", interval=1),
            anchor_date=d("2027-03-10"),
            anchor_sequence=4,
            start_sequence=3,
            count=2,
            calendar=BusinessCalendar(),
            lead_days=0,
        )


def test_format_rows_of_nothing_is_empty():
    assert format_rows([]) == ""
