"""`manage.py preview_schedule`: print a schedule's delivery and creation dates.

It reads nothing but its arguments (no system checks, no queries), so shop staff and developers
can ask "when would this cycle deliver, and when would each order be created?" on any install.
Every error, from argparse or from the cycle maths, is one line on stderr and exit status 2.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from subscriptions.calendar import BusinessCalendar, CalendarError
from subscriptions.cycles import LAST, MAX_INTERVAL, UNITS, Cycle, CycleError
from subscriptions.preview import format_rows, preview_schedule

PROG = "preview_schedule"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_COUNT = 1000
MAX_LEAD_DAYS = 365  # a bigger lead is a typo, and would make each row walk back for years
WHOLE_NUMBER = re.compile(r"-?[0-9]+")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class OptionError(ValueError):
    """An argument that does not describe a schedule; the message names the option."""


@dataclass(frozen=True, slots=True)
class PreviewRequest:
    cycle: Cycle
    first: date  # the delivery date of sequence 1, which is the anchor
    count: int
    calendar: BusinessCalendar
    lead_days: int
    skipped: frozenset[int]


def parse_options(options: Mapping[str, Any]) -> PreviewRequest:
    """Turn the command's options into a request, raising OptionError on the first bad one.

    Values may be strings (from the command line) or already typed (call_command keywords that
    argparse never sees), so every value is checked here rather than by argparse `type=`.
    """
    return PreviewRequest(
        first=_iso_date(options.get("first")),
        cycle=_cycle(options),
        count=_whole_number(options.get("count"), 1, MAX_COUNT, f"--count must be 1-{MAX_COUNT}"),
        lead_days=_whole_number(
            options.get("lead_days", 0), 0, MAX_LEAD_DAYS, f"--lead-days must be 0-{MAX_LEAD_DAYS}"
        ),
        calendar=BusinessCalendar(
            closed_weekdays=_weekday_list(options.get("closed_weekdays")),
            jp_holidays=bool(options.get("jp_holidays", False)),
        ),
        skipped=_sequences(options.get("skip")),
    )


def render(request: PreviewRequest) -> str:
    """The command's whole output; raises CycleError or CalendarError before printing anything."""
    rows = preview_schedule(
        request.cycle,
        anchor_date=request.first,
        anchor_sequence=1,
        start_sequence=1,
        count=request.count,
        calendar=request.calendar,
        lead_days=request.lead_days,
        skipped=request.skipped,
    )
    return format_rows(rows)


def _cycle(options: Mapping[str, Any]) -> Cycle:
    unit = options.get("unit")
    if unit not in UNITS:
        raise OptionError("--unit must be day, week or month")
    limit = MAX_INTERVAL[unit]
    interval = _whole_number(options.get("every"), 1, limit, f"--every must be 1-{limit} for --unit {unit}")
    day, nth, weekday = options.get("day"), options.get("nth"), options.get("weekday")
    _check_combination(unit, day=day, nth=nth, weekday=weekday)
    return Cycle(
        unit=unit,
        interval=interval,
        day_of_month=None if day is None else _number_or_last(day, 31, "--day must be 1-31 or last"),
        nth_week=None if nth is None else _number_or_last(nth, 4, "--nth must be 1-4 or last"),
        weekday=None if weekday is None else _weekday(weekday, "--weekday must be one of"),
    )


def _check_combination(unit: str, *, day: object, nth: object, weekday: object) -> None:
    # Checked here, in the options' own words, before Cycle would say the same in its terms.
    if day is not None and nth is not None:
        raise OptionError("--day and --nth cannot be combined")
    if nth is not None and weekday is None:
        raise OptionError("--nth needs --weekday")
    if weekday is not None and nth is None:
        raise OptionError("--weekday needs --nth")
    for flag, value in (("--day", day), ("--nth", nth)):
        if value is not None and unit != "month":
            raise OptionError(f"{flag} needs --unit month")


def _whole_number(value: object, low: int, high: int | None, message: str) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or WHOLE_NUMBER.fullmatch(str(value))):
        raise OptionError(message)
    number = int(value)  # type: ignore[arg-type]
    if number < low or (high is not None and number > high):
        raise OptionError(message)
    return number


def _number_or_last(value: object, high: int, message: str) -> int:
    if str(value).strip().lower() == "last":
        return LAST
    return _whole_number(value, 1, high, message)


def _weekday(value: object, message: str) -> int:
    name = str(value).strip().lower()
    if name not in WEEKDAYS:
        raise OptionError(f"{message} {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(name)


def _weekday_list(value: object) -> frozenset[int]:
    if value is None:
        return frozenset()
    names = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    message = "--closed-weekdays must be a comma-separated list of"
    return frozenset(_weekday(name, message) for name in names if str(name).strip())


def _sequences(value: object) -> frozenset[int]:
    if value is None:
        return frozenset()
    items = [value] if isinstance(value, str | int) else list(value)  # type: ignore[call-overload]
    return frozenset(
        _whole_number(item, 1, None, "--skip must be sequence numbers of 1 or more") for item in items
    )


def _iso_date(value: object) -> date:
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        if ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass  # well formed but impossible, like 2027-02-30
    raise OptionError("--first must be a date (YYYY-MM-DD)")


def _fail(message: str, *, from_command_line: bool) -> NoReturn:
    """One line and exit 2 on the command line; a CommandError for call_command callers."""
    if from_command_line:
        sys.stderr.write(f"{PROG}: error: {message}\n")
        sys.exit(2)
    raise CommandError(message, returncode=2)


class OneLineErrorParser(CommandParser):
    """Argparse prints a usage block before its error; scripts want just the one error line."""

    def error(self, message: str) -> NoReturn:
        _fail(message, from_command_line=bool(self.called_from_command_line))


class Command(BaseCommand):
    help = (
        "Print each delivery's sequence, delivery date and order creation date. Never touches the database."
    )
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django hard-codes CommandParser; the subclass only overrides error(), so swapping the
        # class of the finished parser is safe and keeps Django's standard options.
        parser.__class__ = OneLineErrorParser
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--first", required=True, metavar="YYYY-MM-DD", help="delivery date of sequence 1"
        )
        parser.add_argument("--every", required=True, metavar="N", help="the interval, in units")
        parser.add_argument("--unit", required=True, metavar="day|week|month")
        parser.add_argument("--day", metavar="1-31|last", help="month only; default: the day of --first")
        parser.add_argument("--nth", metavar="1-4|last", help="month only: which week; needs --weekday")
        parser.add_argument("--weekday", metavar="mon..sun", help="with --nth")
        parser.add_argument("--lead-days", default=0, metavar="N", help="open days from creation to delivery")
        parser.add_argument(
            "--closed-weekdays", default="", metavar="sat,sun", help="days the shop is closed"
        )
        parser.add_argument("--jp-holidays", action="store_true", help="Japanese public holidays are closed")
        parser.add_argument(
            "--skip", nargs="+", action="extend", default=[], metavar="SEQ", help="skipped sequences"
        )
        parser.add_argument("--count", required=True, metavar="N", help=f"how many sequences, 1-{MAX_COUNT}")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            output = render(parse_options(options))
        except (OptionError, CycleError, CalendarError) as exc:
            _fail(str(exc), from_command_line=self._called_from_command_line)
        self.stdout.write(output, ending="")
