"""The checkout service: quotes priced as the nightly run prices, one transaction, one per key."""

from __future__ import annotations

from datetime import date

import pytest

from billing.models import PaymentAttempt, PaymentKind
from core.errors import DomainError
from notifications.models import Notification
from orders.models import Order, OrderEvent, OrderStatus, PaymentStatus
from orders.rules.bulk import RULE_EVENT, order_rules_apply_pending
from orders.rules.services import order_rule_save
from pricing.models import Coupon, PointAccount
from pricing.selectors import subscription_next_order_price
from storefront.models import Checkout, FinalConfirmation
from storefront.services import CheckoutInput, checkout_place, checkout_quote
from subscriptions.models import Subscription
from tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def new_customer_input(**overrides) -> CheckoutInput:  # noqa: ANN003
    values = {
        "course_code": "aojiru",
        "email": "new@example.com",
        "name": "新井 初子",
        "password": "a-long-pass-123",
        "postal_code": "１００−０００１",
        "line1": "千代田1-1",
        "payment_kind": PaymentKind.BANK_TRANSFER,
    }
    values.update(overrides)
    return CheckoutInput(**values)


def test_quote_prices_each_delivery_and_the_minimum_total(course) -> None:  # noqa: ANN001
    quote = checkout_quote(data=new_customer_input())
    # 初回 ¥980 + ¥550 shipping; 2回目以降 ¥3,980 + ¥550; minimum 3 deliveries
    assert (quote.first.items_subtotal, quote.first.shipping_fee, quote.first.total) == (980, 550, 1530)
    assert (quote.later.items_subtotal, quote.later.total) == (3980, 4530)
    assert quote.min_total == 1530 + 2 * 4530
    assert quote.prefecture == "東京都" and quote.city.startswith("千代田区")
    assert quote.first_delivery_date == date(2027, 1, 20)  # open days 13, 14, 15, 18, 19 → the 20th
    assert quote.second_delivery_date == date(2027, 2, 20)
    assert [s["id"] for s in quote.sections] == [
        "quantity", "first", "later", "minimum", "payment", "delivery", "deadline", "cancel",
    ]  # fmt: skip


def test_cash_on_delivery_adds_its_fee_and_quantity_multiplies(course) -> None:  # noqa: ANN001
    quote = checkout_quote(data=new_customer_input(payment_kind=PaymentKind.COD, quantity=2))
    assert quote.first.items_subtotal == 1960
    assert quote.first.cod_fee == 330
    assert quote.later.shipping_fee == 0  # 7,960 ≥ 5,000: free
    assert quote.later.total == 7960 + 330


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"postal_code": "0000000"}, "postal_code_unknown", "postal_code"),
        ({"postal_code": "12"}, "postal_code_unknown", "postal_code"),
        ({"quantity": 0}, "invalid_quantity", "quantity"),
        ({"quantity": 11}, "invalid_quantity", "quantity"),
        ({"cycle_id": 999999}, "cycle_not_allowed", "cycle_id"),
        ({"first_delivery_date": date(2027, 1, 19)}, "date_unavailable", "first_delivery_date"),
        ({"first_delivery_date": date(2027, 3, 20)}, "date_unavailable", "first_delivery_date"),
        ({"time_slot": "25-26"}, "invalid_time_slot", "time_slot"),
        ({"payment_kind": "bitcoin"}, "invalid_payment_kind", "payment_kind"),
        ({"coupon_code": "NOPE"}, "coupon_not_found", "coupon_code"),
        ({"points": 100}, "points_members_only", "points"),
        ({"course_code": "missing"}, "course_not_found", None),
    ],
)
def test_quote_refuses_bad_choices_in_words(course, overrides, code, field) -> None:  # noqa: ANN001
    with pytest.raises(DomainError) as refused:
        checkout_quote(data=new_customer_input(**overrides))
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message and 400 <= refused.value.status < 500


def test_placing_an_offline_checkout_creates_everything_once(
    course, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    data = new_customer_input(utm_source="instagram", utm_campaign="spring", source="t.co")
    quote = checkout_quote(data=data)
    with django_capture_on_commit_callbacks(execute=True):
        result = checkout_place(data=data, key="checkout-key-0001")
    sub, order = result.subscription, result.order
    sub.refresh_from_db()
    assert sub.customer.user.email == "new@example.com" and sub.customer.is_member
    assert sub.customer.user.check_password("a-long-pass-123")
    assert (sub.anchor_date, sub.anchor_sequence) == (date(2027, 1, 20), 1)
    assert (sub.next_sequence, sub.next_delivery_date, sub.orders_created, sub.cycle_count) == (
        2, date(2027, 2, 20), 1, 1,
    )  # fmt: skip
    assert (sub.utm_source, sub.utm_campaign, sub.source) == ("instagram", "spring", "t.co")
    assert (order.sequence, order.total, order.delivery_date) == (1, quote.first.total, date(2027, 1, 20))
    assert order.payment_status == PaymentStatus.AWAITING_OFFLINE
    assert order.ship_prefecture == "東京都" and order.ship_postal_code == "100-0001"
    # the second order will cost what the confirmation screen said (the same PricingBook)
    assert (
        subscription_next_order_price(subscription=sub, on=date(2027, 1, 13), gift_wrapping=False).total
        == quote.later.total
    )
    record = FinalConfirmation.objects.get(subscription=sub)
    assert record.shown["terms_version"] == quote.terms_version
    assert record.course_version == quote.course_version
    assert record.button_label == "注文を確定する（定期購入）"
    assert Notification.objects.filter(kind="mail:received", to_email="new@example.com").count() == 1
    terms_mail = Notification.objects.get(kind="checkout_terms")
    assert "青汁定期コース" in terms_mail.subject
    for text in (
        "¥1,530",
        "¥4,530",
        "3回分のお支払い総額",
        "解約",
        "2回目: 2027年2月20日",
        "3回目: 2027年3月20日",
    ):
        assert text in terms_mail.body, text
    # the product's stock was taken
    course.items.get().product.refresh_from_db()
    assert course.items.get().product.stock == 99


def test_same_key_same_body_replays_and_another_body_is_409(course) -> None:  # noqa: ANN001
    data = new_customer_input()
    first = checkout_place(data=data, key="replay-key-1")
    again = checkout_place(data=data, key="replay-key-1")
    assert again.replayed and again.subscription.pk == first.subscription.pk
    assert Subscription.objects.count() == 1 and Order.objects.count() == 1
    with pytest.raises(DomainError) as refused:
        checkout_place(data=new_customer_input(quantity=2), key="replay-key-1")
    assert (refused.value.code, refused.value.status) == ("idempotency_key_reused", 409)


def test_a_refused_checkout_leaves_nothing_behind(course) -> None:  # noqa: ANN001
    product = course.items.get().product
    product.stock = 0
    product.save()
    with pytest.raises(DomainError) as refused:
        checkout_place(data=new_customer_input(), key="no-stock-key")
    assert (refused.value.code, refused.value.status) == ("stock_short", 409)
    assert not Checkout.objects.exists() and not Subscription.objects.exists()
    assert not CustomerFactory._meta.model.objects.exists()


def test_changed_terms_since_the_confirmation_are_refused(course) -> None:  # noqa: ANN001
    data = new_customer_input()
    version = checkout_quote(data=data).terms_version
    course.prices.filter(from_sequence=2).update(unit_price=4480)
    with pytest.raises(DomainError) as refused:
        checkout_place(
            data=CheckoutInput(**{**data.__dict__, "confirmed_version": version}), key="terms-key-1"
        )
    assert refused.value.code == "terms_changed"


def test_signed_in_member_uses_points_coupon_and_saved_address(course) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    address = AddressFactory(customer=customer, prefecture="北海道", city="札幌市", postal_code="060-0001")
    PointAccount.objects.create(customer=customer, balance=300)
    Coupon.objects.create(code="WELCOME", name="初回200円引き", kind="fixed", value=200)
    data = CheckoutInput(
        course_code="aojiru",
        address_id=address.pk,
        payment_kind=PaymentKind.KONBINI,
        coupon_code="welcome",
        points=100,
    )
    result = checkout_place(data=data, key="member-key-1", customer=customer)
    order = result.order
    assert (order.items_subtotal, order.discount_total, order.points_used) == (980, 200, 100)
    assert order.total == 980 - 200 + 550 - 100
    assert order.ship_prefecture == "北海道"
    assert PointAccount.objects.get(customer=customer).balance == 200
    assert result.subscription.coupon_id is None  # a next-only coupon is spent by the first order


def test_points_beyond_the_balance_are_refused(course) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    address = AddressFactory(customer=customer)
    PointAccount.objects.create(customer=customer, balance=50)
    with pytest.raises(DomainError) as refused:
        checkout_quote(
            data=CheckoutInput(course_code="aojiru", address_id=address.pk, points=51), customer=customer
        )
    assert refused.value.code == "points_insufficient"


def test_card_checkout_charges_once_through_localstripe(course, stripe_settings, localstripe) -> None:  # noqa: ANN001
    from billing.services.payment_methods import payment_method_setup_intent_for_checkout
    from tests.billing.payments_helpers import VISA, browser_confirms_card

    intent = payment_method_setup_intent_for_checkout()
    pm_id = browser_confirms_card(localstripe, intent["client_secret"], VISA)
    data = new_customer_input(payment_kind=PaymentKind.CARD, stripe_payment_method_id=pm_id)
    result = checkout_place(data=data, key="card-key-0001")
    assert result.order.payment_status == PaymentStatus.PAID
    assert result.order.status in (OrderStatus.NEW, OrderStatus.READY)
    again = checkout_place(data=data, key="card-key-0001")
    assert again.replayed
    assert PaymentAttempt.objects.filter(order=result.order).count() == 1
    assert result.subscription.payment_method.last4 == "4242"


def test_an_english_checkout_gets_its_terms_mail_in_english(course) -> None:  # noqa: ANN001
    from django.utils import translation

    with translation.override("en"):
        result = checkout_place(data=new_customer_input(), key="english-key-1")
    assert result.subscription.customer.language == "en"
    mail = Notification.objects.get(kind="checkout_terms")
    assert mail.subject == "Your subscription to 青汁定期コース: the terms"
    for text in (
        "Dear 新井 初子",
        "Price of each later delivery",
        "#2: Sat, February 20, 2027",
        "Cancelling",
    ):
        assert text in mail.body, text
    assert FinalConfirmation.objects.get().language == "en"


def test_the_nightly_run_charges_the_second_delivery_what_the_screen_said(course) -> None:  # noqa: ANN001
    from scheduler.generation import generate_due

    data = new_customer_input(payment_kind=PaymentKind.COD, quantity=2)
    quote = checkout_quote(data=data)
    sub = checkout_place(data=data, key="nightly-key-1").subscription
    result = generate_due(run_date=sub.next_creation_date)
    assert result.orders_created == 1
    second = Order.objects.get(subscription=sub, sequence=2)
    assert (second.items_subtotal, second.shipping_fee, second.cod_fee, second.total) == (
        quote.later.items_subtotal, quote.later.shipping_fee, quote.later.cod_fee, quote.later.total,
    )  # fmt: skip
    assert second.delivery_date == quote.second_delivery_date


def test_the_shops_order_rules_run_on_the_first_order_once(
    course, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    order_rule_save(
        name="銀行振込 → 入金確認",
        conditions=[[{"field": "payment_kind", "op": "eq", "value": "bank_transfer"}]],
        actions=[{"type": "add_tags", "value": ["入金確認"]}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = checkout_place(
            data=new_customer_input(payment_kind="bank_transfer"), key="rules-key-0001"
        ).order
    assert order.tags == ["入金確認"] and order.rules_applied_at is not None
    assert OrderEvent.objects.filter(order=order, kind=RULE_EVENT, note="銀行振込 → 入金確認").count() == 1
    # the nightly stage finds it done and does not apply the rule a second time
    order_rules_apply_pending(run_date=order.creation_date)
    assert OrderEvent.objects.filter(order=order, kind=RULE_EVENT).count() == 1
