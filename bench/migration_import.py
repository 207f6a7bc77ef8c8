"""Benchmark of the subscription import: `python bench/migration_import.py --subscriptions N`.

Writes a native CSV of N varied subscriptions (cycles, month-end days, statuses, offline payment
kinds, one customer each; cards are left out: each is a Stripe call, see --cards) into a temporary
file, then imports it into the EMPTY PostgreSQL database named by DATABASE_URL (created and migrated
if missing; a non-empty one is refused unless --reset): a dry run, the import, and the same file
again (which must create nothing). Prints the figures; the last line is a JSON object:

  subscriptions, file_mb, dry_run_seconds, import_seconds, per_second, second_run_seconds,
  second_run_created, peak_rss_mb, cards, card_seconds

--cards K adds K subscriptions paid by card, each checked against a localstripe server started for
the run, and times that import on its own (Stripe allows about 100 requests a second live).
Figures are measured, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2027, 1, 12)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, required=True)
    parser.add_argument("--cards", type=int, default=0)
    parser.add_argument("--reset", action="store_true", help="drop and recreate a non-empty database")
    return parser.parse_args()


def _rows(n: int, rng: random.Random, prefix: str, cards: list[tuple[str, str]] | None = None):  # noqa: ANN202
    from customers.models import PREFECTURES

    for i in range(n):
        month_end = rng.random() < 0.2
        unit = rng.choice(["month", "month", "month", "week"])
        interval = rng.choice([1, 2]) if unit == "month" else 2
        day = 31 if month_end else rng.randint(1, 28)
        next_date = TODAY + timedelta(days=rng.randint(7, 60))
        if unit == "month" and not month_end:
            next_date = next_date.replace(day=day)
        status = rng.choices(["active", "paused", "cancelled"], [90, 6, 4])[0]
        card = cards[i] if cards else None
        yield {
            "handle": f"{prefix}-{i}",
            "email": f"{prefix}{i}@example.jp",
            "name": "移行 太郎",
            "postal_code": f"{rng.randrange(100, 999)}-{rng.randrange(10000):04d}",
            "prefecture": rng.choice(PREFECTURES),
            "city": "中央区",
            "line1": f"{rng.randint(1, 9)}-{rng.randint(1, 30)}",
            "course_code": "aojiru-teiki",
            "items": "AOJIRU-30:1",
            "status": status,
            "cycle_unit": unit,
            "cycle_interval": str(interval),
            "cycle_day_of_month": str(day) if unit == "month" else "",
            "next_delivery_date": next_date.isoformat(),
            "delivery_count": str(rng.randint(0, 12)),
            "time_slot": rng.choice(["", "08-12", "19-21"]),
            "payment_kind": "card" if card else rng.choice(["bank_transfer", "konbini", "cod"]),
            "stripe_customer_id": card[0] if card else "",
            "stripe_payment_method_id": card[1] if card else "",
            "paused_until": (TODAY + timedelta(days=30)).isoformat() if status == "paused" else "",
            "cancelled_on": TODAY.isoformat() if status == "cancelled" else "",
            "cancel_reason": "price" if status == "cancelled" else "",
        }


def _write(path: str, rows) -> None:  # noqa: ANN001
    import csv

    from migration.formats import native

    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=native.header(), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def _timed_import(path: str, *, dry_run: bool):  # noqa: ANN202
    from migration.importer import subscriptions_import

    started = time.perf_counter()
    with open(path, "rb") as stream:
        report = subscriptions_import(stream=stream, format="native", dry_run=dry_run)
    return report, time.perf_counter() - started


def _card_run(count: int, rng: random.Random) -> float:
    from django.conf import settings

    from billing.localstripe_server import SECRET_KEY, start_localstripe, stop_localstripe

    server = start_localstripe()
    try:
        settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE = SECRET_KEY, server.url
        client = server.client()
        cards = []
        for _i in range(count):
            cus = client.v1.customers.create().id
            pm = client.v1.payment_methods.create(
                params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2034,
                                                 "cvc": "123"}}
            )  # fmt: skip
            client.v1.payment_methods.attach(pm.id, params={"customer": cus})
            cards.append((cus, pm.id))
        path = tempfile.mktemp(suffix=".csv")
        _write(path, _rows(count, rng, "card", cards))
        report, seconds = _timed_import(path, dry_run=False)
        os.unlink(path)
        print(f"cards: {report.summary()} in {seconds:.1f} s ({count / seconds:,.0f}/s)")
        return seconds
    finally:
        stop_localstripe(server)


def main() -> None:
    args = _parse()
    url = os.environ.get("DATABASE_URL", "")
    from bench.benchdb import prepare_database

    prepare_database(url, reset=args.reset, script="bench/migration_import.py")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    import logging

    logging.getLogger("stripe").setLevel(logging.WARNING)
    from django.core.management import call_command

    from scheduler.demo_seed import SeedReport, seed_courses, seed_policy, seed_products

    call_command("migrate", verbosity=0)
    report = SeedReport()
    seed_courses(report, seed_products(report))
    seed_policy(report, TODAY)
    rng = random.Random(14)
    path = tempfile.mktemp(suffix=".csv")
    _write(path, _rows(args.subscriptions, rng, "bench"))
    size = os.path.getsize(path) / 1e6
    dry, dry_seconds = _timed_import(path, dry_run=True)
    print(f"dry run: {dry.summary()} in {dry_seconds:.1f} s")
    real, seconds = _timed_import(path, dry_run=False)
    print(
        f"import: {real.summary()} in {seconds:.1f} s ({args.subscriptions / seconds:,.0f} subscriptions/s)"
    )
    again, again_seconds = _timed_import(path, dry_run=False)
    print(f"second run: {again.summary()} in {again_seconds:.1f} s")
    os.unlink(path)
    card_seconds = _card_run(args.cards, rng) if args.cards else 0.0
    print(json.dumps({
        "subscriptions": args.subscriptions, "file_mb": round(size, 1), "dry_run_seconds": round(dry_seconds, 1),
        "import_seconds": round(seconds, 1), "per_second": round(args.subscriptions / seconds),
        "second_run_seconds": round(again_seconds, 1), "second_run_created": again.created,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cards": args.cards, "card_seconds": round(card_seconds, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
