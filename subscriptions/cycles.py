"""Delivery cycles: which date each delivery of a subscription falls on.

Pure maths, no Django. A schedule is fully determined by ``(cycle, anchor_date, anchor_sequence)``:
every date is computed from the anchor, never by stepping from the previous delivery, so a date
clamped to a short month never drags later dates with it (31 -> Feb 28 -> Mar 31).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

LAST = -1  # "last" day of the month, or the last given weekday of the month

UNITS = ("day", "week", "month")
# Upper bounds keep a typo (every 30 months, every 400 days) from becoming a real schedule.
MAX_INTERVAL = {"day": 365, "week": 52, "month": 24}


class CycleError(ValueError):
    """A cycle or a sequence that cannot describe a delivery schedule."""


@dataclass(frozen=True, slots=True)
class Cycle:
    unit: str  # "day" | "week" | "month"
    interval: int  # deliveries happen every `interval` units
    day_of_month: int | None = None  # month only: 1..31 or LAST; None = the anchor's day
    nth_week: int | None = None  # month only: 1..4 or LAST, together with `weekday`
    weekday: int | None = None  # 0=Mon..6=Sun; only with `nth_week`

    def __post_init__(self) -> None:
        _check_unit_and_interval(self.unit, self.interval)
        _check_day_of_month(self)
        _check_nth_weekday(self)


def _is_int(value: object) -> bool:
    # bool is an int subclass; True as an interval is a bug, not "every 1".
    return isinstance(value, int) and not isinstance(value, bool)


def _check_unit_and_interval(unit: str, interval: int) -> None:
    if unit not in UNITS:
        raise CycleError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    limit = MAX_INTERVAL[unit]
    if not _is_int(interval) or not 1 <= interval <= limit:
        raise CycleError(
            f"interval for unit {unit!r} must be a whole number from 1 to {limit}, not {interval!r}"
        )


def _check_day_of_month(cycle: Cycle) -> None:
    if cycle.day_of_month is None:
        return
    if cycle.unit != "month":
        raise CycleError("day_of_month is only allowed with unit 'month'")
    if not _is_int(cycle.day_of_month) or not (1 <= cycle.day_of_month <= 31 or cycle.day_of_month == LAST):
        raise CycleError(f"day_of_month must be 1-31 or LAST, not {cycle.day_of_month!r}")
    if cycle.nth_week is not None:
        raise CycleError("a cycle cannot have both day_of_month and nth_week")


def _check_nth_weekday(cycle: Cycle) -> None:
    if cycle.nth_week is None and cycle.weekday is None:
        return
    if cycle.unit != "month":
        raise CycleError("nth_week and weekday are only allowed with unit 'month'")
    if cycle.nth_week is None:
        raise CycleError("weekday needs nth_week (which week of the month)")
    if cycle.weekday is None:
        raise CycleError("nth_week needs weekday")
    if not _is_int(cycle.nth_week) or not (1 <= cycle.nth_week <= 4 or cycle.nth_week == LAST):
        raise CycleError(f"nth_week must be 1-4 or LAST, not {cycle.nth_week!r}")
    if not _is_int(cycle.weekday) or not 0 <= cycle.weekday <= 6:
        raise CycleError(f"weekday must be 0 (Monday) to 6 (Sunday), not {cycle.weekday!r}")


def delivery_date(cycle: Cycle, *, anchor_date: date, anchor_sequence: int, sequence: int) -> date:
    """The delivery date of `sequence`.

    Warning: always computed from the anchor. Callers must re-anchor (new anchor_date and
    anchor_sequence) to move a schedule, never feed a previous result back in as the anchor.
    """
    if anchor_sequence < 1:
        raise CycleError(f"anchor_sequence must be 1 or more, not {anchor_sequence}")
    if sequence < anchor_sequence:
        raise CycleError(f"sequence {sequence} is before the anchor sequence {anchor_sequence}")
    steps = sequence - anchor_sequence
    if steps == 0:
        # The anchor occurrence is kept as given even when it does not match the rule.
        return anchor_date
    try:
        return _date_after(cycle, anchor_date, steps)
    except (OverflowError, ValueError) as exc:  # past 9999-12-31
        raise CycleError(f"sequence {sequence} falls out of range of the calendar") from exc


def _date_after(cycle: Cycle, anchor_date: date, steps: int) -> date:
    if cycle.unit == "day":
        return anchor_date + timedelta(days=cycle.interval * steps)
    if cycle.unit == "week":
        return anchor_date + timedelta(weeks=cycle.interval * steps)
    month = anchor_date.replace(day=1) + relativedelta(months=cycle.interval * steps)
    if cycle.nth_week is not None:
        return _nth_weekday(month, cycle.nth_week, cycle.weekday)  # type: ignore[arg-type]
    return _day_in_month(month, cycle.day_of_month or anchor_date.day)


def _day_in_month(first_of_month: date, day: int) -> date:
    days_in_month = monthrange(first_of_month.year, first_of_month.month)[1]
    return first_of_month.replace(day=days_in_month if day == LAST else min(day, days_in_month))


def _nth_weekday(first_of_month: date, nth: int, weekday: int) -> date:
    if nth == LAST:
        last_day = _day_in_month(first_of_month, LAST)
        return last_day - timedelta(days=(last_day.weekday() - weekday) % 7)
    first_match = first_of_month + timedelta(days=(weekday - first_of_month.weekday()) % 7)
    return first_match + timedelta(weeks=nth - 1)  # the 4th is at most day 28: always in the month


def deliveries(
    cycle: Cycle, *, anchor_date: date, anchor_sequence: int, start_sequence: int, count: int
) -> list[tuple[int, date]]:
    """`count` consecutive `(sequence, delivery date)` pairs from `start_sequence`."""
    if count < 0:
        raise CycleError(f"count must be 0 or more, not {count}")
    return [
        (
            sequence,
            delivery_date(cycle, anchor_date=anchor_date, anchor_sequence=anchor_sequence, sequence=sequence),
        )
        for sequence in range(start_sequence, start_sequence + count)
    ]


def first_sequence_on_or_after(
    cycle: Cycle, *, anchor_date: date, anchor_sequence: int, earliest: date, min_sequence: int
) -> tuple[int, date]:
    """The smallest sequence >= max(min_sequence, anchor_sequence) delivered on or after `earliest`.

    Dates strictly increase with the sequence (the anchor lies in the anchor month, every later
    occurrence in a later month or day), so a lower-bound estimate from the date difference plus a
    step or two forward finds it without walking the years in between.
    """

    def at(sequence: int) -> date:
        return delivery_date(
            cycle, anchor_date=anchor_date, anchor_sequence=anchor_sequence, sequence=sequence
        )

    lowest = max(min_sequence, anchor_sequence)
    if at(lowest) >= earliest:
        return lowest, at(lowest)
    sequence = max(lowest, anchor_sequence + _estimate_steps(cycle, anchor_date, earliest))
    while at(sequence) < earliest:
        sequence += 1
    return sequence, at(sequence)


def _estimate_steps(cycle: Cycle, anchor_date: date, earliest: date) -> int:
    # Never past the answer: the step it names falls on or before `earliest` (same or earlier
    # month for month cycles), and every step before it strictly before. The caller steps forward.
    if cycle.unit == "month":
        months = (earliest.year - anchor_date.year) * 12 + earliest.month - anchor_date.month
        return months // cycle.interval
    days_per_step = cycle.interval * (7 if cycle.unit == "week" else 1)
    return (earliest - anchor_date).days // days_per_step
