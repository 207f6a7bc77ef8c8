"""`python manage.py forecast --days N [--format table|json|csv] [--today YYYY-MM-DD]`.

Every night's forecast orders from the first night whose run has not started, read-only. The JSON
is {"days": [{"creation_date", "orders", "units": {SKU: n}, "revenue", …}, …], "deliveries": …,
"shipping": …, "totals": …} for scripts.
"""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from insights.forecast import forecast_build
from insights.forecast.engine import MAX_DAYS


class Command(BaseCommand):
    help = "Forecast the orders each nightly run will create over the next N days (writes nothing)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--days", type=int, default=90, help=f"nights to forecast, 1-{MAX_DAYS} (default 90)"
        )
        parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
        parser.add_argument("--today", help="YYYY-MM-DD (default: today in the shop's time zone)")

    def handle(self, *args, days: int, format: str, today: str | None, **options) -> None:  # noqa: ANN002, ANN003, A002
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be 1 to {MAX_DAYS}, not {days}")
        day = None
        if today:
            try:
                day = date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"invalid --today {today!r}: expected YYYY-MM-DD") from None
        forecast = forecast_build(days=days, today=day)
        if format == "json":
            self.stdout.write(json.dumps(forecast.as_json(), ensure_ascii=False))
        elif format == "csv":
            self.stdout.write(forecast.csv_text(), ending="")
        else:
            self.stdout.write(forecast.table_text())
