"""Billing models, one module per concern so payments and pricing can grow apart."""

from .coupons import Coupon, CouponAppliesTo, CouponRedemption, DiscountKind
from .payments import PaymentKind, PaymentMethod
from .points import PointAccount, PointEntry, PointKind
from .settings import BillingPolicy, PointsExpiry, TaxRounding
from .shipping import CodFee, PrefectureShippingFee

__all__ = [
    "BillingPolicy",
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
