"""Reading one cell: dates, numbers, yes/no, weekdays. Each parser returns a value or raises
CellError with a message a shop can act on (Japanese, English in migration/locale)."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime

from django.utils.translation import gettext as _

from .record import WEEKDAY_CODES

DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T].*)?$")
TRUE = {"1", "true", "yes", "y", "on", "はい", "○"}
FALSE = {"", "0", "false", "no", "n", "off", "いいえ"}


class CellError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def text(value: str | None) -> str:
    return (value or "").strip()


def required(value: str | None) -> str:
    value = text(value)
    if not value:
        raise CellError(_("必須項目が空です。"))
    return value


def parse_date(value: str | None, *, optional: bool = True) -> date | None:
    """2027-01-31, 2027/1/31 or an ISO date-time (its date part is taken as the shop's date)."""
    value = text(value)
    if not value:
        if optional:
            return None
        raise CellError(_("日付が空です。"))
    match = DATE.match(value)
    if not match:
        raise CellError(_("日付の形式が正しくありません（例: 2027-01-31）。"))
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise CellError(_("%(month)d月という月はありません。") % {"month": month})
    last = monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise CellError(
            _("%(year)d年%(month)d月に%(day)d日はありません（この月は%(last)d日までです）。")
            % {"year": year, "month": month, "day": day, "last": last}
        )
    return date(year, month, day)


def parse_int(
    value: str | None, *, default: int | None = None, low: int = 0, high: int = 10**9
) -> int | None:
    value = text(value).replace(",", "")
    if not value:
        return default
    if not re.fullmatch(r"[0-9]+", value):
        raise CellError(_("半角数字で入力してください。"))
    number = int(value)
    if not low <= number <= high:
        raise CellError(_("%(low)dから%(high)dまでの数で入力してください。") % {"low": low, "high": high})
    return number


def parse_bool(value: str | None) -> bool:
    value = text(value).lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise CellError(_("1（はい）か0（いいえ）で入力してください。"))


def parse_day_of_month(value: str | None) -> int | None:
    value = text(value).lower()
    if value in ("last", "末日", "-1"):
        return -1
    return parse_int(value, low=1, high=31)


def parse_nth_week(value: str | None) -> int | None:
    value = text(value).lower()
    if value in ("last", "最終", "-1"):
        return -1
    return parse_int(value, low=1, high=4)


def parse_weekday(value: str | None) -> int | None:
    value = text(value).lower()
    if not value:
        return None
    if value[:3] in WEEKDAY_CODES:
        return WEEKDAY_CODES.index(value[:3])
    if value in "月火水木金土日" and len(value) == 1:
        return "月火水木金土日".index(value)
    raise CellError(_("曜日は mon〜sun（または 月〜日）で入力してください。"))


def parse_date_list(value: str | None) -> list[date]:
    return [parse_date(part, optional=False) for part in text(value).split(";") if part.strip()]


def format_day_of_month(day: int | None) -> str:
    return "" if day is None else ("last" if day == -1 else str(day))


def format_weekday(weekday: int | None) -> str:
    return "" if weekday is None else WEEKDAY_CODES[weekday]


def format_date(day: date | None) -> str:
    return day.isoformat() if day else ""


def format_bool(value: bool) -> str:
    return "1" if value else "0"


def as_datetime_text(day: date | None) -> str:
    """A date as the 'YYYY-MM-DD HH:MM:SS' WooCommerce and Shopify files carry."""
    return datetime(day.year, day.month, day.day).strftime("%Y-%m-%d %H:%M:%S") if day else ""  # noqa: DTZ001
