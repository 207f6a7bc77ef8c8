"""Keys that cannot collide: after a restored backup the same order ids come back, and neither
Stripe's idempotency layer nor reconciliation by metadata may take the lost timeline's charge for a
new order's (README, "Payments")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection, connections

from billing.gateways.stripe import StripeGateway
from billing.models import PaymentAttemptStatus
from billing.services.payments import idempotency_key, payment_charge_order
from orders.models import PaymentStatus
from tests.billing.payments_helpers import make_order, save_card
from tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.django_db(transaction=True),
]


class WorkerDied(Exception):
    """Stands for a worker killed after its attempt row committed, before it called Stripe."""


def _pg_args() -> list[str]:
    db = connection.settings_dict
    return ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]


def _payment_intents(localstripe, order_id: int) -> list:  # noqa: ANN001
    client = localstripe.client()
    return [
        pi
        for pi in client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
        if pi.to_dict().get("metadata", {}).get("order_id") == str(order_id)
    ]


def test_the_same_order_id_after_a_restored_backup_is_charged_on_its_own_key(
    localstripe, monkeypatch, tmp_path: Path
) -> None:  # noqa: ANN001
    # given a customer with a saved card, and a dump of the shop taken then
    customer = CustomerFactory()
    card = save_card(localstripe, customer)
    dump = tmp_path / "shop.dump"
    name = connection.settings_dict["NAME"]
    subprocess.run(["pg_dump", *_pg_args(), "-Fc", "-f", str(dump), name], check=True, env=os.environ)

    # and an order charged after the dump (¥3,980 at Stripe)
    lost = make_order(customer=customer, method=card, total=3980)
    lost_attempt = payment_charge_order(order_id=lost.pk)
    assert lost_attempt.status == PaymentAttemptStatus.SUCCEEDED

    # when the database is restored from the dump, and the same order id comes back for another order
    connections.close_all()
    subprocess.run(
        ["pg_restore", *_pg_args(), "--clean", "--if-exists", "--no-owner", "-d", name, str(dump)],
        check=True,
        env=os.environ,
    )
    order = make_order(customer=customer, method=card, total=1980)
    assert order.pk == lost.pk

    # and its first charge dies after the attempt row committed, before Stripe was called
    def die(self, **kwargs):  # noqa: ANN001, ANN003, ANN202
        raise WorkerDied

    with monkeypatch.context() as patch:
        patch.setattr(StripeGateway, "charge", die)
        with pytest.raises(WorkerDied):
            payment_charge_order(order_id=order.pk)
    orphan = order.payment_attempts.get()
    assert orphan.idempotency_key != lost_attempt.idempotency_key

    # then reconciliation does not take the lost timeline's PaymentIntent for it: it charges ¥1,980
    attempt = payment_charge_order(order_id=order.pk)
    assert attempt.status == PaymentAttemptStatus.SUCCEEDED
    assert attempt.gateway_payment_intent_id != lost_attempt.gateway_payment_intent_id
    charged = {pi.id: pi.amount for pi in _payment_intents(localstripe, order.pk) if pi.status == "succeeded"}
    assert charged == {lost_attempt.gateway_payment_intent_id: 3980, attempt.gateway_payment_intent_id: 1980}
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID


def test_every_attempt_key_is_its_own_even_for_the_same_order_and_number() -> None:
    first, second = idempotency_key(7, 1), idempotency_key(7, 1)
    assert first.startswith("order-7-attempt-1-") and second.startswith("order-7-attempt-1-")
    assert first != second
    # the refund key (`<key>-refund-<n>`) still fits the 80-character column for any bigint id
    assert len(idempotency_key(2**63 - 1, 99_999) + "-refund-999") <= 80
