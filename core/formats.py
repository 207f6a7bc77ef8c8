"""How dates read in Japanese documents, emails and refusals (2027年2月28日（日）)."""

from __future__ import annotations

from datetime import date

WEEKDAYS_JA = "月火水木金土日"


def jp_date(day: date, *, weekday: bool = False) -> str:
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（{WEEKDAYS_JA[day.weekday()]}）" if weekday else text
