"""python manage.py export_orders [--status …] [--delivery-date D|FROM..TO] [--encoding cp932|utf-8]
[--per order|line] [--columns a,b,…] --out FILE"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backoffice.exports import DEFAULT_ORDER_COLUMNS, LINE_COLUMNS, orders_csv, orders_for_export
from core.textio import EncodeReport
from orders.models import OrderStatus


def delivery_range(text: str) -> tuple[date | None, date | None]:
    """'2027-03-15' (that day) or '2027-03-01..2027-03-31' (either end may be empty)."""
    start, sep, end = text.partition("..")
    if not sep:
        end = start
    try:
        return (date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None)
    except ValueError as exc:
        raise CommandError(f"--delivery-date: {exc}") from exc


class Command(BaseCommand):
    help = "受注をCSVに書き出します（既定はShift_JIS / cp932）。"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--status", action="append", choices=OrderStatus.values, help="繰り返し指定できます"
        )
        parser.add_argument("--delivery-date", default="", help="YYYY-MM-DD または FROM..TO")
        parser.add_argument("--encoding", choices=["cp932", "utf-8"], default="cp932")
        parser.add_argument("--per", choices=["order", "line"], default="order")
        parser.add_argument(
            "--columns", default=",".join(DEFAULT_ORDER_COLUMNS), help=", ".join(c.key for c in LINE_COLUMNS)
        )
        parser.add_argument("--out", type=Path, required=True, help="書き出すファイル（- で標準出力）")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        start, end = delivery_range(options["delivery_date"]) if options["delivery_date"] else (None, None)
        orders = orders_for_export(statuses=options["status"], delivery_from=start, delivery_to=end)
        report = EncodeReport(encoding=options["encoding"])
        columns = [c.strip() for c in options["columns"].split(",") if c.strip()]
        try:
            lines = orders_csv(
                orders, per=options["per"], columns=columns, encoding=options["encoding"], report=report
            )
            out = sys.stdout.buffer if str(options["out"]) == "-" else options["out"].open("wb")
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            for line in lines:
                out.write(line)
        finally:
            if out is not sys.stdout.buffer:
                out.close()
        for r in report.replacements:
            self.stderr.write(f"row {r.row}\t{r.column}\t{r.characters!r} -> 〓 (not in {report.encoding})")
        self.stderr.write(f"{report.rows} rows, {report.replaced_cells} cell(s) with replaced characters")
