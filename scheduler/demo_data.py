"""Bulk demo data for trying the engine at scale: `manage.py seed_demo --subscriptions N`.

N customers, each with an address, a payment method and one subscription to an existing course,
with varied cycles (the course's own choices), time slots and states: most active, some due
today, some paused or cancelled, a few blacklisted customers and undeliverable addresses (their
orders are created on hold). Written with bulk_create in chunks, so memory stays flat and 100,000
rows take a minute or two even on SQLite. The schedule fields are computed exactly as the
services compute them (subscriptions.schedule.compute_next).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from billing.models import PaymentMethod
from catalog.models import Course
from core.errors import DomainError
from customers.islands import is_remote_island
from customers.models import Address, Customer
from subscriptions.cycles import Cycle
from subscriptions.models import ShopPolicy, Subscription, SubscriptionItem, SubscriptionStatus, TimeSlot
from subscriptions.schedule import compute_next

# (postal code, prefecture, city) the demo's addresses use; 佐渡市 and 大島町 are remote islands.
DEMO_AREAS = (
    ("104-0061", "東京都", "中央区"),
    ("150-0001", "東京都", "渋谷区"),
    ("530-0001", "大阪府", "大阪市北区"),
    ("460-0008", "愛知県", "名古屋市中区"),
    ("060-0001", "北海道", "札幌市中央区"),
    ("810-0001", "福岡県", "福岡市中央区"),
    ("980-0021", "宮城県", "仙台市青葉区"),
    ("220-0011", "神奈川県", "横浜市西区"),
    ("900-0015", "沖縄県", "那覇市"),
    ("952-0000", "新潟県", "佐渡市"),
    ("100-0101", "東京都", "大島町"),
)

CHUNK = 2000
FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
GIVEN = ["花子", "太郎", "美咲", "翔", "陽菜", "蓮", "結衣", "大翔", "さくら", "悠真"]
# Offline methods only: demo customers have no real card, and a fake one would only fail to charge.
PAYMENT_KINDS = ["bank_transfer", "konbini", "cod"]


@dataclass
class DemoReport:
    customers: int = 0
    subscriptions: int = 0
    due_today: int = 0
    paused: int = 0
    cancelled: int = 0
    blacklisted: int = 0


def demo_subscriptions_create(*, count: int, today: date, seed: int = 0) -> DemoReport:
    """Add `count` demo customers with one subscription each; returns what was made."""
    courses = list(Course.objects.filter(is_active=True).prefetch_related("items", "cycles"))
    courses = [c for c in courses if c.items.all() and c.cycles.all()]
    if not courses:
        raise DomainError("no_courses", "定期コースがありません。先に seed_demo を実行してください。")
    policy = ShopPolicy.current()
    calendar = policy.business_calendar()
    report = DemoReport()
    rng = random.Random(seed or None)
    start = (get_user_model().objects.aggregate(n=Max("id"))["n"] or 0) + 1
    for offset in range(0, count, CHUNK):
        size = min(CHUNK, count - offset)
        with transaction.atomic():
            _chunk(start + offset, size, today, courses, policy, calendar, rng, report)
    return report


def _chunk(first: int, size: int, today: date, courses, policy, calendar, rng, report: DemoReport) -> None:  # noqa: ANN001
    now = timezone.now()
    numbers = range(first, first + size)
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(username=f"demo{n}@example.jp", email=f"demo{n}@example.jp", password="!")
            for n in numbers
        ]
    )
    customers = Customer.objects.bulk_create(
        [
            Customer(
                user=user,
                name=f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                phone=f"090-{rng.randrange(10000):04d}-{rng.randrange(10000):04d}",
                is_blacklisted=rng.random() < 0.02,
            )
            for user in users
        ]
    )
    addresses = Address.objects.bulk_create([_demo_address(c, rng) for c in customers])
    methods = PaymentMethod.objects.bulk_create(
        [PaymentMethod(customer=c, kind=rng.choice(PAYMENT_KINDS), is_default=True) for c in customers]
    )
    subscriptions, item_rows = [], []
    for customer, address, method in zip(customers, addresses, methods, strict=True):
        course = rng.choice(courses)
        subscription = _subscription(customer, address, method, course, today, policy, calendar, rng, now)
        subscriptions.append(subscription)
        item_rows.append([(item.product_id, item.quantity) for item in course.items.all()])
        report.due_today += (
            subscription.status == SubscriptionStatus.ACTIVE and subscription.next_creation_date <= today
        )
        report.paused += subscription.status == SubscriptionStatus.PAUSED
        report.cancelled += subscription.status == SubscriptionStatus.CANCELLED
        report.blacklisted += customer.is_blacklisted
    Subscription.objects.bulk_create(subscriptions)
    SubscriptionItem.objects.bulk_create(
        [
            SubscriptionItem(subscription=s, product_id=product_id, quantity=quantity)
            for s, items in zip(subscriptions, item_rows, strict=True)
            for product_id, quantity in items
        ]
    )
    report.customers += len(customers)
    report.subscriptions += len(subscriptions)


def _subscription(customer, address, method, course, today, policy, calendar, rng, now) -> Subscription:  # noqa: ANN001
    offered = rng.choice(list(course.cycles.all()))
    cycle = Cycle(
        unit=offered.unit,
        interval=offered.interval,
        day_of_month=offered.day_of_month,
        nth_week=offered.nth_week,
        weekday=offered.weekday,
    )
    sequence = rng.randint(1, 8)
    # One in ten is due tonight: delivered on the first date an order created today can meet (on
    # a closed day that order was due on the last open day: the run catches it up). The rest later.
    earliest = calendar.earliest_delivery(today, policy.lead_days)
    due_tonight = (
        earliest
        if calendar.creation_date(earliest, policy.lead_days) <= today
        else earliest - timedelta(days=1)
    )
    anchor = due_tonight if rng.random() < 0.1 else earliest + timedelta(days=rng.randint(1, 45))
    nxt = compute_next(
        cycle,
        anchor_date=anchor,
        anchor_sequence=sequence,
        from_sequence=sequence,
        skipped=(),
        calendar=calendar,
        lead_days=policy.lead_days,
    )
    roll = rng.random()
    status = SubscriptionStatus.ACTIVE
    paused_until = None
    cancelled_at = None
    if roll < 0.06:
        status, paused_until = SubscriptionStatus.PAUSED, today + timedelta(days=rng.randint(1, 90))
    elif roll < 0.09:
        status, cancelled_at = SubscriptionStatus.CANCELLED, now
    return Subscription(
        customer=customer,
        course=course,
        status=status,
        cycle_unit=cycle.unit,
        cycle_interval=cycle.interval,
        cycle_day_of_month=cycle.day_of_month,
        cycle_nth_week=cycle.nth_week,
        cycle_weekday=cycle.weekday,
        anchor_date=anchor,
        anchor_sequence=sequence,
        next_sequence=nxt.sequence,
        next_delivery_date=nxt.delivery_date,
        next_creation_date=nxt.creation_date,
        delivery_time_slot=rng.choice(TimeSlot.values),
        shipping_address=address,
        payment_method=method,
        orders_created=sequence - 1,
        cycle_count=sequence - 1,
        paused_until=paused_until,
        cancelled_at=cancelled_at,
        cancel_reason="other" if cancelled_at else "",
        source="demo:bulk",
    )


def _demo_address(customer: Customer, rng: random.Random) -> Address:
    # Real codes: the nightly run checks each against the postal data (a random one would hold the
    # order as 郵便番号と住所の不一致).
    postal_code, prefecture, city = rng.choice(DEMO_AREAS)
    line1 = f"{rng.randrange(1, 9)}-{rng.randrange(1, 30)}-{rng.randrange(1, 20)}"
    ticked = rng.random() < 0.01
    return Address(
        customer=customer, recipient_name=customer.name, postal_code=postal_code, prefecture=prefecture,
        city=city, line1=line1, is_default=True,
        # 佐渡市 and 大島町 are 離島 as address_create would mark them: the my-page preview and the
        # forecast then price the surcharge the nightly run charges (it reads the postal data).
        is_remote_island=ticked or is_remote_island(prefecture=prefecture, city=city),
        is_invalid=rng.random() < 0.01,
    )  # fmt: skip
