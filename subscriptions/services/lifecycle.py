"""Status changes (pause, resume, suspend, cancel, restart), attention flags and the cycle counter.

Allowed status moves, in one table:
    active    -> paused, suspended, cancelled
    paused    -> active (resume/restart), suspended, cancelled
    suspended -> active (restart), cancelled
    cancelled -> active (restart)
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.formats import format_date, format_short_date

from ..actors import Actor
from ..models import AttentionReason, CancelReason, ShopPolicy, Subscription, SubscriptionStatus
from ..selectors import today_in_shop
from ._common import (
    NEXT_FIELDS,
    EventKind,
    lock_subscription,
    require_before_deadline,
    require_customer_action,
    require_permission,
    require_status,
    save_with_event,
    snapshot,
)
from .addons import drop_pending_addons
from .dates import move_to_first_reachable

S = SubscriptionStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.ACTIVE: frozenset({S.PAUSED, S.SUSPENDED, S.CANCELLED}),
    S.PAUSED: frozenset({S.ACTIVE, S.SUSPENDED, S.CANCELLED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.CANCELLED}),
    S.CANCELLED: frozenset({S.ACTIVE}),
}


# Timeline notes for the shop, kept in Japanese like the nightly run's.
_ADDONS_DROPPED_ON_PAUSE = "休止のため、次回のついで買いを取り消しました。"
_ADDONS_DROPPED_ON_CANCEL = "解約のため、次回のついで買いを取り消しました。"


def _require_transition(subscription: Subscription, target: str) -> None:
    require_status(subscription, {s for s, targets in TRANSITIONS.items() if target in targets})


def subscription_pause(*, subscription_id: int, resume_on: date | None = None, actor: Actor) -> Subscription:
    """Pause (休止): no orders are created until resumed (by hand, or by the scheduler on resume_on)."""
    policy = ShopPolicy.current()
    today = today_in_shop()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        require_status(subscription, {S.ACTIVE})
        require_permission(actor, policy, "allow_pause")
        require_before_deadline(subscription, actor, policy, today)
        if resume_on is not None and resume_on <= today:
            raise DomainError(
                "invalid_resume_date", _("再開予定日は明日以降の日付をお選びください。"), field="resume_on"
            )
        if resume_on is not None and resume_on > policy.latest_resume_on(today):
            raise DomainError(
                "resume_date_too_far",
                _("再開予定日は %(latest)s までの日付をお選びください（休止は最長 %(days)s 日）。")
                % {"latest": format_date(policy.latest_resume_on(today)), "days": policy.pause_max_days},
                field="resume_on",
            )
        before = snapshot(subscription, ["status", "paused_until"])
        subscription.status = S.PAUSED
        subscription.paused_until = resume_on
        drop_pending_addons(subscription, actor=actor, note=_ADDONS_DROPPED_ON_PAUSE)
        return save_with_event(
            subscription, actor=actor, kind=EventKind.PAUSED, fields=["status", "paused_until"], before=before
        )


def _reactivate(
    subscription_id: int,
    actor: Actor,
    today: date | None,
    *,
    kind: str,
    action: str,
    from_statuses: set[str],
    flag: str,
) -> Subscription:
    """Back to active without catch-up: past, unmet dates are jumped over, never ordered late."""
    policy = ShopPolicy.current()
    today = today or today_in_shop()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        require_status(subscription, from_statuses)
        require_permission(actor, policy, flag)
        if actor.is_customer and subscription.status == S.SUSPENDED:
            # A suspension is the shop's (or dunning's) decision; only the shop lifts it.
            raise DomainError(
                "not_allowed", _("この定期購入の再開はショップへお問い合わせください。"), status=403
            )
        require_customer_action(subscription, actor, action)
        fields = [
            "status",
            "paused_until",
            "suspended_reason",
            "cancelled_at",
            "cancel_reason",
            "cancel_note",
        ]
        before = snapshot(subscription, [*fields, *NEXT_FIELDS])
        old_delivery = subscription.next_delivery_date
        subscription.status = S.ACTIVE
        subscription.paused_until = None
        subscription.suspended_reason = ""
        subscription.cancelled_at = None
        subscription.cancel_reason = ""
        subscription.cancel_note = ""
        moved = move_to_first_reachable(subscription, policy, today)
        note = ""
        if moved:
            # A note for the shop's timeline: in the shop's language, whoever resumed.
            with translation.override(settings.LANGUAGE_CODE):
                note = _(
                    "次回お届け日を%(old)sから%(new)sに変更しました（過ぎた日のお届けは作成しません）。"
                ) % {
                    "old": format_short_date(old_delivery),
                    "new": format_short_date(subscription.next_delivery_date),
                }
        return save_with_event(
            subscription,
            actor=actor,
            kind=kind,
            fields=[*fields, *NEXT_FIELDS],
            before=before,
            note=note,
            extra_after={"date_moved": moved},
        )


def subscription_resume(*, subscription_id: int, actor: Actor, today: date | None = None) -> Subscription:
    """Resume a paused subscription; the next delivery is the first schedule date still reachable."""
    return _reactivate(
        subscription_id,
        actor,
        today,
        kind=EventKind.RESUMED,
        action="resume",
        from_statuses={S.PAUSED},
        flag="allow_pause",
    )


def subscription_restart(*, subscription_id: int, actor: Actor, today: date | None = None) -> Subscription:
    """Restart from paused, suspended or cancelled (再開); same no-catch-up rule as resume."""
    return _reactivate(
        subscription_id,
        actor,
        today,
        kind=EventKind.RESTARTED,
        action="restart",
        from_statuses={S.PAUSED, S.SUSPENDED, S.CANCELLED},
        flag="allow_restart",
    )


def subscription_suspend(*, subscription_id: int, reason: str, actor: Actor) -> Subscription:
    """Suspend (停止) by the shop or by dunning; customers cannot."""
    policy = ShopPolicy.current()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        require_permission(actor, policy, None)
        _require_transition(subscription, S.SUSPENDED)
        before = snapshot(subscription, ["status", "suspended_reason"])
        subscription.status = S.SUSPENDED
        subscription.suspended_reason = reason[:200]
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.SUSPENDED,
            fields=["status", "suspended_reason"],
            before=before,
        )


def subscription_cancel(*, subscription_id: int, reason: str, note: str = "", actor: Actor) -> Subscription:
    """Cancel (解約) with a reason. Customers: only before the deadline and after min_deliveries."""
    if reason not in CancelReason.values:
        raise DomainError("reason_required", _("解約理由をお選びください。"), field="reason")
    policy = ShopPolicy.current()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        _require_transition(subscription, S.CANCELLED)
        require_permission(actor, policy, "allow_cancel")
        if actor.is_customer:
            minimum = subscription.course.min_deliveries
            if subscription.cycle_count < minimum:
                raise DomainError(
                    "min_deliveries",
                    _("このコースは%(min)d回以上のお受け取りが必要です（現在%(count)d回）。")
                    % {"min": minimum, "count": subscription.cycle_count},
                )
            if subscription.status == S.ACTIVE:
                require_before_deadline(subscription, actor, policy, today_in_shop())
        fields = ["status", "cancelled_at", "cancel_reason", "cancel_note"]
        before = snapshot(subscription, fields)
        subscription.status = S.CANCELLED
        subscription.cancelled_at = timezone.now()
        subscription.cancel_reason = reason
        subscription.cancel_note = note
        drop_pending_addons(subscription, actor=actor, note=_ADDONS_DROPPED_ON_CANCEL)
        return save_with_event(
            subscription, actor=actor, kind=EventKind.CANCELLED, fields=fields, before=before
        )


def subscription_add_attention(
    *, subscription_id: int, reason: str, actor: Actor, note: str = ""
) -> Subscription:
    """Flag the subscription as needing attention (要対応); its next order is created on hold.
    Adding a reason it already has changes nothing and writes no event."""
    return _change_attention(subscription_id, reason, actor, add=True, note=note)


def subscription_clear_attention(*, subscription_id: int, reason: str, actor: Actor) -> Subscription:
    return _change_attention(subscription_id, reason, actor, add=False)


def _change_attention(
    subscription_id: int, reason: str, actor: Actor, *, add: bool, note: str = ""
) -> Subscription:
    if reason not in AttentionReason.values:
        raise DomainError("invalid_reason", _("要対応理由が正しくありません。"), field="reason")
    policy = ShopPolicy.current()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        require_permission(actor, policy, None)
        current = list(subscription.needs_attention)
        if (reason in current) == add:
            return subscription
        before = snapshot(subscription, ["needs_attention"])
        subscription.needs_attention = [*current, reason] if add else [r for r in current if r != reason]
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.ATTENTION_ADDED if add else EventKind.ATTENTION_CLEARED,
            fields=["needs_attention"],
            before=before,
            note=note,
        )


def subscription_give_back_cycle(*, subscription_id: int, sequence: int, actor: Actor) -> Subscription:
    """A cancelled child order gives its 定期回数 back (never below 0); orders_created stays."""
    policy = ShopPolicy.current()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        require_permission(actor, policy, None)
        before = snapshot(subscription, ["cycle_count"])
        subscription.cycle_count = max(0, subscription.cycle_count - 1)
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.CYCLE_GIVEN_BACK,
            fields=["cycle_count"],
            before=before,
            extra_after={"sequence": sequence},
        )
