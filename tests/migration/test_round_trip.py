"""Export → empty shop → import gives every subscription back: the next twelve deliveries (date,
creation date, price) and all the state that decides them, in every format."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from billing.services.payment_methods import payment_method_save
from catalog.models import Course, CourseCycle, GroupPrice, Product
from customers.models import Customer, CustomerGroup
from customers.services import address_create, customer_create
from migration.exporter import subscriptions_export
from migration.importer import subscriptions_import
from scheduler.demo_data import demo_subscriptions_create
from subscriptions.actors import Actor
from subscriptions.cycles import Cycle
from subscriptions.models import Subscription
from subscriptions.services import (
    subscription_cancel,
    subscription_create,
    subscription_pause,
    subscription_recompute_next,
    subscription_skip_next,
    subscription_suspend,
)

from .helpers import empty_shop, shop_state

SYSTEM = Actor.system()


def _customer(n: int, **extra) -> Customer:
    customer = customer_create(
        email=f"round{n}@example.jp", name=f"往復 {n}号", name_kana="オウフク", **extra
    )
    address_create(
        customer=customer, recipient_name=f"往復 {n}号", postal_code="0600001", prefecture="北海道",
        city="札幌市中央区", line1=f"北1条西{n}", line2="テストビル 2F" if n % 2 else "", phone="011-000-0000",
    )  # fmt: skip
    return customer


def _subscribe(customer: Customer, code: str, cycle: Cycle, first: dt.date, **extra) -> Subscription:
    course = Course.objects.get(code=code)
    return subscription_create(
        customer=customer, course=course, cycle=cycle, first_delivery_date=first,
        address=customer.addresses.first(), actor=SYSTEM, **extra,
    )  # fmt: skip


def _card(customer: Customer, localstripe) -> object:  # noqa: ANN001
    pm = localstripe.client().v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    return payment_method_save(customer=customer, stripe_payment_method_id=pm.id)


def varied_subscriptions(localstripe) -> None:  # noqa: ANN001
    """The cases that break naive imports: month ends, n-th weekdays, skips, every status, cards."""
    aojiru = Course.objects.get(code="aojiru-teiki")
    CourseCycle.objects.create(course=aojiru, unit="month", interval=1, nth_week=2, weekday=1, position=9)
    # The 31st, next delivery skipped: next is Feb 28, and the one after it Mar 31 again.
    month_end = _subscribe(
        _customer(1), "aojiru-teiki", Cycle("month", 1), dt.date(2027, 1, 31), time_slot="08-12"
    )
    subscription_skip_next(subscription_id=month_end.pk, actor=SYSTEM)
    # The last day of the month, with a coupon-relevant counter far along.
    last_day = _subscribe(
        _customer(2), "aojiru-teiki", Cycle("month", 1, day_of_month=-1), dt.date(2027, 1, 31)
    )
    Subscription.objects.filter(pk=last_day.pk).update(cycle_count=4, orders_created=5)
    # The 2nd Tuesday, with a skip still ahead (the third delivery).
    nth = _subscribe(
        _customer(3), "aojiru-teiki", Cycle("month", 1, nth_week=2, weekday=1), dt.date(2027, 2, 9)
    )
    nth.skipped_sequences = [3]
    subscription_recompute_next(nth)
    nth.save()
    # Every other week, paused until March.
    weekly = _subscribe(
        _customer(4), "aojiru-teiki", Cycle("week", 2), dt.date(2027, 1, 20), time_slot="19-21"
    )
    subscription_pause(subscription_id=weekly.pk, resume_on=dt.date(2027, 3, 1), actor=SYSTEM)
    suspended = _subscribe(_customer(5), "supple-teiki", Cycle("month", 3), dt.date(2027, 2, 1))
    subscription_suspend(subscription_id=suspended.pk, reason="支払い確認中", actor=SYSTEM)
    cancelled = _subscribe(_customer(6), "supple-teiki", Cycle("month", 1), dt.date(2027, 1, 25))
    subscription_cancel(subscription_id=cancelled.pk, reason="price", actor=SYSTEM)
    # A stored card (checked with Stripe on import), a group price and a points reservation.
    group = CustomerGroup.objects.create(code="gold", name="ゴールド会員")
    GroupPrice.objects.create(group=group, product=Product.objects.get(sku="AOJIRU-30"), unit_price=3500)
    member = _customer(7)
    Customer.objects.filter(pk=member.pk).update(group=group, is_blacklisted=True)
    card = _card(member, localstripe)
    carded = _subscribe(member, "aojiru-teiki", Cycle("month", 2), dt.date(2027, 2, 14), payment_method=card)
    Subscription.objects.filter(pk=carded.pk).update(
        points_reservation="amount", points_reservation_amount=300, cycle_count=1, orders_created=1,
        needs_attention=["stock_short"], remarks="玄関前に置き配",
    )  # fmt: skip


def _export(fmt: str) -> bytes:
    out = io.BytesIO()
    subscriptions_export(out=out, format=fmt)
    return out.getvalue()


def _import(data: bytes, fmt: str):  # noqa: ANN202
    return subscriptions_import(stream=io.BytesIO(data), format=fmt, dry_run=False)


@pytest.mark.parametrize("fmt", ["native", "shopify", "woocommerce"])
def test_every_demo_and_varied_subscription_comes_back_the_same(
    shop, stripe_settings, localstripe, fmt
) -> None:  # noqa: ANN001
    # given the demo's subscriptions, the hard cases and 300 seeded ones
    varied_subscriptions(localstripe)
    demo_subscriptions_create(count=300, today=shop, seed=7)
    before = shop_state()
    assert len(before) == 2 + 7 + 300

    # when they are exported, the shop emptied and the file imported
    data = _export(fmt)
    empty_shop()
    report = _import(data, fmt)

    # then every subscription is back with the same next twelve deliveries, prices and state
    assert report.problems == []
    assert (report.created, report.updated, report.skipped) == (len(before), 0, 0)
    after = shop_state()
    assert after.keys() == before.keys()
    for handle, state in before.items():
        assert after[handle] == state, handle
    # and importing the same file again changes nothing
    again = _import(data, fmt)
    assert (again.created, again.updated, again.skipped) == (0, 0, len(before))


def test_ten_thousand_seeded_subscriptions_round_trip(shop) -> None:  # noqa: ANN001
    # given 10,000 seeded subscriptions
    demo_subscriptions_create(count=10_000, today=shop, seed=11)
    before = shop_state()

    # when exported as the native CSV and imported into an empty shop
    data = _export("native")
    empty_shop()
    report = _import(data, "native")

    # then all of them come back the same
    assert report.problems == []
    assert report.created == len(before) == 10_002
    after = shop_state()
    assert after == before
