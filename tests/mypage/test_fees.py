"""The my page's next-order preview charges the delivery method and the wrapping the nightly run will,
says which method the order gets and why a cheaper one is not given (issues 11 and 12)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from orders.models import Order, SubscriptionGift
from scheduler.generation import generate_due
from subscriptions.models import Subscription
from tests.fees import measure, shop_with_methods

pytestmark = pytest.mark.django_db


def _box(client, subscription) -> str:
    html = client.get(
        reverse("mypage:subscription", kwargs={"subscription_id": subscription.pk})
    ).content.decode()
    match = re.search(
        rf'id="next-order-price-{subscription.pk}".*?</ul>|id="next-order-price-{subscription.pk}".*?</p>',
        html,
        re.S,
    )
    assert match, "no next-order price on the page"
    return match.group(0)


def _total(box: str) -> str:
    return re.search(r'class="num next-order-total">([^<]+)<', box).group(1)


def _shop(subscription, *, wrapped: bool = False) -> None:
    shop_with_methods()
    measure([item.product for item in subscription.items.all()])
    if wrapped:
        SubscriptionGift.objects.create(subscription=subscription, wrapping=True)


def test_a_wrapped_letterbox_order_shows_both_fees_and_costs_what_the_night_charges(logged_in, subscription):
    # given a thin first delivery (¥980) that fits メール便, sent gift-wrapped
    _shop(subscription, wrapped=True)

    # when the customer opens the subscription page
    box = _box(logged_in, subscription)

    # then the preview charges メール便's ¥220 and the ¥330 wrapping as their own lines
    assert '送料（メール便）</th><td class="num shipping-fee">¥220<' in box
    assert 'ギフト包装料</th><td class="num wrapping-fee">¥330<' in box
    assert "配送方法: メール便" in box
    assert _total(box) == "¥1,530"
    # and the order the night creates costs exactly that
    generate_due(run_date=subscription.next_creation_date)
    order = Order.objects.get(subscription=subscription)
    assert (order.total, order.shipping_fee, order.wrapping_fee) == (1530, 220, 330)
    detail = logged_in.get(reverse("mypage:order", kwargs={"order_id": order.pk})).content.decode()
    assert "送料（メール便）" in detail and 'class="wrapping-fee">¥330<' in detail


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"delivery_time_slot": "14-16"}, "お届け時間帯の指定があります（この配送方法では指定できません）"),
        ({"quantity": 3}, "商品の厚さの合計 30mm が上限の 20mm を超えています"),
    ],
)
def test_the_page_says_why_the_cheaper_method_is_not_given(logged_in, subscription, change, reason):
    # given a subscription whose order does not fit メール便 (a time slot, or three pouches stacked)
    _shop(subscription)
    if "quantity" in change:
        subscription.items.update(quantity=change["quantity"])
    else:
        Subscription.objects.filter(pk=subscription.pk).update(**change)

    # when the customer opens the page
    box = _box(logged_in, subscription)

    # then it is 宅配便 at the table's fee, and メール便 is named with its fee and the reason
    assert "送料（宅配便）" in box and 'class="num shipping-fee">¥550<' in box
    assert "メール便（送料 ¥220）にならない理由:" in box
    assert reason in box


def test_in_english(logged_in, subscription):
    _shop(subscription, wrapped=True)
    Subscription.objects.filter(pk=subscription.pk).update(delivery_time_slot="14-16")
    logged_in.post("/i18n/setlang/", {"language": "en", "next": "/mypage/"})
    box = _box(logged_in, subscription)
    assert "Shipping (宅配便)" in box and "Gift wrapping" in box
    assert "Delivery method: 宅配便" in box
    assert "Why not メール便 (shipping ¥220):" in box
    assert "A delivery time is requested (this method cannot take one)" in box


def test_wrapping_costs_one_query_only_when_the_shop_charges_for_it(
    logged_in, subscription, django_assert_max_num_queries
):
    # given a wrapped subscription and a shop with methods
    _shop(subscription, wrapped=True)
    url = reverse("mypage:subscription", kwargs={"subscription_id": subscription.pk})
    logged_in.get(url)  # the process's pricing catalogue (with the methods) is loaded once
    # then the page costs the same queries as without methods and wrapping, plus the gift lookup
    with django_assert_max_num_queries(8):
        assert logged_in.get(url).status_code == 200
