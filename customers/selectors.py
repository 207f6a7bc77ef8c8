"""Reads about customers that several callers need (my page, its API, storefront)."""

from __future__ import annotations

from typing import Any

from .models import Address, Customer


def customer_for_user(user: Any) -> Customer | None:
    """The customer profile of a signed-in user; None for anonymous users and staff without one."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.customer
    except Customer.DoesNotExist:
        return None


def address_list(*, customer_id: int) -> list[Address]:
    """The customer's address book, in the model's order."""
    return list(Address.objects.filter(customer_id=customer_id))
