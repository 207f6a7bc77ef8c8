"""Billing models: payment methods, attempts, refunds, webhooks and dunning (pricing lives in pricing/)."""

from core.payment_kinds import PaymentKind

from .dunning import DunningCase, DunningReason, DunningRule, DunningStatus, FinalAction, PaymentPolicy
from .payments import (
    CaptureMethod,
    PaymentAttempt,
    PaymentAttemptStatus,
    PaymentMethod,
    PaymentRefund,
    WebhookEvent,
)

__all__ = [
    "CaptureMethod",
    "DunningCase",
    "DunningReason",
    "DunningRule",
    "DunningStatus",
    "FinalAction",
    "PaymentAttempt",
    "PaymentAttemptStatus",
    "PaymentPolicy",
    "PaymentRefund",
    "WebhookEvent",
    "PaymentKind",
    "PaymentMethod",
]
