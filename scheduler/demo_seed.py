"""Demo data for `manage.py seed_demo`: a shop someone can log into and click through.

Every function is idempotent (looks its rows up by a natural key and creates only what is
missing, never overwriting what an admin edited), so running the command twice changes nothing.
This is wiring, not domain code: it calls the customers and subscriptions services like any other
client, which is why it may import apps that sit above catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.db import transaction

from billing.models import PaymentPolicy
from catalog.models import Course, CourseCycle, CourseItem, CoursePrice, Product, TaxRate
from customers.models import Customer
from customers.services import address_create, customer_create
from subscriptions.actors import Actor
from subscriptions.cycles import Cycle
from subscriptions.models import ShopPolicy
from subscriptions.services import subscription_create, subscription_pause

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "admin12345"
# The demo admin's TOTP secret (base32): public on purpose, so `manage.py demo_totp_code` (or any
# authenticator app given this secret) shows the admin's second factor. Never a real account's.
ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "demo12345"

PRODUCTS = [
    # sku, name, price (yen, tax included), tax rate, stock (None: not tracked)
    ("AOJIRU-30", "国産大麦若葉の青汁 30包", 3980, TaxRate.REDUCED, 500),
    ("SUPPLE-90", "マルチビタミン サプリメント 90粒", 2980, TaxRate.REDUCED, 300),
    ("SHAKER-01", "専用シェイカー", 550, TaxRate.STANDARD, None),
]

# Offered on the my page as ついで買い (one-off items on the next delivery).
ADDON_SKUS = frozenset({"SUPPLE-90", "SHAKER-01"})

# code, name, min deliveries, items [(sku, qty)], prices [(sku, from_sequence, unit_price)], cycles
COURSES = [
    (
        "aojiru-teiki",
        "青汁 定期便（初回980円）",
        3,
        [("AOJIRU-30", 1)],
        [("AOJIRU-30", 1, 980), ("AOJIRU-30", 2, 3980)],
        [("month", 1, True), ("month", 2, False), ("week", 2, False)],
    ),
    (
        "supple-teiki",
        "サプリメント 定期便（シェイカー付き）",
        0,
        [("SUPPLE-90", 1), ("SHAKER-01", 1)],
        [("SUPPLE-90", 1, 2680), ("SHAKER-01", 1, 0), ("SHAKER-01", 2, 550)],
        [("month", 1, True), ("month", 2, False), ("month", 3, False)],
    ),
]


@dataclass
class SeedReport:
    """What a run created; an empty report means the data was already there."""

    created: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.created.append(what)


def seed_products(report: SeedReport) -> dict[str, Product]:
    products = {}
    for sku, name, price, tax_rate, stock in PRODUCTS:
        product, created = Product.objects.get_or_create(
            sku=sku,
            defaults={
                "name": name, "price": price, "tax_rate": tax_rate, "stock": stock,
                "addon_available": sku in ADDON_SKUS,
            },
        )  # fmt: skip
        if created:
            report.add(f"product {sku}")
        products[sku] = product
    return products


def seed_courses(report: SeedReport, products: dict[str, Product]) -> dict[str, Course]:
    courses = {}
    for code, name, min_deliveries, items, prices, cycles in COURSES:
        course, created = Course.objects.get_or_create(
            code=code, defaults={"name": name, "min_deliveries": min_deliveries}
        )
        courses[code] = course
        if not created:
            continue  # its items, prices and cycles are the admin's now
        report.add(f"course {code}")
        CourseItem.objects.bulk_create(
            CourseItem(course=course, product=products[s], quantity=q) for s, q in items
        )
        CoursePrice.objects.bulk_create(
            CoursePrice(course=course, product=products[s], from_sequence=n, unit_price=p)
            for s, n, p in prices
        )
        CourseCycle.objects.bulk_create(
            CourseCycle(course=course, unit=unit, interval=interval, is_default=default, position=i)
            for i, (unit, interval, default) in enumerate(cycles)
        )
    return courses


def year_end_closures(today: date) -> list[date]:
    """Dec 29 - Jan 3 (年末年始) of the coming year end, and of the current one while it lasts."""
    years = [today.year - 1, today.year] if today <= date(today.year, 1, 3) else [today.year]
    return [date(y, 12, 29) + timedelta(days=i) for y in years for i in range(6)]


DEMO_BANK_ACCOUNT = "サンプル銀行 本店営業部\n普通預金 1234567\n口座名義 カ）サンプルショウテン"
DEMO_KONBINI = (
    "お支払い用の払込票をメールでお送りします。"
    "セブン-イレブン、ローソン、ファミリーマート、ミニストップでお支払いいただけます。"
)


def seed_policy(report: SeedReport, today: date):
    policy = ShopPolicy.current()
    for day in year_end_closures(today):
        _special, created = policy.special_days.get_or_create(
            date=day, defaults={"is_open": False, "note": "年末年始休業"}
        )
        if created:
            report.add(f"closure {day.isoformat()}")
    payments = PaymentPolicy.current()
    if not payments.bank_transfer_account:
        payments.bank_transfer_account = DEMO_BANK_ACCOUNT
        payments.konbini_instructions = DEMO_KONBINI
        payments.save(update_fields=["bank_transfer_account", "konbini_instructions", "updated_at"])
        report.add("payment instructions (bank account, konbini)")
    return policy


def seed_admin(report: SeedReport):
    user_model = get_user_model()
    user = user_model.objects.filter(username=ADMIN_EMAIL).first()
    if user is None:
        user = user_model.objects.create_superuser(ADMIN_EMAIL, ADMIN_EMAIL, ADMIN_PASSWORD)
        EmailAddress.objects.create(user=user, email=ADMIN_EMAIL, verified=True, primary=True)
        report.add(f"admin {ADMIN_EMAIL}")
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, ADMIN_TOTP_SECRET)  # the admin wants a second factor from staff
        report.add(f"admin TOTP (secret {ADMIN_TOTP_SECRET})")
    return user


def seed_customer(report: SeedReport, *, email: str, password: str, name: str, name_kana: str, phone: str):
    """A verified member with one default address (idempotent by e-mail)."""
    customer = Customer.objects.filter(user__username=email).first()
    if customer is not None:
        return customer
    customer = customer_create(
        email=email, password=password, name=name, name_kana=name_kana, phone=phone, email_verified=True
    )
    address_create(
        customer=customer,
        label="自宅",
        recipient_name=name,
        postal_code="150-0001",
        prefecture="東京都",
        city="渋谷区神宮前",
        line1="1-2-3",
        line2="デモマンション 101",
        phone=phone,
        is_default=True,
    )
    report.add(f"customer {email}")
    return customer


def seed_demo_subscriptions(report: SeedReport, customer, courses: dict[str, Course], today: date) -> list:
    """Two subscriptions in different states: active monthly (morning) and paused bimonthly (evening).

    Keyed by `source` so a second run finds them instead of adding more.
    """
    policy = ShopPolicy.current()
    calendar = policy.business_calendar()
    # The first order is due on the last open day up to today, so the nightly run at start creates
    # it whatever the weekday: on a Sunday or a holiday the demo still opens with its first order
    # made and a next delivery the customer may still change (the earliest date from today would be
    # created on the next open day, past its change deadline already).
    last_open = next(
        (day for day in (today - timedelta(days=n) for n in range(30)) if calendar.is_open(day)), today
    )
    earliest = calendar.earliest_delivery(last_open, policy.lead_days)
    address = customer.addresses.filter(is_default=True).first()
    plans = [
        ("demo:aojiru", courses["aojiru-teiki"], Cycle("month", 1), earliest, "08-12", None),
        (
            "demo:supple",
            courses["supple-teiki"],
            Cycle("month", 2),
            earliest + timedelta(days=7),
            "19-21",
            60,
        ),
    ]
    subscriptions = []
    for source, course, cycle, first, slot, pause_days in plans:
        existing = customer.subscriptions.filter(source=source).first()
        if existing is not None:
            subscriptions.append(existing)
            continue
        with transaction.atomic():
            subscription = subscription_create(
                customer=customer,
                course=course,
                cycle=cycle,
                first_delivery_date=first,
                time_slot=slot,
                address=address,
                actor=Actor.system(),
                source=source,
                utm={"source": "demo"},
            )
            if pause_days:
                subscription = subscription_pause(
                    subscription_id=subscription.pk,
                    resume_on=today + timedelta(days=pause_days),
                    actor=Actor.system(),
                )
        report.add(f"subscription {source}")
        subscriptions.append(subscription)
    return subscriptions


def seed_all(today: date) -> SeedReport:
    """Everything `seed_demo` creates, in order; safe to run again."""
    report = SeedReport()
    with transaction.atomic():
        products = seed_products(report)
        courses = seed_courses(report, products)
        seed_policy(report, today)
        seed_admin(report)
        customer = seed_customer(
            report,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            name="山田 花子",
            name_kana="ヤマダ ハナコ",
            phone="090-1234-5678",
        )
        seed_demo_subscriptions(report, customer, courses, today)
    return report
