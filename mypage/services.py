"""Writes the my page needs that no domain app offers in this shape.

Card storage is billing's (h4's payments service); these wrappers only adapt its answers to
what the page's JavaScript and forms need. Addresses and the sign-up profile live here until a
customers service owns them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from customers.models import Address, Customer


def customer_create_for_user(*, user: Any) -> Customer:
    """The customer profile of a newly signed-up user (idempotent: a second call returns it)."""
    try:
        from customers.services import customer_create
    except ImportError:
        customer_create = None
    existing = Customer.objects.filter(user=user).first()
    if existing is not None:
        return existing
    name = (user.email or user.get_username()).split("@")[0][:100]
    if customer_create is not None:
        return customer_create(user=user, name=name)
    return Customer.objects.create(user=user, name=name)


def address_create(*, customer: Customer, data: dict[str, Any]) -> Address:
    """Add an address to the customer's book; the first one becomes the default."""
    with transaction.atomic():
        # Lock the customer so two concurrent first addresses cannot both become the default.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        is_first = not Address.objects.filter(customer=customer).exists()
        return Address.objects.create(customer=customer, is_default=is_first, **data)


def card_setup_intent(*, customer: Customer) -> str:
    """The client secret of a new SetupIntent for the customer."""
    from billing.services.payments import payment_method_setup_intent

    intent = payment_method_setup_intent(customer=customer)
    if isinstance(intent, str):
        return intent
    if isinstance(intent, dict):
        return intent["client_secret"]
    return intent.client_secret


def card_save(*, customer: Customer, stripe_payment_method_id: str) -> Any:
    """Store the card the customer confirmed with Stripe Elements; returns the PaymentMethod."""
    from billing.services.payments import payment_method_save

    return payment_method_save(customer=customer, stripe_payment_method_id=stripe_payment_method_id)
