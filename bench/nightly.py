"""Benchmark of the nightly generation: `python bench/nightly.py --subscriptions N`.

Builds N due subscriptions (two items each) in the EMPTY PostgreSQL database named by DATABASE_URL
(created if missing; a non-empty one is refused unless --reset), migrates it, runs the set-based
generation and prints figures; the last line is a JSON object:

  subscriptions, orders_created, seconds, per_second, baseline_per_second, speedup,
  rerun_orders_created, duplicates, peak_rss_mb

baseline_per_second is a straightforward one-subscription-at-a-time ORM implementation of the
same work (get, price, create order, create lines, take stock, save subscription, write event) run
in this process on a separate sample of --baseline-sample subscriptions (default 2,000) built
alongside the N. Figures are measured, never asserted.
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

RUN_DATE = date(2027, 3, 1)  # a Monday
# One real (postal code, prefecture, city) per prefecture, so the generation's address check passes
# as it does for a real shop's customers (a made-up code would hold nearly every order).
BENCH_ADDRESSES = [
    ("001-0010", "北海道", "札幌市北区"), ("018-5501", "青森県", "十和田市"), ("020-0001", "岩手県", "盛岡市"),
    ("980-0001", "宮城県", "仙台市青葉区"), ("010-0001", "秋田県", "秋田市"), ("990-0001", "山形県", "山形市"),
    ("960-0101", "福島県", "福島市"), ("300-0001", "茨城県", "土浦市"), ("311-4411", "栃木県", "芳賀郡茂木町"),
    ("370-0001", "群馬県", "高崎市"), ("330-0041", "埼玉県", "さいたま市浦和区"), ("260-0001", "千葉県", "千葉市中央区"),
    ("100-0001", "東京都", "千代田区"), ("210-0001", "神奈川県", "川崎市川崎区"), ("389-2261", "新潟県", "妙高市"),
    ("930-0001", "富山県", "富山市"), ("920-0001", "石川県", "金沢市"), ("910-0001", "福井県", "福井市"),
    ("400-0001", "山梨県", "甲府市"), ("380-0801", "長野県", "長野市"), ("500-8001", "岐阜県", "岐阜市"),
    ("410-0001", "静岡県", "沼津市"), ("431-4121", "愛知県", "北設楽郡豊根村"), ("498-0801", "三重県", "桑名郡木曽岬町"),
    ("520-0001", "滋賀県", "大津市"), ("520-0461", "京都府", "京都市左京区"), ("530-0001", "大阪府", "大阪市北区"),
    ("563-0801", "兵庫県", "伊丹市"), ("630-0101", "奈良県", "生駒市"), ("640-0101", "和歌山県", "和歌山市"),
    ("680-0001", "鳥取県", "鳥取市"), ("690-0000", "島根県", "松江市"), ("700-0001", "岡山県", "岡山市北区"),
    ("720-0001", "広島県", "福山市"), ("740-0001", "山口県", "岩国市"), ("770-0001", "徳島県", "徳島市"),
    ("760-0001", "香川県", "高松市"), ("790-0001", "愛媛県", "松山市"), ("780-0001", "高知県", "高知市"),
    ("800-0001", "福岡県", "北九州市門司区"), ("840-0001", "佐賀県", "佐賀市"), ("848-0401", "長崎県", "松浦市"),
    ("860-0001", "熊本県", "熊本市中央区"), ("839-1421", "大分県", "日田市"), ("880-0001", "宮崎県", "宮崎市"),
    ("890-0001", "鹿児島県", "鹿児島市"), ("900-0001", "沖縄県", "那覇市"),
]  # fmt: skip


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, required=True)
    parser.add_argument("--baseline-sample", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--workers", type=int, default=1, help="generation lanes in threads")
    parser.add_argument("--reset", action="store_true", help="drop and recreate a non-empty database")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline (when profiling)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the generation to stderr")
    parser.add_argument(
        "--fees",
        action="store_true",
        help="delivery methods, measured products and gift wrapping (issues 11, 12)",
    )
    return parser.parse_args()


def _prepare_database(url: str, reset: bool) -> None:
    from bench.benchdb import prepare_database

    prepare_database(url, reset=reset, script="bench/nightly.py")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "False"  # no query log growing with N
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process, or of another local process (the PostgreSQL
    backend serving our connection) from /proc: the machine is shared, so wall time alone misleads."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ---------------------------------------------------------------- data


def _copy(model, rows, *, columns: list[str]) -> None:  # noqa: ANN001
    """Stream rows (tuples in `columns` order) into the model's table with COPY."""
    from django.db import connection

    with connection.cursor() as cursor:
        sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


def _resync_sequences(models: list) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}"
            )


def build(total: int, run_date: date) -> None:
    """total due subscriptions, two items each, with varied cycles, slots and a few needing attention."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from billing.models import PaymentMethod
    from customers.models import Address, Customer
    from subscriptions.models import ShopPolicy, Subscription

    User = get_user_model()
    now = timezone.now()
    rng = random.Random(42)
    policy = ShopPolicy.current()
    calendar = policy.business_calendar()
    # Deliveries whose order is created on run_date, and one missed night earlier (caught up).
    on_time = [
        d
        for d in (run_date + timedelta(days=i) for i in range(1, 20))
        if calendar.creation_date(d, policy.lead_days) == run_date
    ]  # noqa: E501
    missed = [
        d
        for d in (run_date + timedelta(days=i) for i in range(-5, 20))
        if calendar.creation_date(d, policy.lead_days) == run_date - timedelta(days=3)
    ]  # noqa: E501

    with transaction.atomic():
        courses = _build_courses()
        _copy_customers(total, now)
        _copy_addresses_and_cards(total, now)
        _copy_subscriptions(total, courses, now=now, rng=rng, on_time=on_time, missed=missed, policy=policy)
        _resync_sequences([User, Customer, Address, PaymentMethod, Subscription])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _build_courses() -> list[tuple]:
    """Five courses of two products each (first delivery ¥980, then the list price less ¥500)."""
    from catalog.models import Course, CourseItem, CoursePrice, Product

    products = [
        Product.objects.create(
            sku=f"B-{i:03d}",
            name=f"ベンチ商品 {i}",
            price=3000 + i * 100,
            tax_rate=8 if i % 3 else 10,
            stock=10**9,
        )  # noqa: E501
        for i in range(20)
    ]
    courses = []
    for i in range(5):
        course = Course.objects.create(code=f"bench-{i}", name=f"ベンチ定期 {i}")
        pair = products[i * 2 : i * 2 + 2]
        for product in pair:
            CourseItem.objects.create(course=course, product=product, quantity=1)
            CoursePrice.objects.create(course=course, product=product, from_sequence=1, unit_price=980)
            CoursePrice.objects.create(
                course=course, product=product, from_sequence=2, unit_price=product.price - 500
            )
        courses.append((course, pair))
    return courses


def _copy_customers(total: int, now) -> None:  # noqa: ANN001
    """Users and customers (one in a hundred blacklisted), ids 1..total."""
    from django.contrib.auth import get_user_model

    from customers.models import Customer

    User = get_user_model()
    _copy(
        User,
        (
            (i, "!", False, f"bench{i}", "", "", f"bench{i}@example.com", False, True, now)
            for i in range(1, total + 1)
        ),
        columns=[
            "id",
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
        ],  # noqa: E501
    )
    _copy(
        Customer,
        (
            (i, i, f"ベンチ 太郎{i}", "", "", True, i % 100 == 0, "", "", now, "ja")
            for i in range(1, total + 1)
        ),
        columns=[
            "id",
            "user_id",
            "name",
            "name_kana",
            "phone",
            "is_member",
            "is_blacklisted",
            "blacklist_reason",
            "stripe_customer_id",
            "created_at",
            "language",
        ],  # noqa: E501
    )


def _copy_addresses_and_cards(total: int, now) -> None:  # noqa: ANN001
    """One default address and one default payment method (one in ten cash on delivery) each."""
    from billing.models import PaymentMethod
    from customers.models import Address

    _copy(
        Address,
        (
            (
                i,
                i,
                "",
                f"ベンチ 太郎{i}",
                *BENCH_ADDRESSES[i % len(BENCH_ADDRESSES)],
                f"{i}番地",
                "",
                "",
                i % 50 == 0,
                True,
                i % 200 == 0,
            )
            for i in range(1, total + 1)
        ),  # noqa: E501
        columns=[
            "id",
            "customer_id",
            "label",
            "recipient_name",
            "postal_code",
            "prefecture",
            "city",
            "line1",
            "line2",
            "phone",
            "is_remote_island",
            "is_default",
            "is_invalid",
        ],  # noqa: E501
    )
    _copy(
        PaymentMethod,
        (
            (i, i, "card" if i % 10 else "cod", f"pm_{i}", "visa", "4242", 12, 2030, True, True, now)
            for i in range(1, total + 1)
        ),  # noqa: E501
        columns=[
            "id",
            "customer_id",
            "kind",
            "stripe_payment_method_id",
            "brand",
            "last4",
            "exp_month",
            "exp_year",
            "is_default",
            "is_active",
            "created_at",
        ],  # noqa: E501
    )


def _copy_subscriptions(total: int, courses: list[tuple], *, now, rng, on_time, missed, policy) -> None:  # noqa: ANN001
    """The due subscriptions (varied cycles and slots, one in 20 from a missed night) and their items."""
    from subscriptions.models import Subscription, SubscriptionItem

    calendar = policy.business_calendar()
    cycles = [
        ("month", 1, None),
        ("month", 2, None),
        ("week", 2, None),
        ("day", 30, None),
        ("month", 1, -1),
    ]
    slots = ["", "08-12", "14-16", "18-20"]

    def subscriptions():  # noqa: ANN202
        for i in range(1, total + 1):
            unit, interval, dom = cycles[i % len(cycles)]
            delivery = rng.choice(missed if i % 20 == 0 else on_time)
            course = courses[i % len(courses)][0]
            sequence = 1 + i % 6
            yield (
                i, i, course.pk, "active", unit, interval, dom, None, None, delivery, sequence, "[]", sequence,
                delivery, calendar.creation_date(delivery, policy.lead_days), None, slots[i % 4], i, i,
                sequence - 1, sequence - 1, "[]", "none", 0, None, "", "", "", "", "{}", "", now, now, "", "", "",
            )  # fmt: skip

    _copy(
        Subscription,
        subscriptions(),
        columns=[
            "id", "customer_id", "course_id", "status", "cycle_unit", "cycle_interval", "cycle_day_of_month",
            "cycle_nth_week", "cycle_weekday", "anchor_date", "anchor_sequence", "skipped_sequences",
            "next_sequence", "next_delivery_date", "next_creation_date", "last_delivery_date",
            "delivery_time_slot", "shipping_address_id", "payment_method_id", "orders_created", "cycle_count",
            "needs_attention", "points_reservation", "points_reservation_amount", "paused_until",
            "cancel_reason", "cancel_note", "suspended_reason", "source", "custom_fields", "remarks",
            "created_at", "updated_at", "utm_source", "utm_medium", "utm_campaign",
        ],
    )  # fmt: skip
    _copy(
        SubscriptionItem,
        (
            (i, product.pk, 1 + (i + k) % 2)
            for i in range(1, total + 1)
            for k, product in enumerate(courses[i % len(courses)][1])
        ),  # noqa: E501
        columns=["subscription_id", "product_id", "quantity"],
    )


# ---------------------------------------------------------------- baseline


def baseline(ids: list[int], run_date: date) -> None:
    """One subscription at a time with the ORM: the obvious implementation, for comparison."""
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from catalog.models import CoursePrice, Product
    from core.tax import tax_summary
    from orders.models import Order, OrderLine
    from subscriptions.models import ShopPolicy, Subscription, SubscriptionEvent
    from subscriptions.schedule import compute_next

    policy = ShopPolicy.current()
    calendar = policy.business_calendar()
    for sub_id in ids:
        with transaction.atomic():
            sub = (
                Subscription.objects.select_for_update(of=("self",))
                .select_related("customer", "shipping_address", "payment_method")
                .get(pk=sub_id)
            )
            sequence, price_sequence = sub.next_sequence, sub.cycle_count + 1
            lines, bases = [], {}
            for item in sub.items.select_related("product"):
                course_price = (
                    CoursePrice.objects.filter(
                        course_id=sub.course_id, product_id=item.product_id, from_sequence__lte=price_sequence
                    )  # noqa: E501
                    .order_by("-from_sequence")
                    .first()
                )
                unit = course_price.unit_price if course_price else item.product.price
                lines.append((item.product, item.quantity, unit))
                bases[item.product.tax_rate] = bases.get(item.product.tax_rate, 0) + unit * item.quantity
            reasons = list(sub.needs_attention)
            if sub.customer.is_blacklisted:
                reasons.append("blacklisted")
            address = sub.shipping_address
            if address is None or address.is_invalid:
                reasons.append("bad_address")
            subtotal = sum(bases.values())
            order = Order.objects.create(
                customer=sub.customer, subscription=sub, sequence=sequence, status="on_hold" if reasons else "new",
                hold_reasons=reasons, creation_date=run_date, delivery_date=sub.next_delivery_date,
                delivery_time_slot=sub.delivery_time_slot, **(address.snapshot() if address else {}),
                payment_method=sub.payment_method, payment_kind=sub.payment_method.kind if sub.payment_method else "",
                items_subtotal=subtotal, total=subtotal, tax_summary=tax_summary(bases),
            )  # fmt: skip
            for product, quantity, unit in lines:
                OrderLine.objects.create(
                    order=order, product=product, sku=product.sku, product_name=product.name, quantity=quantity,
                    unit_price=unit, tax_rate=product.tax_rate, line_total=unit * quantity,
                )  # fmt: skip
                Product.objects.filter(pk=product.pk).update(stock=F("stock") - quantity)
            nxt = compute_next(
                sub.cycle, anchor_date=sub.anchor_date, anchor_sequence=sub.anchor_sequence,
                from_sequence=sequence + 1, skipped=sub.skipped, calendar=calendar, lead_days=policy.lead_days,
            )  # fmt: skip
            sub.last_delivery_date = sub.next_delivery_date
            sub.next_sequence, sub.next_delivery_date, sub.next_creation_date = (
                nxt.sequence,
                nxt.delivery_date,
                nxt.creation_date,
            )  # noqa: E501
            sub.orders_created += 1
            sub.cycle_count += 1
            sub.updated_at = timezone.now()
            sub.save()
            SubscriptionEvent.objects.create(
                subscription=sub, actor_kind="system", kind="order_created",
                after={"order_id": order.pk, "sequence": sequence},
            )  # fmt: skip


# ---------------------------------------------------------------- main


def _run_baseline(sample: int) -> float | None:
    """The one-at-a-time baseline on the first `sample` ids (no longer due afterwards), per second."""
    from django.db import connection

    if not sample:
        return None
    started = time.monotonic()
    baseline(list(range(1, sample + 1)), RUN_DATE)
    baseline_per_second = sample / (time.monotonic() - started)
    print(f"baseline: {baseline_per_second:,.0f}/s on {sample:,}", file=sys.stderr)
    # The baseline updated the same 20 product rows 4,000 times; without a vacuum every foreign
    # key check on them in the measured run walks those dead versions (commits took 0.8 s).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return baseline_per_second


def _measure_generation(args: argparse.Namespace):  # noqa: ANN202
    """The measured set-based run (under cProfile with --profile): its result and wall seconds."""
    from django.db import connection

    from scheduler.generation import generate_due

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    cpu_before, db_cpu_before = _cpu_seconds(), _cpu_seconds(backend)
    started = time.monotonic()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(
            generate_due, run_date=RUN_DATE, batch_size=args.batch_size, workers=args.workers
        )
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(
            os.environ.get("BENCH_SORT", "cumulative")
        ).print_stats(40)
    else:
        result = generate_due(run_date=RUN_DATE, batch_size=args.batch_size, workers=args.workers)
    seconds = time.monotonic() - started
    python_cpu, db_cpu = _cpu_seconds() - cpu_before, _cpu_seconds(backend) - db_cpu_before
    backend = (
        f"postgres backend cpu {db_cpu:.2f}s" if args.workers == 1 else "postgres: one backend per worker"
    )
    load = os.getloadavg()[0]
    print(
        f"generation: python cpu {python_cpu:.2f}s, {backend}, wall {seconds:.2f}s (load {load:.1f})",
        file=sys.stderr,
    )
    return result, seconds


def _add_fees() -> None:
    """--fees: 宅配便 (the shop's table) and メール便 (¥220, automatic), three courses of thin
    pouches, a ¥330 wrapping fee and one subscription in ten gift-wrapped."""
    from catalog.models import DeliveryMethod, Product
    from orders.models import SubscriptionGift
    from pricing.models import BillingPolicy
    from subscriptions.models import Subscription

    BillingPolicy.objects.update_or_create(
        pk=1, defaults={"shipping_base_fee": 550, "gift_wrapping_fee": 330}
    )
    DeliveryMethod.objects.create(code="parcel", name="宅配便", kind="parcel", fee=None, is_default=True)
    DeliveryMethod.objects.create(
        code="mail_bin", name="メール便", kind="mail_bin", fee=220, max_length_mm=340, max_width_mm=250,
        max_thickness_mm=20, max_weight_g=1000, allows_time_slot=False, allows_cod=False, auto_assign=True,
    )  # fmt: skip
    # The first three courses' products: three pouches (quantities 1 and 2) stack to 15 mm and fit.
    thin = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:6])
    Product.objects.filter(pk__in=thin).update(
        package_length_mm=200, package_width_mm=150, package_thickness_mm=5, package_weight_g=150
    )
    wrapped = [pk for pk in Subscription.objects.values_list("pk", flat=True) if pk % 10 == 0]
    SubscriptionGift.objects.bulk_create(
        [SubscriptionGift(subscription_id=pk, wrapping=True) for pk in wrapped], batch_size=5000
    )


def main() -> None:
    args = _parse()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("bench/nightly.py: set DATABASE_URL to an empty PostgreSQL database")
    if args.baseline_sample < 2000:
        sys.exit("bench/nightly.py: --baseline-sample must be at least 2000")
    _prepare_database(url, args.reset)
    _setup_django()

    from django.db import connection

    from scheduler.generation import generate_due

    n, sample = args.subscriptions, 0 if args.no_baseline else args.baseline_sample
    started = time.monotonic()
    build(n + sample, RUN_DATE)
    print(
        f"built {n + sample:,} subscriptions in {time.monotonic() - started:.1f}s (rss {_rss_mb()} MB)",
        file=sys.stderr,
    )

    if args.fees:
        _add_fees()
    baseline_per_second = _run_baseline(sample)

    rss_before = _rss_mb()
    result, seconds = _measure_generation(args)
    rerun = generate_due(run_date=RUN_DATE, batch_size=args.batch_size)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM orders_order WHERE subscription_id IS NOT NULL "
            "GROUP BY subscription_id, sequence HAVING count(*) > 1) d"
        )
        duplicates = cursor.fetchone()[0]
    per_second = result.orders_created / seconds if seconds else 0.0
    figures = {
        "subscriptions": n,
        "workers": args.workers,
        "orders_created": result.orders_created,
        "held": result.held,
        "moved": result.moved,
        "seconds": round(seconds, 2),
        "per_second": round(per_second),
        "baseline_per_second": round(baseline_per_second) if baseline_per_second else None,
        "speedup": round(per_second / baseline_per_second, 1) if baseline_per_second else None,
        "rerun_orders_created": rerun.orders_created,
        "duplicates": duplicates,
        "rss_before_generation_mb": rss_before,
        "peak_rss_mb": _rss_mb(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
