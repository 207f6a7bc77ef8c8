"""Which nights create which orders: the nightly run's schedule rules, played forward per shape.

Nothing here re-implements a date rule. Each step calls what the nightly run calls:
- a paused subscription whose resume date comes is resumed by `move_to_first_reachable` (the
  service the resume stage runs), against an in-memory Subscription;
- a due row's delivery that can no longer be met moves to `calendar.earliest_delivery` and
  re-anchors there, exactly as scheduler.generation.plan does for a missed night;
- the next delivery after each order comes from the run's own `ScheduleMemo.next_delivery`
  (subscriptions/schedule.py: compute_next, remembered).
Shared rules (the order of these steps, not their maths), kept in step with scheduler/: one order
per subscription per night (a row still due after tonight's order waits for the next night), the
resume stage runs before generation, and every forecast night is a night whose run has not started
(so a resume may still aim at an order created that night).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from subscriptions.calendar import BusinessCalendar
from subscriptions.models import Subscription, SubscriptionStatus
from subscriptions.schedule import ScheduleMemo
from subscriptions.services.dates import move_to_first_reachable

from .sources import Shape

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PlannedNight:
    """One order the forecast expects: made on `night`, for `sequence`, delivered on `delivery_date`.

    `index` counts the subscription's forecast orders from 0 (its cycle_count + index + 1 prices it).
    """

    night: date
    due_on: date  # the creation date the row carries when the night's run claims it (claim order)
    sequence: int
    delivery_date: date
    index: int
    moved: bool  # the schedule date could no longer be met and the order moved to the first that can
    resumed: bool  # made by a subscription the forecast resumes from a pause


class _ForecastPolicy:
    """The three things move_to_first_reachable reads from ShopPolicy, with the calendar read once.

    last_nightly_run_date is None: each forecast night is one whose run has not started yet.
    """

    last_nightly_run_date = None

    def __init__(self, calendar: BusinessCalendar, lead_days: int) -> None:
        self._calendar = calendar
        self.lead_days = lead_days

    def business_calendar(self) -> BusinessCalendar:
        return self._calendar


@dataclass(slots=True)
class _Cycle:
    """The cycle columns ScheduleMemo reads from a due row."""

    cycle_unit: str
    cycle_interval: int
    cycle_day_of_month: int | None
    cycle_nth_week: int | None
    cycle_weekday: int | None


def resume_night(shape: Shape, start: date) -> date | None:
    """The night the resume stage brings a paused shape back (None: not paused, or no date)."""
    status, paused_until = shape[11], shape[12]
    if status != SubscriptionStatus.PAUSED or paused_until is None:
        return None
    return max(start, paused_until)


class SchedulePlayer:
    """Plays shapes forward over the nights start..end; one answer per distinct shape."""

    def __init__(self, *, calendar: BusinessCalendar, lead_days: int, start: date, end: date) -> None:
        self.calendar = calendar
        self.lead_days = lead_days
        self.start = start
        self.end = end
        self.memo = ScheduleMemo(calendar, lead_days)
        self._policy = _ForecastPolicy(calendar, lead_days)
        self._earliest: dict[date, date] = {}
        self._played: dict[Shape, tuple[PlannedNight, ...] | None] = {}

    def earliest_delivery(self, night: date) -> date:
        day = self._earliest.get(night)
        if day is None:
            day = self._earliest[night] = self.calendar.earliest_delivery(night, self.lead_days)
        return day

    def play(self, shape: Shape) -> tuple[PlannedNight, ...] | None:
        """The shape's orders over the horizon; None when its data cannot be planned (bad cycle),
        as the nightly run would report the row as failed."""
        if shape in self._played:
            return self._played[shape]
        try:
            played = tuple(self._play(shape))
        except ValueError:  # CycleError, CalendarError: the nightly run fails the row the same way
            played = None
        self._played[shape] = played
        return played

    def _play(self, shape: Shape) -> list[PlannedNight]:
        (unit, interval, dom, nth, weekday, anchor_date, anchor_seq, skipped, next_seq, next_delivery,
         next_creation, status, paused_until) = shape  # fmt: skip
        cycle = _Cycle(unit, interval, dom, nth, weekday)
        skipped_set = frozenset(skipped)
        night = self.start
        resumed = False
        if status == SubscriptionStatus.PAUSED:
            night = resume_night(shape, self.start)
            if night is None or night > self.end:
                return []
            resumed = True
            sub = Subscription(
                cycle_unit=unit, cycle_interval=interval, cycle_day_of_month=dom, cycle_nth_week=nth,
                cycle_weekday=weekday, anchor_date=anchor_date, anchor_sequence=anchor_seq,
                skipped_sequences=list(skipped), next_sequence=next_seq,
            )  # fmt: skip
            move_to_first_reachable(sub, self._policy, night)
            next_seq, next_delivery, next_creation = (
                sub.next_sequence,
                sub.next_delivery_date,
                sub.next_creation_date,
            )
        planned: list[PlannedNight] = []
        last_night = None
        while next_creation is not None and next_creation <= self.end:
            night = max(night, next_creation)
            if night == last_night:
                night += ONE_DAY  # never two orders for one subscription in one run
            if night > self.end:
                break
            delivery = next_delivery
            earliest = self.earliest_delivery(night)
            moved = delivery < earliest
            if moved:
                delivery = earliest
                anchor_date, anchor_seq = delivery, next_seq
            planned.append(
                PlannedNight(night, next_creation, next_seq, delivery, len(planned), moved, resumed)
            )
            nxt = self.memo.next_delivery(
                cycle, anchor_date=anchor_date, anchor_sequence=anchor_seq, from_sequence=next_seq + 1,
                skipped=skipped_set,
            )  # fmt: skip
            next_seq, next_delivery, next_creation = nxt.sequence, nxt.delivery_date, nxt.creation_date
            last_night = night
        return planned
