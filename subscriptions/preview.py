"""A schedule as rows of (sequence, delivery date, creation date, skipped), without any storage.

Pure: shared by the preview command, admin screens and the my-page "upcoming deliveries" list.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from subscriptions.calendar import BusinessCalendar
from subscriptions.cycles import Cycle, deliveries


@dataclass(frozen=True, slots=True)
class PreviewRow:
    sequence: int
    delivery_date: date
    creation_date: date  # the day the child order is created, `lead_days` open days before delivery
    skipped: bool  # a skipped delivery keeps its date; later dates do not move


def preview_schedule(
    cycle: Cycle,
    *,
    anchor_date: date,
    anchor_sequence: int,
    start_sequence: int,
    count: int,
    calendar: BusinessCalendar,
    lead_days: int,
    skipped: Collection[int] = frozenset(),
) -> list[PreviewRow]:
    """`count` rows from `start_sequence`; raises CycleError or CalendarError as the parts do."""
    return [
        PreviewRow(
            sequence=sequence,
            delivery_date=delivery,
            creation_date=calendar.creation_date(delivery, lead_days),
            skipped=sequence in skipped,
        )
        for sequence, delivery in deliveries(
            cycle,
            anchor_date=anchor_date,
            anchor_sequence=anchor_sequence,
            start_sequence=start_sequence,
            count=count,
        )
    ]


def format_rows(rows: Iterable[PreviewRow]) -> str:
    """One `SEQ DELIVERY CREATION[ skipped]` line per row, each ending in a newline."""
    return "".join(_format_row(row) + "\n" for row in rows)


def _format_row(row: PreviewRow) -> str:
    line = f"{row.sequence} {row.delivery_date.isoformat()} {row.creation_date.isoformat()}"
    return line + " skipped" if row.skipped else line
