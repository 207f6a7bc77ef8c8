"""Writes the my page needs that no domain app offers in this shape.

Card storage is billing's and addresses are customers'; these wrappers only adapt their answers
to what the page's JavaScript and forms need; the sign-up profile is customers' too.
"""

from __future__ import annotations

from typing import Any

from billing.services.payment_methods import payment_method_save, payment_method_setup_intent
from customers import services as customers_services
from customers.models import Address, Customer


def customer_create_for_user(*, user: Any) -> Customer:
    """The customer profile of a user allauth has just signed up (customers' service, idempotent)."""
    return customers_services.customer_create_for_user(user=user)


def address_create(*, customer: Customer, data: dict[str, Any]) -> Address:
    """Add an address to the customer's book (customers' service validates and sets the default)."""
    return customers_services.address_create(customer=customer, **data)


def card_setup_intent(*, customer: Customer) -> dict[str, str]:
    """A new SetupIntent for the customer: its client secret and the publishable key for Stripe.js."""
    intent = payment_method_setup_intent(customer=customer)
    return {"client_secret": intent["client_secret"], "publishable_key": intent.get("publishable_key", "")}


def card_save(*, customer: Customer, stripe_payment_method_id: str) -> Any:
    """Store the card the customer confirmed with Stripe Elements; returns the PaymentMethod."""
    return payment_method_save(customer=customer, stripe_payment_method_id=stripe_payment_method_id)
