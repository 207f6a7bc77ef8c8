"""Retention and stock maths on plain numbers. Pure: no Django import.

Continuation (継続率): a subscription that has had m-1 deliveries has "decided" its m-th once it
either had it or ended (cancelled or suspended) without it; one still running that has not reached
its m-th yet is left out (it may still get there), so young subscriptions do not pull the rate down.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

# (deliveries so far, ended) -> number of subscriptions
DeliveryCounts = Mapping[tuple[int, bool], int]


def continuation_rates(counts: DeliveryCounts, *, up_to: int) -> dict[int, float | None]:
    """{m: share of subscriptions that went on from delivery m-1 to m} for m = 2..up_to.

    None where no subscription has decided its m-th delivery yet.
    """
    rates: dict[int, float | None] = {}
    for m in range(2, up_to + 1):
        reached = sum(n for (delivered, _ended), n in counts.items() if delivered >= m)
        dropped = sum(n for (delivered, ended), n in counts.items() if ended and delivered == m - 1)
        decided = reached + dropped
        rates[m] = reached / decided if decided else None
    return rates


def survival(rates: Mapping[int, float | None], *, delivered: int, reaching: int, minimum: int = 0) -> float:
    """Estimated share of subscriptions with `delivered` deliveries that reach delivery `reaching`.

    The product of the continuation rates in between; deliveries up to the course minimum
    (最低継続回数) count as certain, since customers cannot cancel before it; a rate not measured
    yet counts as 1 (no evidence of churn is not evidence of churn).
    """
    share = 1.0
    for m in range(max(delivered, 1) + 1, reaching + 1):
        if m <= minimum:
            continue
        rate = rates.get(m)
        if rate is not None:
            share *= rate
    return share


def minimum_reached(counts: DeliveryCounts, *, minimum: int) -> tuple[int, int, int]:
    """(reached the course minimum, ended before it, still on the way) for a course minimum."""
    reached = sum(n for (delivered, _e), n in counts.items() if delivered >= minimum)
    ended = sum(n for (delivered, e), n in counts.items() if e and delivered < minimum)
    pending = sum(n for (delivered, e), n in counts.items() if not e and delivered < minimum)
    return reached, ended, pending


@dataclass(frozen=True, slots=True)
class StockDay:
    day: date
    demand: int
    incoming: int
    balance: int  # at the end of the day


def stock_projection(
    *, start: date, stock: int, demand: Mapping[date, int], incoming: Mapping[date, int], days: int
) -> list[StockDay]:
    """Day-by-day stock from `start`: incoming arrives in the morning, demand is taken at night."""
    balance = stock
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        arriving = incoming.get(day, 0)
        taken = demand.get(day, 0)
        balance += arriving - taken
        out.append(StockDay(day, taken, arriving, balance))
    return out


def stock_out_date(projection: list[StockDay]) -> date | None:
    """The first day the forecast demand cannot be met from stock (balance below zero)."""
    for day in projection:
        if day.balance < 0:
            return day.day
    return None


@dataclass(frozen=True, slots=True)
class Reorder:
    threshold: int  # keep at least this many in stock
    trigger: date  # first day the projected stock falls below the threshold
    order_by: date  # the order must be placed by this day to arrive in time (may be in the past)
    quantity: int  # rounded up to the order unit
    overdue: bool  # order_by is before today: order now, it will arrive late


def reorder(
    projection: list[StockDay],
    *,
    today: date,
    reorder_point: int | None,
    days_of_cover: int | None,
    lead_time_days: int,
    order_unit: int,
) -> Reorder | None:
    """When and how much to order so projected stock stays at or above the threshold.

    Threshold: the reorder point, else `days_of_cover` days of the average forecast demand.
    Quantity: what brings the stock back to the threshold on the trigger day plus the demand of the
    `days_of_cover` days after it (the lead time when no cover is set), in whole order units.
    """
    if not projection:
        return None
    if order_unit < 1:
        raise ValueError("order_unit must be 1 or more")
    average = sum(d.demand for d in projection) / len(projection)
    if reorder_point is not None:
        threshold = reorder_point
    elif days_of_cover is not None:
        threshold = math.ceil(average * days_of_cover)
    else:
        raise ValueError("a reorder point or days of cover is needed")
    trigger_at = next((i for i, d in enumerate(projection) if d.balance < threshold), None)
    if trigger_at is None:
        return None
    trigger = projection[trigger_at]
    cover = days_of_cover if days_of_cover is not None else max(lead_time_days, 1)
    window = projection[trigger_at + 1 : trigger_at + 1 + cover]
    needed = (threshold - trigger.balance) + sum(d.demand for d in window)
    if len(window) < cover:  # past the horizon: assume the average demand
        needed += math.ceil(average * (cover - len(window)))
    quantity = math.ceil(max(needed, 1) / order_unit) * order_unit
    order_by = trigger.day - timedelta(days=lead_time_days)
    return Reorder(threshold, trigger.day, order_by, quantity, order_by < today)
