"""The next order's price on the home page, the subscription page and the API, as the nightly run prices it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import PaymentMethod
from catalog.models import CoursePrice
from pricing.models import BillingPolicy, CodFee, Coupon
from pricing.services.points import points_adjust
from subscriptions.actors import Actor
from subscriptions.models import Subscription, SubscriptionStatus
from tests.factories import CourseFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def _detail(client, subscription: Subscription) -> str:
    url = reverse("mypage:subscription", kwargs={"subscription_id": subscription.pk})
    return client.get(url).content.decode()


def _price_box(html: str, subscription: Subscription) -> str:
    match = re.search(rf'id="next-order-price-{subscription.pk}".*?</div>', html, re.S)
    assert match, "no next-order price on the page"
    return match.group(0)


def _total(box: str) -> str:
    return re.search(r'class="num next-order-total">([^<]+)<', box).group(1)


def _coupon(**fields) -> Coupon:
    values = {"code": "WELCOME", "name": "初回割", "kind": "fixed", "value": 500, "applies_to": "all"}
    return Coupon.objects.create(**{**values, **fields})


@pytest.mark.parametrize(
    ("cycle_count", "sequence_label", "unit", "total"),
    [
        (0, "次回（1回目）", "¥980", "¥980"),  # the course's first-delivery price
        (1, "次回（2回目）", "¥3,980", "¥3,980"),  # from the second delivery on
        (5, "次回（6回目）", "¥3,980", "¥3,980"),
    ],
)
def test_subscription_page_prices_the_next_delivery_for_its_sequence(
    logged_in, subscription, cycle_count, sequence_label, unit, total
):
    # given a course priced first ¥980, then ¥3,980, and a subscription that has had `cycle_count` orders
    Subscription.objects.filter(pk=subscription.pk).update(
        cycle_count=cycle_count, next_sequence=cycle_count + 1
    )
    # when the customer opens the subscription page
    box = _price_box(_detail(logged_in, subscription), subscription)
    # then the next order is priced for its sequence, tax included
    assert sequence_label in box
    assert f'class="num unit-price">{unit}<' in box
    assert _total(box) == total


def test_coupon_points_shipping_and_cod_fee_make_the_total(logged_in, customer, subscription):
    # given the second delivery (¥3,980), a ¥500 coupon, 300 points reserved, ¥600 shipping and COD
    Subscription.objects.filter(pk=subscription.pk).update(cycle_count=1, next_sequence=2)
    BillingPolicy.objects.update_or_create(pk=1, defaults={"shipping_base_fee": 600})
    CodFee.objects.create(up_to_amount=10000, fee=330)
    cod = PaymentMethod.objects.create(customer=customer, kind="cod")
    points_adjust(customer_id=customer.pk, amount=300, note="テスト", actor=Actor.system())
    Subscription.objects.filter(pk=subscription.pk).update(
        coupon=_coupon(), payment_method=cod, points_reservation="all"
    )
    # when the customer opens the page
    box = _price_box(_detail(logged_in, subscription), subscription)
    # then every part of the nightly price is shown: 3,980 - 500 + 600 + 330 - 300 = 4,110
    assert "クーポン割引（WELCOME）" in box
    assert 'class="num coupon-discount">-¥500<' in box
    assert 'class="num shipping-fee">¥600<' in box
    assert 'class="num cod-fee">¥330<' in box
    assert 'class="num points-used">-300 pt<' in box
    assert _total(box) == "¥4,110"


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"min_subtotal": 5000}, "このクーポンは商品合計¥5,000以上のご注文でご利用いただけます。"),
        ({"applies_to": "sequences", "sequences": [3, 4]}, "このクーポンは3・4回目のお届けが対象です"),
        (
            {"valid_until": datetime(2020, 1, 31, tzinfo=UTC)},
            "このクーポンの有効期限（2020年1月31日まで）を過ぎています。",
        ),
    ],
)
def test_a_refused_coupon_is_explained_and_not_deducted(logged_in, subscription, fields, sentence):
    # given the first delivery (¥980) and a coupon the nightly run would refuse
    Subscription.objects.filter(pk=subscription.pk).update(coupon=_coupon(**fields))
    # when
    box = _price_box(_detail(logged_in, subscription), subscription)
    # then the refusal is in words and the total has no discount
    assert "クーポン「WELCOME」は次回のご注文には適用されません。" in box
    assert sentence in box
    assert "coupon-discount" not in box
    assert _total(box) == "¥980"


def test_home_prices_each_subscription_with_a_fixed_number_of_queries(
    logged_in, customer, subscription, today, django_assert_num_queries
):
    # given one subscription, the home page's query count
    one = _count_queries(logged_in, "/mypage/")
    # and then three more on other courses, one of them with a coupon and another paused
    others = [
        SubscriptionFactory(customer=customer, course=CourseFactory(), anchor_date=today + timedelta(days=d))
        for d in (20, 50, 70)
    ]
    Subscription.objects.filter(pk=others[0].pk).update(cycle_count=3, next_sequence=4, coupon=_coupon())
    Subscription.objects.filter(pk=others[2].pk).update(status=SubscriptionStatus.PAUSED)
    logged_in.get("/mypage/")  # the process loads the catalogue again: new products, another date
    # when the home page is shown, then the count did not grow with the subscriptions
    # (coupon loading adds its three queries once, whatever the number of coupons)
    with django_assert_num_queries(one + 3):
        html = logged_in.get("/mypage/").content.decode()
    # and each active subscription shows its own next price; the paused one shows none
    assert _total(_price_box(html, subscription)) == "¥980"
    assert _total(_price_box(html, others[0])) == "¥3,480"  # 4th delivery ¥3,980 - ¥500 coupon
    assert _total(_price_box(html, others[1])) == "¥980"
    assert f'id="next-order-price-{others[2].pk}"' not in html


def test_api_detail_and_list_carry_the_next_order(
    api, customer, subscription, today, django_assert_num_queries
):
    # given the list's query count with one subscription
    alone = _count_queries(api, "/api/mypage/subscriptions/")
    # and a second subscription on its 2nd delivery with a coupon for the 3rd only
    second = SubscriptionFactory(customer=customer, anchor_date=today + timedelta(days=30))
    Subscription.objects.filter(pk=second.pk).update(
        cycle_count=1, next_sequence=2, coupon=_coupon(applies_to="sequences", sequences=[3])
    )
    api.get("/api/mypage/subscriptions/")  # the process loads the catalogue for the earlier date
    # when
    detail = api.get(f"/api/mypage/subscriptions/{subscription.pk}/").json()["next_order"]
    with django_assert_num_queries(alone + 3):  # + the coupon, its uses and the customer's uses
        listed = {row["id"]: row["next_order"] for row in api.get("/api/mypage/subscriptions/").json()}
    # then
    assert detail["lines"][0]["unit_price"] == 980
    assert (detail["sequence"], detail["items_subtotal"], detail["total"]) == (1, 980, 980)
    assert detail["coupon_code"] is None
    refused = listed[second.pk]
    assert (refused["price_sequence"], refused["total"], refused["coupon_applied"]) == (2, 3980, False)
    assert refused["coupon_refusal_code"] == "coupon_not_applicable"
    assert "3回目のお届けが対象です" in refused["coupon_refusal"]


def _count_queries(client, url: str) -> int:
    client.get(url)  # the first view loads the shop policy into the process
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_paused_subscription_has_no_next_order(api, subscription):
    Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.PAUSED)
    assert api.get(f"/api/mypage/subscriptions/{subscription.pk}/").json()["next_order"] is None


def test_the_page_prices_from_the_cached_catalogue_and_a_price_change_shows_at_once(
    logged_in, subscription, django_assert_num_queries
):
    # given a page that has loaded the shop's pricing catalogue into the process
    assert _total(_price_box(_detail(logged_in, subscription), subscription)) == "¥980"
    # when it is shown again, then pricing reads nothing (no catalogue, customer, coupon or points)
    with CaptureQueriesContext(connection) as captured:
        _detail(logged_in, subscription)
    read = " ".join(q["sql"] for q in captured.captured_queries)
    for table in ("catalog_product", "catalog_courseprice", "billing_billingpolicy", "customers_customer"):
        assert f'FROM "{table}"' not in read
    # when the first delivery's course price is edited (a save, as in the admin)
    price = CoursePrice.objects.get(course=subscription.course, from_sequence=1)
    price.unit_price = 1280
    price.save()
    # then the next page shows the new price at once
    assert _total(_price_box(_detail(logged_in, subscription), subscription)) == "¥1,280"
    # and so does a shipping fee edited in the billing policy
    policy = BillingPolicy.current()
    policy.shipping_base_fee, policy.shipping_free_from = 550, None
    policy.save()
    assert _total(_price_box(_detail(logged_in, subscription), subscription)) == "¥1,830"


def test_a_catalogue_edit_without_signals_shows_within_the_maximum_age(logged_in, subscription, monkeypatch):
    from mypage import selectors

    assert _total(_price_box(_detail(logged_in, subscription), subscription)) == "¥980"
    # given a bulk update that sends no signal
    CoursePrice.objects.filter(course=subscription.course, from_sequence=1).update(unit_price=1080)
    # when the catalogue is older than its maximum age
    monkeypatch.setattr(selectors, "PRICING_MAX_AGE", 0.0)
    # then the page prices with the new row
    assert _total(_price_box(_detail(logged_in, subscription), subscription)) == "¥1,080"
