"""Every write to a subscription. Import from here: `from subscriptions.services import subscription_skip_next`."""

from ._common import EventKind
from .addons import subscription_add_addon, subscription_change_addon, subscription_remove_addon
from .dates import (
    cycle_or_error,
    subscription_change_cycle,
    subscription_change_next_date,
    subscription_create,
    subscription_recompute_next,
    subscription_record_order,
    subscription_skip_next,
    subscription_unskip,
)
from .details import (
    subscription_change_address,
    subscription_change_items,
    subscription_change_payment_method,
    subscription_change_time_slot,
    subscription_set_coupon,
    subscription_set_points_reservation,
)
from .lifecycle import (
    TRANSITIONS,
    subscription_add_attention,
    subscription_cancel,
    subscription_clear_attention,
    subscription_give_back_cycle,
    subscription_pause,
    subscription_restart,
    subscription_resume,
    subscription_suspend,
)

__all__ = [
    "TRANSITIONS",
    "EventKind",
    "cycle_or_error",
    "subscription_add_addon",
    "subscription_change_addon",
    "subscription_remove_addon",
    "subscription_add_attention",
    "subscription_cancel",
    "subscription_change_address",
    "subscription_change_cycle",
    "subscription_change_items",
    "subscription_change_next_date",
    "subscription_change_payment_method",
    "subscription_change_time_slot",
    "subscription_clear_attention",
    "subscription_create",
    "subscription_give_back_cycle",
    "subscription_pause",
    "subscription_recompute_next",
    "subscription_record_order",
    "subscription_restart",
    "subscription_resume",
    "subscription_set_coupon",
    "subscription_set_points_reservation",
    "subscription_skip_next",
    "subscription_suspend",
    "subscription_unskip",
]
