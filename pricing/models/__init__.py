"""What an order costs: coupons, the points ledger, the shop's pricing policy and shipping fees.

The tables keep the names they had in billing (`db_table`), so the move changed no data.
"""

from .coupons import Coupon, CouponAppliesTo, CouponRedemption, DiscountKind
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
    "PointAccount",
    "PointEntry",
    "PointKind",
    "PointsExpiry",
    "PrefectureShippingFee",
    "TaxRounding",
]
