"""Pricing services, one module per concern: coupons, points.

Import from the submodule (`from pricing.services.coupons import coupon_apply_to_subscription`).
"""
