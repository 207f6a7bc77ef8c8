"""Stripe webhooks at /billing/stripe/webhook/: signed payloads, duplicates, any arrival order."""

from __future__ import annotations

import random

import pytest

from billing.models import PaymentAttemptStatus, PaymentMethod, WebhookEvent
from billing.services import payments
from billing.services.payments import payment_charge_order
from orders.models import OrderStatus, PaymentStatus
from tests.billing.payments_helpers import NEEDS_AUTHENTICATION, make_order, save_card, signed_webhook
from tests.factories import CustomerFactory

URL = "/billing/stripe/webhook/"
pytestmark = [pytest.mark.usefixtures("stripe_settings"), pytest.mark.django_db]


def _event(event_id: str, kind: str, obj: dict) -> dict:
    return {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}, "created": 1800000000}


def _post(client, event: dict, **kwargs):  # noqa: ANN001, ANN003, ANN202
    payload, signature = signed_webhook(event, **kwargs)
    return client.post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def _pi_object(localstripe, pi_id: str) -> dict:  # noqa: ANN001
    return localstripe.client().v1.payment_intents.retrieve(pi_id).to_dict()


def test_a_bad_signature_gets_400_and_changes_nothing(client, localstripe) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    method = save_card(localstripe, customer)
    event = _event(
        "evt_bad",
        "payment_method.detached",
        {"id": method.stripe_payment_method_id, "object": "payment_method"},
    )

    forged = _post(client, event, secret="whsec_not_ours")
    unsigned = client.post(URL, data=b"{}", content_type="application/json")

    assert (forged.status_code, unsigned.status_code) == (400, 400)
    assert forged.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    method.refresh_from_db()
    assert method.is_active


def test_an_event_delivered_twice_is_handled_once(client, localstripe) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    method = save_card(localstripe, customer)
    event = _event(
        "evt_twice",
        "payment_method.detached",
        {"id": method.stripe_payment_method_id, "object": "payment_method"},
    )

    first = _post(client, event)
    second = _post(client, event)

    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert WebhookEvent.objects.filter(event_id="evt_twice").count() == 1
    method.refresh_from_db()
    assert not method.is_active


def test_a_lost_charge_result_is_recovered_from_the_succeeded_event(client, localstripe, monkeypatch) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer), customer=customer)

    def die(**kwargs: object) -> None:
        raise RuntimeError("worker died")

    real = payments.payment_attempt_record
    monkeypatch.setattr(payments, "payment_attempt_record", die)
    with pytest.raises(RuntimeError):
        payment_charge_order(order_id=order.pk)
    monkeypatch.setattr(payments, "payment_attempt_record", real)
    pi = localstripe.client().v1.payment_intents.list(params={"limit": 100}).data[-1]
    assert pi.metadata["order_id"] == str(order.pk)

    response = _post(client, _event("evt_lost", "payment_intent.succeeded", _pi_object(localstripe, pi.id)))

    assert response.status_code == 200
    attempt = order.payment_attempts.get()
    order.refresh_from_db()
    assert (attempt.status, attempt.gateway_payment_intent_id) == (PaymentAttemptStatus.SUCCEEDED, pi.id)
    assert order.payment_status == PaymentStatus.PAID


@pytest.mark.parametrize("seed", range(4))
def test_events_in_any_order_leave_the_same_result(client, localstripe, seed) -> None:  # noqa: ANN001
    """A 3-D Secure payment that the customer completed, then a partial refund from the dashboard,
    a new card saved through Elements and an old card detached: every shuffle ends the same way."""
    customer = CustomerFactory()
    old_card = save_card(localstripe, customer)
    order = make_order(method=save_card(localstripe, customer, NEEDS_AUTHENTICATION), customer=customer)
    attempt = payment_charge_order(order_id=order.pk)
    pi_id = attempt.gateway_payment_intent_id
    requires_action = _pi_object(localstripe, pi_id)
    secret = requires_action["client_secret"]
    stripe_client = localstripe.client()
    stripe_client.raw_request(
        "post",
        f"/v1/payment_intents/{pi_id}/_authenticate",
        client_secret=secret,
        success="true",
        key="pk_test_1",
    )
    succeeded = _pi_object(localstripe, pi_id)
    refund = stripe_client.v1.refunds.create(params={"payment_intent": pi_id, "amount": 1000})
    charge = stripe_client.v1.charges.retrieve(refund.charge).to_dict()
    new_pm = stripe_client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 3, "exp_year": 2033, "cvc": "123"},
        }
    )
    stripe_client.v1.payment_methods.attach(new_pm.id, params={"customer": customer.stripe_customer_id})
    stripe_client.v1.payment_methods.detach(old_card.stripe_payment_method_id)
    events = [
        _event(f"evt_{seed}_1", "payment_intent.requires_action", requires_action),
        _event(f"evt_{seed}_2", "payment_intent.succeeded", succeeded),
        _event(f"evt_{seed}_3", "charge.refunded", charge),
        _event(
            f"evt_{seed}_4",
            "setup_intent.succeeded",
            {
                "id": "seti_x",
                "object": "setup_intent",
                "customer": customer.stripe_customer_id,
                "payment_method": new_pm.id,
            },
        ),
        _event(f"evt_{seed}_5", "payment_method.detached", {"id": old_card.stripe_payment_method_id}),
    ]
    random.Random(seed).shuffle(events)
    events.append(events[0])  # and one redelivery

    statuses = [_post(client, event).status_code for event in events]

    assert statuses == [200] * 6
    attempt.refresh_from_db()
    order.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == (PaymentAttemptStatus.SUCCEEDED, 1000)
    assert (order.payment_status, order.status) == (PaymentStatus.PARTIALLY_REFUNDED, OrderStatus.READY)
    cards = dict(
        PaymentMethod.objects.filter(customer=customer).values_list("stripe_payment_method_id", "is_active")
    )
    assert cards[new_pm.id] is True
    assert cards[old_card.stripe_payment_method_id] is False
    assert WebhookEvent.objects.filter(event_id__startswith=f"evt_{seed}_").count() == 5
