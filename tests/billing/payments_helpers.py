"""Helpers for the payment tests: the customer's browser (Stripe.js) and orders ready to charge."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any

import stripe

from billing.models import PaymentKind, PaymentMethod
from billing.services.payments import payment_method_save, payment_method_setup_intent
from customers.models import Customer
from orders.models import Order
from tests.factories import CustomerFactory, SubscriptionFactory
from tests.stripe_server import PUBLISHABLE_KEY, WEBHOOK_SECRET, LocalStripe

VISA = "4242424242424242"
DECLINES_ON_CHARGE = "4000000000000341"
DECLINED_AT_ATTACH = "4000000000000002"
NEEDS_AUTHENTICATION = "4000002500003155"


def browser_confirms_card(localstripe: LocalStripe, client_secret: str, number: str) -> str:
    """What Stripe.js does in the customer's browser: the card number goes to Stripe, never to us."""
    client = localstripe.client()
    pm = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
    )
    setup_intent_id = client_secret.split("_secret_")[0]
    # A declined card: the browser shows Stripe's error and the test goes on to our side.
    with contextlib.suppress(stripe.StripeError):
        client.v1.setup_intents.confirm(setup_intent_id, params={"payment_method": pm.id})
    return pm.id


def save_card(localstripe: LocalStripe, customer: Customer, number: str = VISA) -> PaymentMethod:
    intent = payment_method_setup_intent(customer=customer)
    pm_id = browser_confirms_card(localstripe, intent["client_secret"], number)
    return payment_method_save(customer=customer, stripe_payment_method_id=pm_id)


def make_order(
    *,
    customer: Customer | None = None,
    method: PaymentMethod | None = None,
    total: int = 3980,
    kind: str = PaymentKind.CARD,
    subscription: Any = None,
    sequence: int = 2,
    **fields: Any,
) -> Order:
    """A child order as generation leaves it: NEW, unpaid, with the subscription's payment method."""
    if subscription is None:
        subscription = SubscriptionFactory(customer=customer or CustomerFactory(), payment_method=method)
    customer = subscription.customer
    defaults = {
        "customer": customer,
        "subscription": subscription,
        "sequence": sequence,
        "creation_date": dt.date(2027, 2, 20),
        "delivery_date": dt.date(2027, 2, 28),
        "ship_name": customer.name,
        "ship_postal_code": "100-0001",
        "ship_prefecture": "東京都",
        "ship_city": "千代田区",
        "ship_line1": "千代田1-1",
        "payment_method": method,
        "payment_kind": kind,
        "items_subtotal": total,
        "total": total,
    }
    defaults.update(fields)
    return Order.objects.create(**defaults)


def charges_for(localstripe: LocalStripe, stripe_customer_id: str) -> list[Any]:
    """Succeeded charges on the Stripe side: the proof of 'charged at most once'."""
    client = localstripe.client()
    charges = client.v1.charges.list(params={"customer": stripe_customer_id, "limit": 100})
    return [c for c in charges.data if c.status == "succeeded"]


def signed_webhook(
    event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, str]:
    """A payload and Stripe-Signature header built exactly as Stripe builds them."""
    payload = json.dumps(event).encode()
    timestamp = timestamp or int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


__all__ = ["PUBLISHABLE_KEY"]
