"""Billing models, one module per concern so payments and pricing can grow apart."""

from .coupons import Coupon, CouponAppliesTo, CouponRedemption, DiscountKind
from .dunning import DunningCase, DunningReason, DunningRule, DunningStatus, FinalAction, PaymentPolicy
from .payments import (
    CaptureMethod,
    PaymentAttempt,
    PaymentAttemptStatus,
    PaymentKind,
    PaymentMethod,
    PaymentRefund,
    WebhookEvent,
)
from .points import PointAccount, PointEntry, PointKind
from .settings import BillingPolicy, PointsExpiry, TaxRounding
from .shipping import CodFee, PrefectureShippingFee

__all__ = [
    "BillingPolicy",
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
    "CodFee",
    "Coupon",
    "CouponAppliesTo",
    "CouponRedemption",
    "DiscountKind",
    "PaymentKind",
    "PaymentMethod",
    "PointAccount",
    "PointEntry",
    "PointKind",
    "PointsExpiry",
    "PrefectureShippingFee",
    "TaxRounding",
]
