"""The checkout quote charges the delivery method every order will get, and says which and why not a
cheaper one (issue 12); the orders made from it cost what the confirmation screen stated."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billing.models import PaymentKind
from orders.models import Order
from scheduler.generation import generate_due
from storefront.services import checkout_place, checkout_quote
from tests.fees import measure, shop_with_methods
from tests.storefront.test_services import new_customer_input

pytestmark = pytest.mark.django_db


@pytest.fixture
def methods(course):  # noqa: ANN001
    shop_with_methods()
    measure([item.product for item in course.items.all()])
    return course


def _rows(quote, section_id: str) -> dict[str, str]:  # noqa: ANN001
    section = next(s for s in quote.sections if s["id"] == section_id)
    return {str(label): str(value) for label, value in section["rows"]}


def test_a_letterbox_order_is_quoted_with_the_mail_bin_fee(methods) -> None:  # noqa: ANN001
    quote = checkout_quote(data=new_customer_input())
    assert (quote.first.delivery.code, quote.first.shipping_fee, quote.first.total) == ("mail_bin", 220, 1200)
    assert (quote.later.delivery.code, quote.later.shipping_fee, quote.later.total) == ("mail_bin", 220, 4200)
    assert _rows(quote, "first")["送料（メール便）"] == "¥220"
    assert _rows(quote, "delivery")["配送方法"] == "メール便"
    assert quote.min_total == 1200 + 2 * 4200


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"time_slot": "14-16"}, "お届け時間帯の指定があります（この配送方法では指定できません）"),
        (
            {"payment_kind": PaymentKind.COD},
            "お支払いが代金引換です（この配送方法では代引きをご利用いただけません）",
        ),
        ({"quantity": 3}, "商品の厚さの合計 30mm が上限の 20mm を超えています"),
    ],
)
def test_the_confirmation_says_why_the_cheaper_method_is_not_given(methods, overrides, reason) -> None:  # noqa: ANN001
    quote = checkout_quote(data=new_customer_input(**overrides))
    assert quote.first.delivery.code == "parcel"
    delivery = _rows(quote, "delivery")
    assert delivery["配送方法"] == "宅配便"
    assert delivery["メール便（送料 ¥220）にならない理由"] == reason
    assert "送料（宅配便）" in _rows(quote, "first")


def test_the_orders_cost_what_the_confirmation_stated(methods, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    # given a confirmed quote for a letterbox-sized course
    data = new_customer_input()
    quote = checkout_quote(data=data)
    with django_capture_on_commit_callbacks(execute=True):
        result = checkout_place(data=data, key="checkout-fees-0001")
    # then the first order is the first delivery's amount, with its method
    first = Order.objects.select_related("delivery_method").get(pk=result.order.pk)
    assert (first.total, first.shipping_fee, first.delivery_method.code) == (1200, 220, "mail_bin")
    # and the second, made by the nightly run, is the later deliveries' amount
    sub = result.subscription
    sub.refresh_from_db()
    with time_machine.travel(date(2027, 2, 12), tick=False):
        generate_due(run_date=sub.next_creation_date)
    second = Order.objects.get(subscription=sub, sequence=2)
    assert (second.total, second.shipping_fee, second.delivery_method_id) == (
        quote.later.total,
        220,
        first.delivery_method_id,
    )


def test_a_new_address_on_a_remote_island_is_quoted_with_the_surcharge_its_orders_pay(course) -> None:  # noqa: ANN001
    # given a shop with a ¥1,100 remote-island surcharge and a new address on 佐渡 (no method fits)
    shop_with_methods()
    quote = checkout_quote(data=new_customer_input(postal_code="952-0000", line1="両津1-1"))
    # then both deliveries carry the surcharge, as the address (marked 離島 when created) will
    assert quote.remote_island is True
    assert (quote.first.shipping_fee, quote.later.shipping_fee) == (550 + 1100, 550 + 1100)
