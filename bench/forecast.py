"""Benchmark of the forecast: `python bench/forecast.py --subscriptions N [--days 90]`.

Builds N subscriptions in the EMPTY PostgreSQL database named by DATABASE_URL (created if missing;
a non-empty one is refused unless --reset) with set-based INSERT … SELECT generate_series
statements: the schedules come from a few thousand templates computed with the real schedule maths
(subscriptions.schedule.compute_next), spread over the rows; about 90 % active, 5 % paused with a
resume date, 5 % cancelled, 5 % with a skip, 1 % with a coupon, 2 % with reserved points, 47
prefectures, four payment kinds, a customer group with its own prices.

It then times forecast_build(days) over all of them, and a straightforward per-subscription loop
(the ORM row, compute_next and subscription_next_order_price for each forecast order, night by
night) on --baseline-sample rows, and prints the figures; the last line is a JSON object. Figures
are measured, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATES = 20_000


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, required=True)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--baseline-sample", type=int, default=300)
    parser.add_argument("--lanes", type=int, default=2, help="threads reading and counting (2 cores)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate a non-empty database")
    parser.add_argument("--reuse", action="store_true", help="time a database built by an earlier run")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the forecast to stderr")
    return parser.parse_args()


def _setup_django(url: str, *, reset: bool, reuse: bool) -> None:
    if not reuse:
        from bench.benchdb import prepare_database

        prepare_database(url, reset=reset, script="bench/forecast.py")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "False"
    import django

    django.setup()
    if not reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _templates(today: date, rng: random.Random) -> list[tuple]:
    """Schedule templates, each computed as the services would leave it."""
    from catalog.models import Course
    from subscriptions.cycles import Cycle, first_sequence_on_or_after
    from subscriptions.models import ShopPolicy
    from subscriptions.schedule import compute_next

    policy = ShopPolicy.current()
    calendar = policy.business_calendar()
    earliest = calendar.earliest_delivery(today, policy.lead_days)
    courses = [(c.pk, list(c.cycles.all())) for c in Course.objects.prefetch_related("cycles")]
    out = []
    for t in range(1, TEMPLATES + 1):
        course_id, cycles = rng.choice(courses)
        offered = rng.choice(cycles)
        cycle = Cycle(offered.unit, offered.interval, offered.day_of_month, offered.nth_week, offered.weekday)
        anchor = today - timedelta(days=rng.randint(0, 400)) + timedelta(days=rng.randint(0, 30))
        seq, _day = first_sequence_on_or_after(
            cycle,
            anchor_date=anchor,
            anchor_sequence=1,
            earliest=earliest - timedelta(days=1),
            min_sequence=1,
        )
        skipped = [seq] if rng.random() < 0.05 else []
        nxt = compute_next(
            cycle, anchor_date=anchor, anchor_sequence=1, from_sequence=seq, skipped=skipped,
            calendar=calendar, lead_days=policy.lead_days,
        )  # fmt: skip
        roll = rng.random()
        status, paused_until = "active", None
        if roll < 0.05:
            status, paused_until = "paused", today + timedelta(days=rng.randint(1, 80))
        elif roll < 0.10:
            status = "cancelled"
        out.append(
            (t, course_id, cycle.unit, cycle.interval, cycle.day_of_month, cycle.nth_week, cycle.weekday, anchor,
             json.dumps(skipped), nxt.sequence, nxt.delivery_date, nxt.creation_date, status, paused_until,
             max(seq - 1, 1))
        )  # fmt: skip
    return out


PREFECTURES_SQL = "(SELECT array_agg(p) FROM unnest(%s::text[]) p)"


def _insert_customers(cur, customers: int, gold_id: int) -> tuple[int, int, int, int]:  # noqa: ANN001
    """Users, customers (one in ten gold), addresses and payment methods after the seeded ones; the id
    each table's new rows start after (customers, addresses, payment methods, subscriptions)."""
    from customers.models import PREFECTURES

    cur.execute("SELECT COALESCE(MAX(id), 0) FROM auth_user")
    base_u = cur.fetchone()[0]
    base = {}
    for table in (
        "customers_customer",
        "customers_address",
        "billing_paymentmethod",
        "subscriptions_subscription",
    ):
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        base[table] = cur.fetchone()[0]
    bc, ba, bp, bs = (base[t] for t in ("customers_customer", "customers_address", "billing_paymentmethod", "subscriptions_subscription"))  # fmt: skip
    cur.execute(
        "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined) SELECT %s + g, '!', false, 'b' || g || '@example.jp', '', '', "
        "'b' || g || '@example.jp', false, true, now() FROM generate_series(1, %s) g", [base_u, customers],
    )  # fmt: skip
    cur.execute(
        "INSERT INTO customers_customer (id, name, name_kana, phone, is_member, is_blacklisted, blacklist_reason, "
        "stripe_customer_id, created_at, user_id, group_id, language) SELECT %s + g, '顧客 ' || g, '', '', "
        "g %% 20 <> 0, g %% 97 = 0, '', '', now(), %s + g, CASE WHEN g %% 10 = 0 THEN %s END, 'ja' "
        "FROM generate_series(1, %s) g",
        [bc, base_u, gold_id, customers],
    )  # fmt: skip
    cur.execute(
        "INSERT INTO customers_address (id, label, recipient_name, postal_code, prefecture, city, line1, line2, "
        "phone, is_remote_island, is_default, is_invalid, customer_id) SELECT %s + g, '', '顧客', '100-0001', "
        "(%s::text[])[1 + g %% 47], '中央区', '1-1-1', '', '', g %% 100 = 7, true, g %% 211 = 3, %s + g "
        "FROM generate_series(1, %s) g", [ba, list(PREFECTURES), bc, customers],
    )  # fmt: skip
    cur.execute(
        "INSERT INTO billing_paymentmethod (id, kind, stripe_payment_method_id, brand, last4, is_default, "
        "is_active, created_at, customer_id) SELECT %s + g, (ARRAY['card','bank_transfer','konbini','cod'])"
        "[1 + g %% 4], '', '', '', true, true, now(), %s + g FROM generate_series(1, %s) g", [bp, bc, customers],
    )  # fmt: skip
    return bc, ba, bp, bs


def build(total: int, today: date) -> None:
    from django.db import connection

    from catalog.models import GroupPrice, Product
    from customers.models import CustomerGroup
    from pricing.models import Coupon
    from scheduler.demo_seed import seed_all

    seed_all(today)
    gold = CustomerGroup.objects.create(name="ゴールド会員")
    for product in Product.objects.all():
        GroupPrice.objects.create(group=gold, product=product, unit_price=max(product.price - 300, 0))
    Product.objects.update(stock=None)
    all500 = Coupon.objects.create(
        code="B500", name="毎回500円", kind="fixed", value=500, applies_to="all", max_uses=2000
    )
    next10 = Coupon.objects.create(code="B10", name="次回10%", kind="percent", value=10, applies_to="next")
    customers = max(total // 2, 1)
    templates = _templates(today, random.Random(7))
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_template (id int, course_id bigint, unit text, interval smallint, "
                    "dom smallint, nth smallint, wd smallint, anchor date, skipped jsonb, next_seq int, "
                    "next_delivery date, next_creation date, status text, paused_until date, cycle_count int)")  # fmt: skip
        with cur.copy("COPY bench_template FROM STDIN") as copy:
            for row in templates:
                copy.write_row(row)
        bc, ba, bp, bs = _insert_customers(cur, customers, gold.pk)
        cur.execute(
            "INSERT INTO subscriptions_subscription (id, status, cycle_unit, cycle_interval, cycle_day_of_month, "
            "cycle_nth_week, cycle_weekday, anchor_date, anchor_sequence, skipped_sequences, next_sequence, "
            "next_delivery_date, next_creation_date, delivery_time_slot, orders_created, cycle_count, needs_attention, "
            "points_reservation, points_reservation_amount, paused_until, cancelled_at, cancel_reason, cancel_note, "
            "suspended_reason, source, utm_source, utm_medium, utm_campaign, custom_fields, remarks, created_at, "
            "updated_at, coupon_id, course_id, customer_id, payment_method_id, shipping_address_id) "
            "SELECT %s + g, t.status, t.unit, t.interval, t.dom, t.nth, t.wd, t.anchor, 1, t.skipped, t.next_seq, "
            "t.next_delivery, t.next_creation, (ARRAY['', '08-12', '14-16', '18-20'])[1 + g %% 4], t.cycle_count, "
            "t.cycle_count, '[]', CASE WHEN g %% 50 = 2 THEN 'all' ELSE 'none' END, 0, t.paused_until, "
            "CASE WHEN t.status = 'cancelled' THEN now() END, CASE WHEN t.status = 'cancelled' THEN "
            "(ARRAY['price','too_much_stock','not_effective','other'])[1 + g %% 4] ELSE '' END, '', '', 'bench', '', "
            "'', '', '{}', '', now() - (g %% 365) * interval '1 day', now(), CASE WHEN g %% 100 = 0 THEN %s "
            "WHEN g %% 100 = 1 THEN %s END, t.course_id, %s + c, %s + c, %s + c "
            "FROM generate_series(1, %s) g JOIN bench_template t ON t.id = 1 + (g::bigint * 7919) %% %s "
            "CROSS JOIN LATERAL (SELECT 1 + (g - 1) %% %s AS c) cc",
            [bs, all500.pk, next10.pk, bc, bp, ba, total, TEMPLATES, customers],
        )  # fmt: skip
        cur.execute(
            "INSERT INTO subscriptions_subscriptionitem (quantity, product_id, subscription_id) "
            "SELECT ci.quantity, ci.product_id, s.id FROM subscriptions_subscription s "
            "JOIN catalog_courseitem ci ON ci.course_id = s.course_id WHERE s.id > %s", [bs],
        )  # fmt: skip
        cur.execute(
            "INSERT INTO billing_pointaccount (balance, last_activity_on, updated_at, customer_id) "
            "SELECT 500, NULL, now(), id FROM customers_customer WHERE id > %s AND (id - %s) %% 25 = 2", [bc, bc],
        )  # fmt: skip
        for table in ("auth_user", "customers_customer", "customers_address", "billing_paymentmethod",
                      "subscriptions_subscription", "subscriptions_subscriptionitem", "billing_pointaccount"):  # fmt: skip
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
        cur.execute("ANALYZE")


def baseline(ids: list[int], today: date, days: int) -> float:
    """Seconds per subscription for the obvious loop: night by night, one row at a time."""
    from pricing.selectors import subscription_next_order_price
    from subscriptions.models import ShopPolicy, Subscription
    from subscriptions.schedule import compute_next

    policy = ShopPolicy.current()
    started = time.perf_counter()
    orders = 0
    for sub in Subscription.objects.filter(pk__in=ids).select_related("shipping_address", "payment_method"):
        if sub.status == "paused":
            continue  # (generous to the loop: it does not even resume)
        for i in range(days):
            night = today + timedelta(days=i)
            if sub.next_creation_date is None or sub.next_creation_date > night:
                continue
            subscription_next_order_price(subscription=sub, on=night, gift_wrapping=False)
            orders += 1
            nxt = compute_next(
                sub.cycle, anchor_date=sub.anchor_date, anchor_sequence=sub.anchor_sequence,
                from_sequence=sub.next_sequence + 1, skipped=sub.skipped, calendar=policy.business_calendar(),
                lead_days=policy.lead_days,
            )  # fmt: skip
            sub.next_sequence, sub.next_delivery_date, sub.next_creation_date = (
                nxt.sequence,
                nxt.delivery_date,
                nxt.creation_date,
            )
            sub.cycle_count += 1
    return (time.perf_counter() - started) / max(len(ids), 1)


def main() -> None:
    args = _parse()
    url = os.environ.get("DATABASE_URL", "")
    _setup_django(url, reset=args.reset, reuse=args.reuse)
    from insights.forecast import forecast_build
    from subscriptions.models import Subscription
    from subscriptions.selectors import today_in_shop

    today = today_in_shop()
    if not args.reuse:
        started = time.perf_counter()
        build(args.subscriptions, today)
        print(
            f"built {args.subscriptions:,} subscriptions in {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
        )
    load = os.getloadavg()[0]
    started = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        forecast = profiler.runcall(forecast_build, days=args.days, today=today, lanes=args.lanes)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    else:
        forecast = forecast_build(days=args.days, today=today, lanes=args.lanes)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    python_cpu = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    totals = forecast.totals()
    ids = list(Subscription.objects.order_by("?").values_list("id", flat=True)[: args.baseline_sample])
    per_sub = baseline(ids, today, args.days)
    count = Subscription.objects.count()
    baseline_seconds = per_sub * count
    figures = {
        "subscriptions": count,
        "forecast_subscriptions": forecast.subscriptions,
        "days": args.days,
        "lanes": args.lanes,
        "orders": totals["orders"],
        "revenue": totals["revenue"],
        "seconds": round(seconds, 2),
        "python_cpu_seconds": round(python_cpu, 2),
        "baseline_ms_per_subscription": round(per_sub * 1000, 2),
        "baseline_seconds_extrapolated": round(baseline_seconds),
        "speedup": round(baseline_seconds / seconds) if seconds else None,
        "load_1min": round(load, 1),
        "peak_rss_mb": _rss_mb(),
    }
    print(
        f"{count:,} subscriptions x {args.days} days: {totals['orders']:,} orders in {seconds:.1f}s "
        f"(per-subscription loop: {per_sub * 1000:.1f} ms each, {baseline_seconds:,.0f}s for all; "
        f"{figures['speedup']}x)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
