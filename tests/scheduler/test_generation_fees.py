"""The nightly run charges the delivery method each order gets and the gift-wrapping fee, exactly as
the my-page preview said (issues 11 and 12)."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.models import PaymentMethod
from orders.models import Order, SubscriptionGift
from pricing.selectors import subscription_next_order_price
from scheduler.generation import generate_due
from subscriptions.models import Subscription, SubscriptionItem
from tests.factories import SubscriptionFactory
from tests.fees import MAIL_BIN_FEE, PARCEL_FEE, WRAPPING_FEE, measure, shop_with_methods

CREATION = dt.date(2027, 1, 25)  # SubscriptionFactory's first creation date

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["copy", "orm"])
def writer(request, settings):  # noqa: ANN001, ANN201
    settings.NIGHTLY_WRITER = request.param
    return request.param


def _subscription(*, slot="", quantity=1, wrapping=False, prefecture="東京都", payment="card", thickness=10):
    sub = SubscriptionFactory(delivery_time_slot=slot)
    SubscriptionItem.objects.filter(subscription=sub).update(quantity=quantity)
    measure([item.product for item in sub.items.all()], thickness_mm=thickness)
    method = PaymentMethod.objects.create(customer=sub.customer, kind=payment, last4="4242", brand="visa")
    Subscription.objects.filter(pk=sub.pk).update(payment_method=method)
    type(sub.shipping_address).objects.filter(pk=sub.shipping_address_id).update(prefecture=prefecture)
    if wrapping:
        SubscriptionGift.objects.create(subscription=sub, wrapping=True, message="いつもありがとう")
    return Subscription.objects.select_related("shipping_address", "payment_method").get(pk=sub.pk)


@pytest.mark.parametrize(
    ("kw", "method", "shipping", "wrapping"),
    [
        ({}, "mail_bin", MAIL_BIN_FEE, 0),  # a thin pouch fits the letterbox: the cheaper method
        ({"prefecture": "北海道"}, "mail_bin", MAIL_BIN_FEE, 0),  # flat: not the prefecture's ¥990
        ({"slot": "14-16"}, "parcel", PARCEL_FEE, 0),  # a time slot rules メール便 out
        ({"quantity": 3}, "parcel", PARCEL_FEE, 0),  # 30 mm stacked: too thick
        ({"thickness": 25}, "parcel", PARCEL_FEE, 0),
        ({"payment": "cod"}, "parcel", PARCEL_FEE, 0),  # no cash on delivery in the letterbox
        ({"wrapping": True}, "mail_bin", MAIL_BIN_FEE, WRAPPING_FEE),
        ({"wrapping": True, "slot": "08-12"}, "parcel", PARCEL_FEE, WRAPPING_FEE),
    ],
)
def test_the_order_is_charged_its_method_and_wrapping_as_previewed(
    writer, kw, method, shipping, wrapping
) -> None:  # noqa: ANN001
    # given a shop with 宅配便 (its table) and メール便 (¥220 flat), and a due subscription
    shop_with_methods()
    sub = _subscription(**kw)
    preview = subscription_next_order_price(
        subscription=sub, on=CREATION, gift_wrapping=kw.get("wrapping", False)
    )

    # when the night runs
    generate_due(run_date=CREATION)

    # then the order got the method, its fee and the wrapping line, and costs what the preview said
    order = Order.objects.select_related("delivery_method").get(subscription=sub)
    assert order.delivery_method.code == method
    assert (order.shipping_fee, order.wrapping_fee, order.gift_wrapping) == (
        shipping,
        wrapping,
        bool(wrapping),
    )
    assert order.total == preview.total
    assert order.tax_summary == preview.tax_summary
    assert order.total == order.items_subtotal + order.shipping_fee + order.wrapping_fee + order.cod_fee
    # shipping and wrapping are taxed at 10 %, the food (8 %) apart, each rounded once
    ten = order.tax_summary["10"]
    assert ten["base"] == shipping + wrapping and ten["tax"] == (shipping + wrapping) * 10 // 110


def test_without_methods_the_shop_table_applies_as_before(writer) -> None:  # noqa: ANN001
    from pricing.models import BillingPolicy

    BillingPolicy.objects.update_or_create(
        pk=1, defaults={"shipping_base_fee": 550, "gift_wrapping_fee": 330}
    )
    sub = _subscription(wrapping=True)
    generate_due(run_date=CREATION)
    order = Order.objects.get(subscription=sub)
    assert (order.delivery_method_id, order.shipping_fee, order.wrapping_fee) == (None, 550, 330)


def test_methods_and_wrapping_cost_no_query_per_order(writer, django_assert_max_num_queries) -> None:  # noqa: ANN001
    # given a shop with methods and a few due subscriptions, some wrapped, some with a slot
    shop_with_methods()
    for i in range(4):
        _subscription(wrapping=i % 2 == 0, slot="14-16" if i == 3 else "")
    with django_assert_max_num_queries(40) as small:
        generate_due(run_date=CREATION)
    # when thirty more come due, each with its own product (and package), customer and gift setting
    for i in range(30):
        _subscription(wrapping=i % 2 == 0, slot="14-16" if i % 3 == 0 else "")
    with django_assert_max_num_queries(40) as large:
        generate_due(run_date=CREATION)
    # then the batch read them in the same number of queries
    assert len(large.captured_queries) <= len(small.captured_queries)
    assert Order.objects.filter(wrapping_fee=WRAPPING_FEE).count() == 2 + 15
    assert Order.objects.filter(delivery_method__code="mail_bin").count() == 3 + 20


def test_with_order_rules_the_order_keeps_the_method_it_was_priced_with(writer) -> None:
    # given the shop's order rules (none of them sets a delivery method) and a slot that rules
    # メール便 out, so the order is priced for 宅配便
    from orders.rules.services import order_rule_save

    shop_with_methods()
    order_rule_save(
        name="全件 → タグ", conditions=[], actions=[{"type": "add_tags", "value": ["確認済"]}],
        stop_after_match=False,
    )  # fmt: skip
    sub = _subscription(slot="14-16")

    # when the night runs the rules as it creates the order
    generate_due(run_date=CREATION)

    # then the order carries the method and the fee it was charged, and the rule's tag
    order = Order.objects.select_related("delivery_method").get(subscription=sub)
    assert (order.delivery_method.code, order.shipping_fee) == ("parcel", PARCEL_FEE)
    assert order.tags == ["確認済"]
