"""Billing models, one module per concern so payments and pricing can grow apart."""

from .coupons import Coupon, CouponAppliesTo, DiscountKind
from .payments import PaymentKind, PaymentMethod

__all__ = ["Coupon", "CouponAppliesTo", "DiscountKind", "PaymentKind", "PaymentMethod"]
