"""Reads about payment methods that several callers need (my page, its API)."""

from __future__ import annotations

from .models import PaymentMethod


def payment_method_list(*, customer_id: int, active_only: bool = False) -> list[PaymentMethod]:
    """The customer's payment methods (only the usable ones with `active_only`), in the model's order."""
    methods = PaymentMethod.objects.filter(customer_id=customer_id)
    return list(methods.filter(is_active=True) if active_only else methods)
