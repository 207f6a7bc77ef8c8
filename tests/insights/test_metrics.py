"""Retention and stock maths (pure): tables of cases."""

from __future__ import annotations

import datetime as dt

import pytest

from insights.metrics import (
    continuation_rates,
    minimum_reached,
    reorder,
    stock_out_date,
    stock_projection,
    survival,
)

D = dt.date(2027, 3, 1)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # 10 had 1 delivery and cancelled, 30 reached 2 (of them 10 reached 3): 2nd = 30/40, 3rd = 10/?
        ({(1, True): 10, (2, False): 20, (3, False): 10}, {2: 0.75, 3: 1.0}),
        # still-running subscriptions short of m are left out of m's rate
        ({(1, False): 50, (2, True): 5, (3, True): 5}, {2: 1.0, 3: 0.5}),
        ({}, {2: None, 3: None}),
    ],
)
def test_continuation_rates(counts, expected) -> None:  # noqa: ANN001
    assert continuation_rates(counts, up_to=3) == expected


@pytest.mark.parametrize(
    ("delivered", "reaching", "minimum", "expected"),
    [
        (1, 1, 0, 1.0),
        (1, 2, 0, 0.5),
        (1, 3, 0, 0.25),
        (1, 3, 2, 0.5),  # the 2nd is within the course minimum: certain
        (2, 4, 0, 0.5),  # the 4th has no measured rate: counts as 1
    ],
)
def test_survival(delivered, reaching, minimum, expected) -> None:  # noqa: ANN001
    assert survival({2: 0.5, 3: 0.5}, delivered=delivered, reaching=reaching, minimum=minimum) == expected


def test_minimum_reached_splits_reached_ended_and_pending() -> None:
    counts = {(1, True): 4, (1, False): 6, (3, False): 10, (2, True): 1}
    assert minimum_reached(counts, minimum=3) == (10, 5, 6)


def test_stock_projection_adds_incoming_in_the_morning_and_takes_demand_at_night() -> None:
    days = stock_projection(
        start=D,
        stock=10,
        demand={D: 6, D + dt.timedelta(days=1): 6},
        incoming={D + dt.timedelta(days=1): 5},
        days=3,
    )
    assert [d.balance for d in days] == [4, 3, 3]
    assert stock_out_date(days) is None
    short = stock_projection(start=D, stock=5, demand={D + dt.timedelta(days=2): 6}, incoming={}, days=4)
    assert stock_out_date(short) == D + dt.timedelta(days=2)


@pytest.mark.parametrize(
    ("reorder_point", "cover", "lead", "unit", "today", "expected"),
    [
        # 10/day from 100: below 50 on day 5 (balance 40); order 5 days before; 10 + 3 days x 10 = 40 -> 40
        (50, 3, 5, 1, D - dt.timedelta(days=1), (50, D + dt.timedelta(days=5), D, 40, False)),
        (50, 3, 5, 12, D - dt.timedelta(days=1), (50, D + dt.timedelta(days=5), D, 48, False)),
        # no reorder point: 3 days of cover = 30 units; below 30 on day 7 (balance 20)
        (None, 3, 2, 1, D, (30, D + dt.timedelta(days=7), D + dt.timedelta(days=5), 40, False)),
        # the deadline has passed: overdue
        (
            50,
            None,
            9,
            1,
            D + dt.timedelta(days=1),
            (50, D + dt.timedelta(days=5), D - dt.timedelta(days=4), 100, True),
        ),
    ],
)
def test_reorder(reorder_point, cover, lead, unit, today, expected) -> None:  # noqa: ANN001
    days = stock_projection(
        start=D, stock=100, demand={D + dt.timedelta(days=i): 10 for i in range(30)}, incoming={}, days=30
    )
    got = reorder(
        days,
        today=today,
        reorder_point=reorder_point,
        days_of_cover=cover,
        lead_time_days=lead,
        order_unit=unit,
    )
    assert (got.threshold, got.trigger, got.order_by, got.quantity, got.overdue) == expected


def test_reorder_is_none_when_stock_lasts() -> None:
    days = stock_projection(start=D, stock=1000, demand={D: 1}, incoming={}, days=10)
    assert (
        reorder(days, today=D, reorder_point=10, days_of_cover=None, lead_time_days=3, order_unit=1) is None
    )
