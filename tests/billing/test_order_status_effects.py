"""What billing does when an order moves along the pipeline (orders.signals.order_status_changed)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from billing.models import CaptureMethod, PaymentAttemptStatus, PaymentPolicy
from billing.services.payments import payment_charge_order
from orders.models import OrderStatus, PaymentStatus
from orders.services import order_set_status
from pricing.models import BillingPolicy, Coupon, CouponRedemption
from pricing.selectors import points_balance
from pricing.services.points import points_adjust
from subscriptions.actors import Actor
from tests.billing.payments_helpers import charges_for, make_order, save_card
from tests.factories import CustomerFactory, SubscriptionFactory
from tests.pricing.test_services_points import price_and_record

TODAY = dt.date(2027, 3, 10)


@pytest.fixture
def sub_with_benefits(db):  # noqa: ANN001, ANN201
    """A subscription with a ¥500 coupon and 300 points reserved, and its order priced with both."""
    sub = SubscriptionFactory()
    points_adjust(customer_id=sub.customer_id, amount=300, note="付与", actor=Actor.admin(None), today=TODAY)
    sub.coupon = Coupon.objects.create(
        code="WELCOME", name="¥500 off", kind="fixed", value=500, applies_to="all"
    )
    sub.points_reservation = "all"
    sub.save()
    order = price_and_record(sub)
    assert (order.discount_total, order.points_used) == (500, 300)
    return sub, order


def test_cancelling_gives_the_coupon_use_and_the_points_back(
    sub_with_benefits, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    sub, order = sub_with_benefits
    assert points_balance(sub.customer) == 0

    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.CANCELLED)

    order.refresh_from_db()
    assert points_balance(sub.customer) == 300
    assert not CouponRedemption.objects.filter(order=order).exists()
    assert order.payment_status == PaymentStatus.CANCELLED


def test_a_rolled_back_cancellation_keeps_coupon_and_points(sub_with_benefits) -> None:  # noqa: ANN001
    sub, order = sub_with_benefits
    with pytest.raises(RuntimeError), transaction.atomic():
        order_set_status(order_id=order.pk, status=OrderStatus.CANCELLED)
        raise RuntimeError("the admin's request failed after the cancel")

    assert points_balance(sub.customer) == 0
    assert CouponRedemption.objects.filter(order=order).exists()


def test_completing_an_order_earns_points_once(db) -> None:  # noqa: ANN001
    BillingPolicy.objects.update_or_create(pk=1, defaults={"points_earn_rate_bp": 100})
    order = make_order(total=3980, status=OrderStatus.SHIPPED)

    order_set_status(order_id=order.pk, status=OrderStatus.COMPLETED)

    assert points_balance(order.customer) == 39


@pytest.mark.usefixtures("stripe_settings")
def test_cancelling_a_paid_order_refunds_it(db, localstripe, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer), customer=customer, total=3980)
    payment_charge_order(order_id=order.pk)

    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.CANCELLED, note="お客様都合")

    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.REFUNDED
    [charge] = charges_for(localstripe, customer.stripe_customer_id)
    assert charge.amount_refunded == 3980


@pytest.mark.usefixtures("stripe_settings")
def test_shipping_captures_an_authorisation_when_the_shop_captures_at_shipment(
    db, localstripe, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    PaymentPolicy.objects.update_or_create(pk=1, defaults={"capture_method": CaptureMethod.MANUAL})
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer), customer=customer, total=5000)
    attempt = payment_charge_order(order_id=order.pk)
    assert attempt.status == PaymentAttemptStatus.AUTHORIZED
    order.refresh_from_db()
    assert order.status == OrderStatus.READY

    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.SHIPPED)

    order.refresh_from_db()
    attempt.refresh_from_db()
    assert (order.payment_status, attempt.status, attempt.captured_amount) == (
        PaymentStatus.PAID,
        PaymentAttemptStatus.SUCCEEDED,
        5000,
    )
