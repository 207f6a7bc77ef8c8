"""Where a subscription stands next: its next unskipped delivery, the day its order is created,
the customer's change deadline for it and the delivery number (定期回数) its order prices on.

Pure: the cycle maths (cycles.py) and the business calendar (calendar.py) put together. The nightly
run calls this for every row of a batch in memory (through ScheduleMemo), services call it after
each change, the forecast plays it forward. Each rule here has no other copy.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from .calendar import BusinessCalendar
from .cycles import Cycle, delivery_date


@dataclass(frozen=True, slots=True)
class NextDelivery:
    sequence: int
    delivery_date: date
    creation_date: date


def compute_next(
    cycle: Cycle,
    *,
    anchor_date: date,
    anchor_sequence: int,
    from_sequence: int,
    skipped: Collection[int],
    calendar: BusinessCalendar,
    lead_days: int,
) -> NextDelivery:
    """The first unskipped sequence >= from_sequence, its delivery date and its creation date."""
    sequence = next_sequence(from_sequence=from_sequence, anchor_sequence=anchor_sequence, skipped=skipped)
    delivery = delivery_date(
        cycle, anchor_date=anchor_date, anchor_sequence=anchor_sequence, sequence=sequence
    )
    return NextDelivery(sequence, delivery, calendar.creation_date(delivery, lead_days))


def next_sequence(*, from_sequence: int, anchor_sequence: int, skipped: Collection[int]) -> int:
    """The next delivery's sequence: the first one >= from_sequence (never before the anchor) that
    is not skipped."""
    sequence = max(from_sequence, anchor_sequence)
    while sequence in skipped:  # terminates: `skipped` is finite
        sequence += 1
    return sequence


def change_deadline_for(creation_date: date, *, change_deadline_days: int) -> date:
    """The last day (inclusive) a customer may still change the delivery whose order is created on
    `creation_date`: the shop's change_deadline_days before it."""
    return creation_date - timedelta(days=change_deadline_days)


def first_changeable_creation(today: date, *, change_deadline_days: int) -> date:
    """The earliest creation date whose change deadline (change_deadline_for) is still today or later:
    a delivery chosen now must itself stay changeable today."""
    return today + timedelta(days=change_deadline_days)


def delivery_number(cycle_count: int, *, ahead: int = 0) -> int:
    """The 定期回数 an order prices and coupons key on: the count once that order is made.

    `cycle_count` is the subscription's count now; `ahead` counts orders made before this one (the
    forecast plays several). A cancelled child order gives its count back, so the order made after it
    is priced again as that same number (DESIGN "Counters").
    """
    return cycle_count + ahead + 1


class CycleColumns(Protocol):
    """A row carrying a subscription's cycle columns (a due row, a model, a forecast shape)."""

    cycle_unit: str
    cycle_interval: int
    cycle_day_of_month: int | None
    cycle_nth_week: int | None
    cycle_weekday: int | None


class ScheduleMemo:
    """compute_next with its two costly parts remembered for a run (the nightly run, the forecast).

    Rows share few distinct (cycle, anchor) pairs and fewer distinct delivery dates, so the dateutil
    month maths and the holiday-aware calendar walk are done once per distinct input, not per row.
    """

    def __init__(self, calendar: BusinessCalendar, lead_days: int) -> None:
        self.calendar = calendar
        self.lead_days = lead_days
        self._cycles: dict[tuple, Cycle] = {}
        self._deliveries: dict[tuple, date] = {}
        self._creations: dict[date, date] = {}

    def cycle(self, row: CycleColumns) -> Cycle:
        key = (
            row.cycle_unit,
            row.cycle_interval,
            row.cycle_day_of_month,
            row.cycle_nth_week,
            row.cycle_weekday,
        )
        cycle = self._cycles.get(key)
        if cycle is None:
            cycle = self._cycles[key] = Cycle(*key)
        return cycle

    def creation_date(self, delivery: date) -> date:
        creation = self._creations.get(delivery)
        if creation is None:
            creation = self._creations[delivery] = self.calendar.creation_date(delivery, self.lead_days)
        return creation

    def next_delivery(
        self,
        row: CycleColumns,
        *,
        anchor_date: date,
        anchor_sequence: int,
        from_sequence: int,
        skipped: frozenset[int],
    ) -> NextDelivery:
        """compute_next for this row and anchor."""
        sequence = next_sequence(
            from_sequence=from_sequence, anchor_sequence=anchor_sequence, skipped=skipped
        )
        cycle = self.cycle(row)
        key = (cycle, anchor_date, sequence - anchor_sequence)
        delivery = self._deliveries.get(key)
        if delivery is None:
            delivery = self._deliveries[key] = delivery_date(
                cycle, anchor_date=anchor_date, anchor_sequence=anchor_sequence, sequence=sequence
            )
        return NextDelivery(sequence, delivery, self.creation_date(delivery))
