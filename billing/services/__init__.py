"""Billing services, one module per concern: payments, dunning (payments side), coupons, points.

Import from the submodule (`from billing.services.payments import payment_charge_order`).
"""
