"""Benchmark of the order CSV export: `python bench/export_orders.py --orders N [--reset|--reuse]`.

Fills the EMPTY PostgreSQL database named by DATABASE_URL (created and migrated if missing; a
non-empty one is refused unless --reset, --reuse keeps the orders of an earlier run) with N orders
of one line each (set-based SQL, names with characters cp932 lacks on every 1,000th), then streams
the back office's export (backoffice.exports.orders_csv, the default columns, cp932) to /dev/null:
first the first tenth of the orders, then all of them. Memory must stay flat: the peak RSS after the
full export is compared with the peak after the tenth. Prints the figures; the last line is JSON:

  orders, tenth_seconds, tenth_rows_per_second, seconds, rows_per_second, lines_rows_per_second,
  replaced_cells, peak_rss_mb_after_tenth, peak_rss_mb_after_all

Figures are measured, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fill(n: int) -> None:
    from django.conf import settings
    from django.db import connection

    from customers.models import Customer
    from tests.factories import CustomerFactory, ProductFactory

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # customers, not logins
    product = ProductFactory(sku="BENCH-1", name="青汁 30包")
    customers = [CustomerFactory(name=f"髙橋 {i}") for i in range(100)]
    first = min(c.pk for c in customers)
    assert Customer.objects.count() == 100
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO orders_order (customer_id, status, payment_status, hold_reasons, creation_date,
                delivery_date, delivery_time_slot, ship_name, ship_postal_code, ship_prefecture, ship_city,
                ship_line1, ship_line2, ship_phone, ship_remote_island, is_gift, payment_kind,
                items_subtotal, discount_total, shipping_fee, cod_fee, points_used, total, tax_summary,
                tracking_number, created_at, updated_at)
            SELECT %(first)s + (g %% 100), 'ready', 'paid', '[]'::jsonb, DATE '2027-03-01' + (g %% 30),
                DATE '2027-03-05' + (g %% 30), '14-16',
                CASE WHEN g %% 1000 = 0 THEN '𠮷田 花子😀' ELSE '山田 花子' END,
                '100-0001', '東京都', '千代田区', '千代田1-1', '', '090-1234-5678', false, false, 'card',
                3980, 0, 500, 0, 0, 4480, '{}'::jsonb, '', now(), now()
            FROM generate_series(1, %(n)s) AS g
            """,
            {"first": first, "n": n},
        )
        cursor.execute(
            """
            INSERT INTO orders_orderline (order_id, product_id, sku, product_name, quantity, unit_price,
                tax_rate, line_total)
            SELECT id, %(product)s, 'BENCH-1', '青汁 30包', 1, 3980, 8, 3980 FROM orders_order
            """,
            {"product": product.pk},
        )
        cursor.execute("ANALYZE orders_order; ANALYZE orders_orderline")


def _export(orders, per: str = "order") -> tuple[int, int, float]:  # noqa: ANN001
    from backoffice.exports import orders_csv
    from core.textio import EncodeReport

    report = EncodeReport(encoding="cp932")
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        for line in orders_csv(orders, per=per, encoding="cp932", report=report):
            sink.write(line)
    return report.rows, report.replaced_cells, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep the orders an earlier run made")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    url = os.environ.get("DATABASE_URL", "")
    if not args.reuse:
        from bench.benchdb import prepare_database

        prepare_database(url, reset=args.reset, script="bench/export_orders.py")
    import django

    django.setup()
    from django.core.management import call_command

    from orders.models import Order

    if not args.reuse:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        _fill(args.orders)
        print(f"filled {args.orders:,} orders in {time.perf_counter() - started:.1f} s", flush=True)
    total = Order.objects.count()
    tenth_id = Order.objects.order_by("id").values_list("id", flat=True)[max(total // 10 - 1, 0)]
    tenth_rows, _r, tenth_seconds = _export(Order.objects.filter(id__lte=tenth_id))
    rss_tenth = _rss_mb()
    print(f"tenth: {tenth_rows:,} rows in {tenth_seconds:.1f} s, peak RSS {rss_tenth:.0f} MB", flush=True)
    rows, replaced, seconds = _export(Order.objects.all())
    rss_all = _rss_mb()
    print(f"all: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s), peak RSS {rss_all:.0f} MB")
    line_rows, _r, line_seconds = _export(Order.objects.filter(id__lte=tenth_id), per="line")
    print(f"per line item (a tenth): {line_rows / line_seconds:,.0f} rows/s; {replaced:,} cells replaced")
    print(
        json.dumps(
            {
                "orders": rows,
                "tenth_seconds": round(tenth_seconds, 2),
                "tenth_rows_per_second": round(tenth_rows / tenth_seconds),
                "seconds": round(seconds, 2),
                "rows_per_second": round(rows / seconds),
                "lines_rows_per_second": round(line_rows / line_seconds),
                "replaced_cells": replaced,
                "peak_rss_mb_after_tenth": round(rss_tenth),
                "peak_rss_mb_after_all": round(rss_all),
            }
        )
    )


if __name__ == "__main__":
    main()
