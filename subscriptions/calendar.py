"""The shop's business calendar: which days it works, and when an order must be created.

Pure maths, no Django. Delivery dates are never moved by the calendar; only the creation date of
each order (``lead_days`` open days before its delivery) depends on it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

import jpholiday

# A run of closed days longer than this means the calendar is misconfigured (e.g. every weekday
# closed); raising beats looping forever or returning a date years away.
MAX_CLOSED_RUN = 400

ONE_DAY = timedelta(days=1)


class CalendarError(ValueError):
    """A calendar or a question about it that has no sensible answer."""


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    closed_weekdays: frozenset[int] = frozenset()  # 0=Mon..6=Sun
    jp_holidays: bool = False  # Japanese public holidays (incl. 振替休日, 国民の休日) are closed
    special_closures: frozenset[date] = frozenset()  # extra closed days, e.g. 年末年始
    special_openings: frozenset[date] = frozenset()  # open whatever else says: an opening wins

    def __post_init__(self) -> None:
        # Accept any iterable but store frozensets, so calendars stay hashable and comparable.
        for name in ("closed_weekdays", "special_closures", "special_openings"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        unknown = sorted(day for day in self.closed_weekdays if day not in range(7))
        if unknown:
            raise CalendarError(f"closed weekdays must be 0 (Monday) to 6 (Sunday), not {unknown}")

    def is_open(self, day: date) -> bool:
        if day in self.special_openings:
            return True
        if day in self.special_closures or day.weekday() in self.closed_weekdays:
            return False
        return not (self.jp_holidays and _is_jp_holiday(day))

    def creation_date(self, delivery_date: date, lead_days: int) -> date:
        """The day the order for `delivery_date` is created: `lead_days` open days before it.

        The delivery day itself never counts as a lead day; with `lead_days == 0` the order is
        created on the latest open day on or before the delivery.
        """
        _check_lead_days(lead_days)
        if lead_days == 0:
            return self._open_on_or_before(delivery_date)
        day = delivery_date
        for _ in range(lead_days):
            day = self._open_on_or_before(day - ONE_DAY)
        return day

    def earliest_delivery(self, today: date, lead_days: int) -> date:
        """The first delivery date an order created today or later can still meet.

        That is the first `d >= today` with `creation_date(d, lead_days) >= today`: the first open
        day from today for `lead_days == 0`, otherwise the day after the `lead_days`-th open day
        from today (the delivery day itself may be closed; carriers deliver anyway).
        """
        _check_lead_days(lead_days)
        day = self._open_on_or_after(today)
        if lead_days == 0:
            return day
        for _ in range(lead_days - 1):
            day = self._open_on_or_after(day + ONE_DAY)
        return day + ONE_DAY

    def _open_on_or_before(self, day: date) -> date:
        return self._find_open(day, -ONE_DAY, "on or before")

    def _open_on_or_after(self, day: date) -> date:
        return self._find_open(day, ONE_DAY, "on or after")

    def _find_open(self, start: date, step: timedelta, direction: str) -> date:
        day = start
        try:
            for _ in range(MAX_CLOSED_RUN):
                if self.is_open(day):
                    return day
                day += step
        except OverflowError:  # walked off 0001-01-01 or 9999-12-31
            pass
        raise CalendarError(f"no open day within {MAX_CLOSED_RUN} days {direction} {start.isoformat()}")


# Whether a date is a Japanese public holiday does not change while the process runs (the package's
# tables are fixed), and jpholiday works it out afresh on every call: the my page asks for the same
# few dozen dates on every request, the nightly run for the same weeks for every subscription.
_is_jp_holiday = functools.lru_cache(maxsize=8192)(jpholiday.is_holiday)


def _check_lead_days(lead_days: int) -> None:
    if lead_days < 0:
        raise CalendarError(f"lead_days must be 0 or more, not {lead_days}")
