"""Leaving a failed card for an offline method, and cancelling an order paid offline."""

from __future__ import annotations

import pytest

from billing.models import DunningCase, DunningReason, DunningStatus, PaymentKind, PaymentMethod
from billing.services.payments import payment_charge_order, payment_mark_paid
from orders.models import OrderEvent, OrderStatus, PaymentStatus
from orders.services import order_set_status
from subscriptions.actors import Actor
from subscriptions.services import subscription_change_payment_method
from tests.billing.payments_helpers import DECLINES_ON_CHARGE, make_order, save_card
from tests.factories import CustomerFactory


@pytest.fixture
def failed_card_order(stripe_settings, db, localstripe):  # noqa: ANN001, ANN201
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer, DECLINES_ON_CHARGE), customer=customer)
    payment_charge_order(order_id=order.pk)
    order.refresh_from_db()
    assert (order.payment_status, order.status) == (PaymentStatus.FAILED, OrderStatus.ON_HOLD)
    return order


@pytest.mark.parametrize(
    ("kind", "payment_status", "status", "case"),
    [
        (
            PaymentKind.BANK_TRANSFER,
            PaymentStatus.AWAITING_OFFLINE,
            OrderStatus.AWAITING_PAYMENT,
            DunningStatus.OPEN,
        ),
        (
            PaymentKind.KONBINI,
            PaymentStatus.AWAITING_OFFLINE,
            OrderStatus.AWAITING_PAYMENT,
            DunningStatus.OPEN,
        ),
        (PaymentKind.COD, PaymentStatus.AWAITING_OFFLINE, OrderStatus.READY, DunningStatus.RESOLVED),
    ],
)
def test_a_customer_who_switches_to_an_offline_method_is_no_longer_chased_as_a_card(
    failed_card_order, localstripe, django_capture_on_commit_callbacks, kind, payment_status, status, case
) -> None:  # noqa: ANN001
    order = failed_card_order
    customer = order.customer
    offline = PaymentMethod.objects.create(customer=customer, kind=kind)

    with django_capture_on_commit_callbacks(execute=True):
        subscription_change_payment_method(
            subscription_id=order.subscription_id,
            payment_method_id=offline.pk,
            actor=Actor.customer(customer.user),
        )

    order.refresh_from_db()
    order.subscription.refresh_from_db()
    assert (order.payment_kind, order.payment_method_id) == (kind, offline.pk)
    assert (order.payment_status, order.status, order.hold_reasons) == (payment_status, status, [])
    assert "payment_failed" not in order.subscription.needs_attention
    dunning_case = DunningCase.objects.get(order=order)
    assert dunning_case.status == case
    if case == DunningStatus.OPEN:
        assert dunning_case.reason == DunningReason.AWAITING_OFFLINE
    assert order.payment_attempts.count() == 1  # only the declined try: no card retry after the switch
    cod_review = OrderEvent.objects.filter(order=order, kind="payment_needs_review").exists()
    assert cod_review is (kind == PaymentKind.COD)


def test_cancelling_an_order_paid_by_transfer_asks_for_a_refund_by_hand(
    db, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    order = make_order(kind=PaymentKind.BANK_TRANSFER)
    payment_charge_order(order_id=order.pk)
    payment_mark_paid(order_id=order.pk, note="振込確認")

    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.CANCELLED)

    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.PAID)
    [event] = OrderEvent.objects.filter(order=order, kind="refund_by_hand")
    assert event.after == {"payment_kind": "bank_transfer", "amount": order.total}
