"""run_nightly charges what it created; its JSON line says how many were charged and how many failed."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import PaymentAttempt
from orders.models import Order, PaymentStatus
from tests.billing.payments_helpers import DECLINES_ON_CHARGE, VISA, charges_for, save_card
from tests.factories import CustomerFactory, SubscriptionFactory

pytestmark = [pytest.mark.usefixtures("stripe_settings"), pytest.mark.django_db]


def _run(*args: str) -> dict:
    out = StringIO()
    call_command("run_nightly", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _subscriber(localstripe, number: str):  # noqa: ANN001, ANN202
    customer = CustomerFactory()
    return SubscriptionFactory(customer=customer, payment_method=save_card(localstripe, customer, number))


def test_the_nightly_run_charges_the_orders_it_created(localstripe) -> None:  # noqa: ANN001
    good = _subscriber(localstripe, VISA)
    bad = _subscriber(localstripe, DECLINES_ON_CHARGE)
    run_date = good.next_creation_date

    counters = _run("--date", run_date.isoformat())

    assert (counters["orders_created"], counters["charged"], counters["payment_failed"]) == (2, 1, 1)
    paid = Order.objects.get(subscription=good)
    failed = Order.objects.get(subscription=bad)
    assert (paid.payment_status, failed.payment_status) == (PaymentStatus.PAID, PaymentStatus.FAILED)
    assert len(charges_for(localstripe, good.customer.stripe_customer_id)) == 1


def test_a_dry_run_charges_nothing_at_stripe(localstripe) -> None:  # noqa: ANN001
    subscription = _subscriber(localstripe, VISA)

    counters = _run("--date", subscription.next_creation_date.isoformat(), "--dry-run")

    assert (counters["orders_created"], counters["charged"], counters["to_charge"]) == (1, 0, 1)
    assert not PaymentAttempt.objects.exists()
    assert charges_for(localstripe, subscription.customer.stripe_customer_id) == []
