"""Billing's tables written in bulk (one COPY per table on PostgreSQL).

payment_methods_bulk_create is the set-based version of saving a payment method, for imports: the
card was verified against the gateway by the caller (or the method is offline), so no gateway call
is made here.
"""

from __future__ import annotations

from core.copy import insert_rows

from .models import PaymentMethod

PAYMENT_METHOD_FIELDS = (
    "customer_id",
    "kind",
    "stripe_payment_method_id",
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "is_default",
    "is_active",
)


def payment_methods_bulk_create(*, methods: list[dict]) -> list[int]:
    """Create one payment method per dict (PAYMENT_METHOD_FIELDS); their ids in order."""
    for method in methods:
        unknown = set(method) - set(PAYMENT_METHOD_FIELDS)
        if unknown:
            raise ValueError(f"payment_methods_bulk_create: unknown fields {sorted(unknown)}")
    return insert_rows(
        PaymentMethod,
        [{**m, "brand": (m.get("brand") or "")[:20], "last4": (m.get("last4") or "")[:4]} for m in methods],
    )
