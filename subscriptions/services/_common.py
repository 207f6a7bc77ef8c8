"""What every subscription service shares: locking, permission and deadline checks, the timeline.

Each service follows the same shape: lock the row (select_for_update inside transaction.atomic),
check who may do what, change the fields, recompute next_* when the schedule moved, save with
update_fields and write exactly one SubscriptionEvent with the values before and after.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from core.errors import Conflict, DomainError, Forbidden, NotFound
from core.formats import format_short_date

from ..actions import customer_may
from ..actors import Actor
from ..models import ShopPolicy, Subscription, SubscriptionEvent, SubscriptionStatus
from ..schedule import compute_next
from ..selectors import change_deadline

# The fields that describe where a subscription's schedule stands; recompute rewrites the last three.
SCHEDULE_FIELDS = (
    "anchor_date",
    "anchor_sequence",
    "skipped_sequences",
    "next_sequence",
    "next_delivery_date",
    "next_creation_date",
)
NEXT_FIELDS = ["next_sequence", "next_delivery_date", "next_creation_date"]

OPEN_STATUSES = frozenset(
    {SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED, SubscriptionStatus.SUSPENDED}
)


class EventKind(StrEnum):
    """SubscriptionEvent.kind values written by these services (other apps add their own)."""

    CREATED = "created"
    SKIPPED = "skipped"
    UNSKIPPED = "unskipped"
    NEXT_DATE_CHANGED = "next_date_changed"
    CYCLE_CHANGED = "cycle_changed"
    TIME_SLOT_CHANGED = "time_slot_changed"
    ITEMS_CHANGED = "items_changed"
    ADDRESS_CHANGED = "address_changed"
    PAYMENT_METHOD_CHANGED = "payment_method_changed"
    POINTS_RESERVATION_CHANGED = "points_reservation_changed"
    COUPON_CHANGED = "coupon_changed"
    PAUSED = "paused"
    RESUMED = "resumed"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    RESTARTED = "restarted"
    ATTENTION_ADDED = "attention_added"
    ATTENTION_CLEARED = "attention_cleared"
    CYCLE_GIVEN_BACK = "cycle_given_back"
    ADDON_ADDED = "addon_added"
    ADDON_CHANGED = "addon_changed"
    ADDON_REMOVED = "addon_removed"


def json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value)
    return value


def snapshot(subscription: Subscription, fields: Iterable[str]) -> dict[str, Any]:
    """JSON-ready values of `fields` (foreign keys as `<name>_id`)."""
    return {field: json_value(getattr(subscription, field)) for field in fields}


def lock_subscription(subscription_id: int, actor: Actor) -> Subscription:
    """The subscription row, locked until the transaction ends. Call inside transaction.atomic.

    A customer only ever sees their own subscriptions: another's is "not found", not "forbidden".
    """
    # of=("self",): lock only the subscription row, not the customer joined in for the owner check.
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer", "course")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None or (actor.is_customer and subscription.customer.user_id != actor.user_id):
        raise NotFound("subscription_not_found", _("定期購入が見つかりません。"))
    return subscription


def require_status(subscription: Subscription, allowed: Iterable[str]) -> None:
    if subscription.status not in allowed:
        raise Conflict(
            "invalid_status",
            _("現在の状態（%(status)s）ではこの操作はできません。")
            % {"status": subscription.get_status_display()},
        )


def require_customer_action(subscription: Subscription, actor: Actor, action: str) -> None:
    """Customers may take `action` only where the status offers it (actions.CUSTOMER_ACTIONS, the
    table the my page shows); staff and the system only need the service's own status check."""
    if actor.is_customer and not customer_may(action, subscription.status):
        raise Conflict(
            "invalid_status",
            _("現在の状態（%(status)s）ではこの操作はできません。")
            % {"status": subscription.get_status_display()},
        )


def require_permission(actor: Actor, policy: ShopPolicy, flag: str | None) -> None:
    """Customers need the shop's my-page permission `flag`; None means customers may never do it."""
    if not actor.is_customer:
        return
    if flag is None or not getattr(policy, flag):
        raise Forbidden(
            "not_allowed", _("この操作はマイページからは行えません。ショップへお問い合わせください。")
        )


def require_before_deadline(
    subscription: Subscription, actor: Actor, policy: ShopPolicy, today: date
) -> None:
    """Customers change the next delivery only until its deadline; admins and the system always may."""
    if not actor.is_customer:
        return
    deadline = change_deadline(subscription, policy)
    if deadline is not None and today > deadline:
        raise DomainError(
            "deadline_passed",
            _("次回（%(delivery)sお届け）の変更締切（%(deadline)s）を過ぎています。")
            % {
                "delivery": format_short_date(subscription.next_delivery_date),
                "deadline": format_short_date(deadline),
            },
        )


def recompute_next(subscription: Subscription, policy: ShopPolicy) -> None:
    """Set next_* from the anchor, the skips and next_sequence (in memory; the caller saves)."""
    nxt = compute_next(
        subscription.cycle,
        anchor_date=subscription.anchor_date,
        anchor_sequence=subscription.anchor_sequence,
        from_sequence=subscription.next_sequence,
        skipped=subscription.skipped,
        calendar=policy.business_calendar(),
        lead_days=policy.lead_days,
    )
    subscription.next_sequence = nxt.sequence
    subscription.next_delivery_date = nxt.delivery_date
    subscription.next_creation_date = nxt.creation_date


def write_event(
    subscription: Subscription,
    *,
    actor: Actor,
    kind: str,
    before: dict[str, Any],
    after: dict[str, Any],
    note: str = "",
) -> SubscriptionEvent:
    return SubscriptionEvent.objects.create(
        subscription=subscription,
        actor_kind=actor.kind,
        actor_id=actor.user_id,
        kind=str(kind),
        before=before,
        after=after,
        note=note,
    )


def save_with_event(
    subscription: Subscription,
    *,
    actor: Actor,
    kind: str,
    fields: list[str],
    before: dict[str, Any],
    note: str = "",
    extra_after: dict[str, Any] | None = None,
) -> Subscription:
    """Save `fields` and write the one event; `before` must be the snapshot of the same fields."""
    subscription.save(update_fields=[*fields, "updated_at"])
    after = snapshot(subscription, before.keys())
    if extra_after:
        after.update(extra_after)
    write_event(subscription, actor=actor, kind=kind, before=before, after=after, note=note)
    return subscription
