"""Where a subscription stands next: its next unskipped delivery and the day its order is created.

Pure: the cycle maths (cycles.py) and the business calendar (calendar.py) put together. The nightly
run calls this for every row of a batch in memory, and services call it after each change.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from .calendar import BusinessCalendar
from .cycles import Cycle, next_unskipped


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
    sequence, delivery = next_unskipped(
        cycle,
        anchor_date=anchor_date,
        anchor_sequence=anchor_sequence,
        from_sequence=max(from_sequence, anchor_sequence),
        skipped=skipped,
    )
    return NextDelivery(sequence, delivery, calendar.creation_date(delivery, lead_days))
