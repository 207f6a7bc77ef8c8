"""What a customer may do to a subscription in each status: the one table the my page reads to show
an action and the services read to refuse it.

Names are the ones the pages and the API use. Staff and the system are not bound by this table:
they follow each service's own status check and the lifecycle's transitions. The shop's my-page
permission for each action and the change deadline apply on top (ShopPolicy, schedule.py).
"""

from __future__ import annotations

from .models import SubscriptionStatus

# The shop's my-page permission (a ShopPolicy flag) each action needs.
ACTION_PERMISSIONS: dict[str, str] = {
    "skip": "allow_skip",
    "unskip": "allow_skip",
    "change-date": "allow_change_date",
    "change-cycle": "allow_change_cycle",
    "time-slot": "allow_change_time_slot",
    "quantities": "allow_change_quantity",
    "address": "allow_change_address",
    "payment-method": "allow_change_payment",
    "points": "allow_points",
    "coupon-apply": "allow_coupon",
    "coupon-remove": "allow_coupon",
    "pause": "allow_pause",
    "resume": "allow_pause",
    "cancel": "allow_cancel",
    "restart": "allow_restart",
    "addon-add": "allow_addons",
    "addon-change": "allow_addons",
    "addon-remove": "allow_addons",
}

# What each status lets a customer do. A paused subscription may be resumed, cancelled, or have its
# address, card and points set for when it comes back; a suspended one (the shop's or dunning's
# decision) only gets a new card or address, or is cancelled; only the shop lifts a suspension.
CUSTOMER_ACTIONS: dict[str, frozenset[str]] = {
    SubscriptionStatus.ACTIVE: frozenset(ACTION_PERMISSIONS) - {"resume", "restart"},
    SubscriptionStatus.PAUSED: frozenset({"resume", "cancel", "address", "payment-method", "points"}),
    SubscriptionStatus.SUSPENDED: frozenset({"payment-method", "address", "cancel"}),
    SubscriptionStatus.CANCELLED: frozenset({"restart"}),
}

# Actions refused to a customer after the change deadline of the next delivery. Changing the card
# is always allowed (a failed card must be replaceable); cancelling only while active.
DEADLINE_ACTIONS = frozenset(
    {
        "skip",
        "change-date",
        "change-cycle",
        "time-slot",
        "quantities",
        "address",
        "points",
        "coupon-apply",
        "coupon-remove",
        "pause",
        "addon-add",
        "addon-change",
        "addon-remove",
    }
)


def customer_may(action: str, status: str) -> bool:
    """Whether a subscription in `status` offers `action` to its customer (before permissions)."""
    return action in CUSTOMER_ACTIONS.get(status, frozenset())


def needs_deadline(action: str, status: str) -> bool:
    """Whether a customer may take `action` only before the next delivery's change deadline."""
    if action == "cancel":
        return status == SubscriptionStatus.ACTIVE
    return action in DEADLINE_ACTIONS
