"""Building small import files in the tests."""

from __future__ import annotations

import csv
import io

from migration.formats import native

GOOD = {
    "handle": "S-1",
    "email": "yamada@example.jp",
    "name": "山田 太郎",
    "name_kana": "ヤマダ タロウ",
    "phone": "090-0000-0001",
    "postal_code": "150-0001",
    "prefecture": "東京都",
    "city": "渋谷区神宮前",
    "line1": "1-2-3",
    "line2": "移行ハイツ 201",
    "course_code": "aojiru-teiki",
    "items": "AOJIRU-30:1",
    "status": "active",
    "cycle_unit": "month",
    "cycle_interval": "1",
    "next_delivery_date": "2027-02-15",
    "delivery_count": "2",
    "payment_kind": "bank_transfer",
    "time_slot": "08-12",
}


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def native_csv(rows: list[dict[str, str]], *, encoding: str = "utf-8") -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=native.header(), lineterminator="\r\n")
    writer.writeheader()
    for values in rows:
        writer.writerow(values)
    return text.getvalue().encode(encoding)
