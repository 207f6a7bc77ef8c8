"""At most one charge per order, counted on localstripe: concurrent charges, a worker that dies after
Stripe answered, a task delivered twice, and a gateway that times out."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billing.gateways import GatewayUnavailable
from billing.gateways.stripe import StripeGateway
from billing.models import PaymentAttemptStatus
from billing.services import payments
from billing.services.payments import payment_charge_order
from billing.tasks import charge_order
from orders.models import PaymentStatus
from tests.billing.payments_helpers import charges_for, make_order, save_card
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.usefixtures("stripe_settings"), pytest.mark.django_db]


class WorkerDied(Exception):
    """Stands for a process killed between Stripe's answer and our commit."""


@pytest.mark.django_db(transaction=True)
def test_the_same_order_charged_twice_at_once_is_charged_once(localstripe) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer), customer=customer)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(payment_charge_order(order_id=order.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1
    assert order.payment_attempts.count() == 1
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert sum(r is not None for r in results) >= 1


def test_a_worker_that_dies_after_stripe_answered_is_reconciled_not_charged_again(
    localstripe, monkeypatch
) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer), customer=customer)
    real_record = payments.payment_attempt_record

    def die(**kwargs: object) -> None:
        raise WorkerDied

    monkeypatch.setattr(payments, "payment_attempt_record", die)
    with pytest.raises(WorkerDied):
        payment_charge_order(order_id=order.pk)
    attempt = order.payment_attempts.get()
    assert (attempt.status, attempt.gateway_payment_intent_id) == (PaymentAttemptStatus.PENDING, "")
    monkeypatch.setattr(payments, "payment_attempt_record", real_record)

    again = payment_charge_order(order_id=order.pk)

    assert again.pk == attempt.pk  # the same attempt, now known
    assert again.status == PaymentAttemptStatus.SUCCEEDED
    assert again.gateway_payment_intent_id.startswith("pi_")
    assert order.payment_attempts.count() == 1
    assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID


def test_a_task_delivered_twice_charges_once(localstripe) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer), customer=customer)

    first = charge_order.apply(args=[order.pk]).get()
    second = charge_order.apply(args=[order.pk]).get()

    assert (first, second) == (PaymentAttemptStatus.SUCCEEDED, None)
    assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1


def test_a_timeout_after_stripe_charged_leaves_the_attempt_unknown_until_reconciled(
    localstripe, monkeypatch
) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer), customer=customer)
    real_charge = StripeGateway.charge

    def charge_then_time_out(self, **kwargs):  # noqa: ANN001, ANN202
        real_charge(self, **kwargs)  # Stripe did the work…
        raise GatewayUnavailable("read timed out")  # …but the answer never came back

    monkeypatch.setattr(StripeGateway, "charge", charge_then_time_out)
    attempt = payment_charge_order(order_id=order.pk)
    assert attempt.status == PaymentAttemptStatus.UNKNOWN
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PROCESSING
    monkeypatch.setattr(StripeGateway, "charge", real_charge)

    reconciled = payment_charge_order(order_id=order.pk)

    assert (reconciled.pk, reconciled.status) == (attempt.pk, PaymentAttemptStatus.SUCCEEDED)
    assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1


def test_a_request_that_never_reached_stripe_is_closed_and_the_order_charged_with_a_new_attempt(
    localstripe, monkeypatch
) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer), customer=customer)
    real_charge = StripeGateway.charge

    def refuse(self, **kwargs):  # noqa: ANN001, ANN202
        raise GatewayUnavailable("connection refused")

    monkeypatch.setattr(StripeGateway, "charge", refuse)
    first = payment_charge_order(order_id=order.pk)
    monkeypatch.setattr(StripeGateway, "charge", real_charge)

    second = payment_charge_order(order_id=order.pk)

    first.refresh_from_db()
    assert (first.status, first.error_code) == (PaymentAttemptStatus.CANCELED, "not_received_by_gateway")
    assert (second.number, second.status) == (2, PaymentAttemptStatus.SUCCEEDED)
    assert second.idempotency_key.startswith(f"order-{order.pk}-attempt-2-")
    assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1


def test_while_stripe_is_unreachable_an_unknown_attempt_blocks_any_new_charge(
    localstripe, monkeypatch
) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer), customer=customer)

    def unreachable(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise GatewayUnavailable("down")

    monkeypatch.setattr(StripeGateway, "charge", unreachable)
    monkeypatch.setattr(StripeGateway, "payment_intents_find", unreachable)
    first = payment_charge_order(order_id=order.pk)

    again = payment_charge_order(order_id=order.pk)

    assert (again.pk, again.status) == (first.pk, PaymentAttemptStatus.UNKNOWN)
    assert order.payment_attempts.count() == 1
