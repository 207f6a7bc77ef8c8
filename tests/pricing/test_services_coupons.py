"""Coupons: refusals a customer understands, one redemption per order, caps under concurrency."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, transaction

from core.errors import DomainError
from pricing.bulk import benefits_bulk_record
from pricing.models import Coupon, CouponRedemption
from pricing.selectors import PricingBook
from pricing.services.coupons import (
    coupon_apply_to_subscription,
    coupon_release_for_order,
    coupon_remove_from_subscription,
)
from subscriptions.actors import Actor
from tests.billing.helpers import make_order
from tests.factories import SubscriptionFactory

NOW = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)
ON = dt.date(2027, 3, 10)


def coupon(**kw):
    values = {"code": "WELCOME", "name": "初回", "kind": "fixed", "value": 500, "applies_to": "next"}
    values.update(kw)
    return Coupon.objects.create(**values)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("terms", "code", "expected", "words"),
    [
        ({}, "NOPE", "coupon_not_found", "見つかりません"),
        ({"is_active": False}, "WELCOME", "coupon_not_found", "見つかりません"),
        ({"valid_until": NOW - dt.timedelta(days=1)}, "WELCOME", "coupon_expired", "2027年1月9日まで"),
        ({"valid_from": NOW + dt.timedelta(days=2)}, "WELCOME", "coupon_not_started", "2027年1月12日から"),
        ({"max_uses": 0}, "WELCOME", "coupon_used_up", "利用上限"),
        ({"max_uses_per_customer": 0}, "WELCOME", "coupon_limit_reached", "上限までご利用"),
        ({"min_subtotal": 1000}, "WELCOME", "coupon_min_subtotal", "¥1,000以上"),
        (
            {"applies_to": "sequences", "sequences": [2, 3, 4]},
            "WELCOME",
            "coupon_not_applicable",
            "2・3・4回目",
        ),
    ],
)
def test_a_refused_coupon_is_explained(terms, code, expected, words):
    # given a subscription whose next order is the 1st (¥980)
    sub = SubscriptionFactory()
    coupon(**terms)
    # when the customer applies the code
    with pytest.raises(DomainError) as refused:
        coupon_apply_to_subscription(
            subscription_id=sub.pk, code=code, actor=Actor.customer(sub.customer.user)
        )
    # then the refusal says why, and nothing changed
    assert refused.value.code == expected
    assert words in refused.value.message
    sub.refresh_from_db()
    assert sub.coupon_id is None


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_valid_coupon_is_attached_and_can_be_removed():
    sub = SubscriptionFactory()
    c = coupon(
        valid_from=NOW - dt.timedelta(days=1), valid_until=NOW + dt.timedelta(days=1), min_subtotal=980
    )
    actor = Actor.customer(sub.customer.user)
    assert (
        coupon_apply_to_subscription(subscription_id=sub.pk, code="welcome ", actor=actor).coupon_id == c.pk
    )
    assert sub.events.filter(kind__icontains="coupon").exists()
    assert coupon_remove_from_subscription(subscription_id=sub.pk, actor=actor).coupon_id is None


@pytest.mark.django_db
def test_another_customers_subscription_is_not_found():
    sub, other = SubscriptionFactory(), SubscriptionFactory()
    coupon()
    with pytest.raises(DomainError) as refused:
        coupon_apply_to_subscription(
            subscription_id=sub.pk, code="WELCOME", actor=Actor.customer(other.customer.user)
        )
    assert refused.value.code == "subscription_not_found"


@pytest.mark.django_db
def test_cancelling_the_order_gives_the_use_back():
    # given a next-order coupon with one use, redeemed by an order
    c = coupon(max_uses=1)
    sub = SubscriptionFactory(coupon=c)
    book = PricingBook.load(subscriptions=[sub], on=ON)
    priced = book.price_subscription_order(
        subscription=sub, items=[(sub.items.get().product_id, 1)], price_sequence=1,
        payment_kind="card", address_prefecture="東京都", remote_island=False, gift_wrapping=False,
    )  # fmt: skip
    order = make_order(sub, priced=priced)
    benefits_bulk_record(orders=[(order.pk, sub.customer_id, sub.pk, 1, priced.coupon_id, 0)], on=book.on)
    sub.refresh_from_db()
    assert (CouponRedemption.objects.count(), sub.coupon_id) == (1, None)
    # when the order is cancelled
    assert coupon_release_for_order(order_id=order.pk) is True
    # then the use is free again and the coupon is back on the subscription for its next order
    sub.refresh_from_db()
    assert (CouponRedemption.objects.count(), sub.coupon_id) == (0, c.pk)
    spent, back = sub.events.filter(kind="coupon_changed").order_by("id")  # both moves on the timeline
    assert (spent.after["coupon_id"], back.after) == (None, {"coupon_id": c.pk, "order_id": order.pk})
    assert coupon_release_for_order(order_id=order.pk) is False


def _generate(sub, results):
    try:
        with transaction.atomic():
            book = PricingBook.load(subscriptions=[sub], on=ON)
            priced = book.price_subscription_order(
                subscription=sub, items=[(sub.items.get().product_id, 1)], price_sequence=1,
                payment_kind="card", address_prefecture="東京都", remote_island=False, gift_wrapping=False,
            )  # fmt: skip
            order = make_order(sub, priced=priced)
            rows = [(order.pk, sub.customer_id, sub.pk, 1, priced.coupon_id, priced.points_used)]
            benefits_bulk_record(orders=rows, on=book.on)
            results.append(priced)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_orders_at_once_cannot_exceed_a_total_cap_of_one():
    # given two subscriptions holding the same coupon limited to one use in all
    c = coupon(applies_to="all", max_uses=1)
    subs = [SubscriptionFactory(coupon=c), SubscriptionFactory(coupon=c)]
    results = []
    # when both orders are generated at the same time in separate transactions
    threads = [threading.Thread(target=_generate, args=(s, results)) for s in subs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then exactly one order got the discount, the other was priced without it
    assert sorted(p.discount_total for p in results) == [0, 500]
    assert sorted(str(p.coupon_refusal) for p in results) == ["None", "coupon_used_up"]
    assert CouponRedemption.objects.filter(coupon=c).count() == 1
