"""seed_demo creates a usable demo shop and is idempotent."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Course, CourseCycle, CoursePrice, Product
from customers.models import Address, Customer
from pricing.models import Coupon, PointEntry
from pricing.selectors import points_balance, subscription_next_order_price
from pricing.services.coupons import coupon_apply_to_subscription
from scheduler.demo_seed import year_end_closures
from subscriptions.actors import Actor
from subscriptions.models import ShopPolicy, SpecialDay, Subscription, SubscriptionEvent, SubscriptionItem
from subscriptions.schedule import change_deadline_for
from subscriptions.services import subscription_set_points_reservation
from tests.subscriptions.services_helpers import on

pytestmark = pytest.mark.django_db

MODELS = [
    Product,
    Course,
    CourseCycle,
    CoursePrice,
    Customer,
    Address,
    Subscription,
    SubscriptionItem,
    SubscriptionEvent,
    SpecialDay,
    EmailAddress,
    Coupon,
    PointEntry,
]


def counts():
    return {model.__name__: model.objects.count() for model in [*MODELS, get_user_model()]}


def run() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_builds_the_demo_shop_and_a_second_run_changes_nothing():
    with on(dt.date(2027, 1, 5)):
        first = run()
        after_first = counts()
        second = run()
    assert "created product AOJIRU-30" in first
    assert "nothing to do" in second
    assert counts() == after_first

    # products with both tax rates, the aojiru course priced 980 then 3,980, with its cycles
    assert {p.sku: p.tax_rate for p in Product.objects.all()} == {
        "AOJIRU-30": 8,
        "SUPPLE-90": 8,
        "SHAKER-01": 10,
    }
    aojiru = Course.objects.get(code="aojiru-teiki")
    assert list(aojiru.prices.values_list("from_sequence", "unit_price")) == [(1, 980), (2, 3980)]
    assert [(c.unit, c.interval) for c in aojiru.cycles.all()] == [("month", 1), ("month", 2), ("week", 2)]
    assert Course.objects.count() == 2

    # year-end closures Dec 29 - Jan 3
    closed = set(SpecialDay.objects.filter(is_open=False).values_list("date", flat=True))
    assert {dt.date(2027, 12, 29), dt.date(2027, 12, 31), dt.date(2028, 1, 3)} <= closed

    # the admin and the demo customer can log in
    admin = get_user_model().objects.get(username="admin@example.com")
    assert admin.is_superuser and admin.check_password("admin12345")
    demo = Customer.objects.get(user__username="demo@example.com")
    assert demo.user.check_password("demo12345")
    assert EmailAddress.objects.filter(user=demo.user, verified=True, primary=True).exists()
    assert demo.addresses.filter(is_default=True).count() == 1

    # two subscriptions in different states, cycles and time slots, each with its timeline
    subs = {s.source: s for s in demo.subscriptions.all()}
    assert {k: (s.status, s.cycle_interval, s.delivery_time_slot) for k, s in subs.items()} == {
        "demo:aojiru": ("active", 1, "08-12"),
        "demo:supple": ("paused", 2, "19-21"),
    }
    assert subs["demo:aojiru"].next_delivery_date == dt.date(2027, 1, 13)  # earliest for an order on 1/5
    assert subs["demo:aojiru"].next_creation_date >= dt.date(2027, 1, 5)
    assert subs["demo:supple"].items.count() == 2
    assert list(subs["demo:supple"].events.order_by("id").values_list("kind", flat=True)) == [
        "created",
        "paused",
    ]


def test_the_demo_customer_has_points_and_a_coupon_that_lower_the_next_orders_price():
    with on(dt.date(2027, 1, 5)):
        run()
        run()  # still one grant of points
        demo = Customer.objects.get(user__username="demo@example.com")
        aojiru = demo.subscriptions.get(source="demo:aojiru")
        before = subscription_next_order_price(
            subscription=aojiru, on=dt.date(2027, 1, 5), gift_wrapping=False
        )
        actor = Actor.system()  # the first delivery is past its change deadline for the customer
        coupon_apply_to_subscription(subscription_id=aojiru.pk, code="demo500", actor=actor)
        subscription_set_points_reservation(subscription_id=aojiru.pk, mode="amount", amount=300, actor=actor)
        after = subscription_next_order_price(
            subscription=Subscription.objects.get(pk=aojiru.pk), on=dt.date(2027, 1, 5), gift_wrapping=False
        )
    assert points_balance(demo) == 1000
    assert (before.total, before.coupon_discount, before.points_used) == (980, 0, 0)  # first delivery ¥980
    assert (after.total, after.coupon_discount, after.points_used) == (180, 500, 300)


def test_a_second_run_keeps_what_an_admin_changed():
    with on(dt.date(2027, 1, 5)):
        run()
        Product.objects.filter(sku="AOJIRU-30").update(price=4200)
        run()
    assert Product.objects.get(sku="AOJIRU-30").price == 4200


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (dt.date(2027, 6, 1), dt.date(2027, 12, 29), dt.date(2028, 1, 3)),
        (dt.date(2027, 1, 2), dt.date(2026, 12, 29), dt.date(2028, 1, 3)),  # the current closure too
        (dt.date(2027, 12, 30), dt.date(2027, 12, 29), dt.date(2028, 1, 3)),
    ],
)
def test_year_end_closures(today, first, last):
    days = year_end_closures(today)
    assert (min(days), max(days)) == (first, last)
    assert len(days) in (6, 12)


@pytest.mark.parametrize(
    "today",
    [
        dt.date(2026, 12, 7),  # a Monday
        dt.date(2026, 12, 6),  # a Sunday: the next open day is tomorrow
        dt.date(2027, 1, 2),  # inside the year-end closure
        dt.date(2027, 5, 4),  # Golden Week, a public holiday
    ],
)
def test_the_demo_opens_with_its_first_order_made_and_its_next_delivery_still_changeable(today):
    # given the demo seeded today, whatever the weekday
    with on(today):
        run()
        # when the nightly run at start goes
        call_command("run_nightly", "--date", today.isoformat(), stdout=StringIO())
    # then the first order exists, and the customer can still change the next delivery
    aojiru = Subscription.objects.get(source="demo:aojiru")
    assert aojiru.orders_created == 1
    deadline = change_deadline_for(
        aojiru.next_creation_date, change_deadline_days=ShopPolicy.current().change_deadline_days
    )
    assert deadline >= today
