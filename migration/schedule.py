"""Where an imported schedule stands: re-anchored on the source's next delivery, month-end days kept.

Pure: the engine's cycle maths (subscriptions.cycles) and calendar, no database.

The source says "next delivery on D, number n, every <cycle>". The engine's schedule is
(cycle, anchor_date, anchor_sequence): anchoring on (D, n) gives exactly the source's next date
and, because every later date is computed from the anchor, the same later dates — provided a month
cycle keeps its day of month. A "31st" schedule whose next delivery is Feb 28 would become a
"28th" one if the day were taken from the anchor, so the day is always stored explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from subscriptions.calendar import BusinessCalendar
from subscriptions.cycles import Cycle, delivery_date, first_sequence_on_or_after
from subscriptions.schedule import NextDelivery, compute_next


@dataclass(frozen=True, slots=True)
class ImportedSchedule:
    cycle: Cycle
    anchor_date: date
    anchor_sequence: int
    skipped: tuple[int, ...]
    next: NextDelivery


class OffSchedule(ValueError):
    def __init__(self, day: date):
        super().__init__(day.isoformat())
        self.day = day


def with_day_of_month(cycle: Cycle, anchor: date) -> Cycle:
    """A day-of-month cycle names its day (the anchor's when the source gave none)."""
    if cycle.unit == "month" and cycle.nth_week is None and cycle.day_of_month is None:
        return replace(cycle, day_of_month=anchor.day)
    return cycle


def import_schedule(
    cycle: Cycle,
    *,
    next_delivery: date,
    next_sequence: int,
    skipped_dates: list[date],
    calendar: BusinessCalendar,
    lead_days: int,
) -> ImportedSchedule:
    """Raises OffSchedule for a skipped date that is not one of the schedule's dates."""
    cycle = with_day_of_month(cycle, next_delivery)
    skipped = []
    for day in sorted(set(skipped_dates)):
        sequence, found = first_sequence_on_or_after(
            cycle,
            anchor_date=next_delivery,
            anchor_sequence=next_sequence,
            earliest=day,
            min_sequence=next_sequence,
        )
        if found != day:
            raise OffSchedule(day)
        skipped.append(sequence)
    nxt = compute_next(
        cycle,
        anchor_date=next_delivery,
        anchor_sequence=next_sequence,
        from_sequence=next_sequence,
        skipped=skipped,
        calendar=calendar,
        lead_days=lead_days,
    )
    return ImportedSchedule(cycle, next_delivery, next_sequence, tuple(skipped), nxt)


def future_skipped_dates(
    cycle: Cycle, *, anchor_date: date, anchor_sequence: int, next_sequence: int, skipped: frozenset[int]
) -> list[date]:
    """The skipped deliveries still ahead, as dates (what an export carries)."""
    return [
        delivery_date(cycle, anchor_date=anchor_date, anchor_sequence=anchor_sequence, sequence=s)
        for s in sorted(skipped)
        if s > next_sequence
    ]
