"""Payment gateways: Stripe for cards, offline methods for bank transfer, konbini and COD."""

from __future__ import annotations

from .base import (
    CardDetails,
    ChargeResult,
    ChargeStatus,
    GatewayError,
    GatewayUnavailable,
    PaymentGateway,
    RefundResult,
    SetupIntentResult,
)
from .stripe import StripeGateway


def get_gateway() -> PaymentGateway:
    """The card gateway configured by settings (STRIPE_SECRET_KEY, STRIPE_API_BASE)."""
    return StripeGateway.from_settings()


__all__ = [
    "CardDetails",
    "ChargeResult",
    "ChargeStatus",
    "GatewayError",
    "GatewayUnavailable",
    "PaymentGateway",
    "RefundResult",
    "SetupIntentResult",
    "get_gateway",
]
