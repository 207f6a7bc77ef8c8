"""Services that create a subscription or move its schedule: skip, unskip, change date, change cycle.

Whatever moves, the schedule stays `(cycle, anchor_date, anchor_sequence)` plus skips: moving a date
re-anchors, it never stores a stepped date (see subscriptions.cycles.delivery_date).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from catalog.models import Course, Product
from core.errors import Conflict, DomainError, NotFound
from core.formats import format_short_date

from ..actors import Actor
from ..cycles import Cycle, CycleError, delivery_date, first_sequence_on_or_after
from ..models import CycleChangeMode, ShopPolicy, Subscription, SubscriptionItem, SubscriptionStatus, TimeSlot
from ..schedule import change_deadline_for, delivery_number
from ..selectors import course_allows_cycle, first_creation_date, today_in_shop
from ._common import (
    NEXT_FIELDS,
    OPEN_STATUSES,
    SCHEDULE_FIELDS,
    EventKind,
    lock_subscription,
    recompute_next,
    require_before_deadline,
    require_customer_action,
    require_permission,
    require_status,
    save_with_event,
    snapshot,
    write_event,
)

CYCLE_FIELDS = ("cycle_unit", "cycle_interval", "cycle_day_of_month", "cycle_nth_week", "cycle_weekday")


def subscription_recompute_next(
    subscription: Subscription, *, policy: ShopPolicy | None = None
) -> Subscription:
    """Set next_sequence/next_delivery_date/next_creation_date from the anchor and skips (not saved)."""
    recompute_next(subscription, policy or ShopPolicy.current())
    return subscription


def move_to_first_reachable(subscription: Subscription, policy: ShopPolicy, today: date) -> bool:
    """No catch-up: if the next delivery's order can no longer be created in time, move to the
    first schedule date whose creation date is today or later. True when the date moved.

    The sequences jumped over are never delivered; counters do not move (nothing was created).
    """
    recompute_next(subscription, policy)
    first = first_creation_date(policy, today)
    if subscription.next_creation_date >= first:
        return False
    earliest = policy.business_calendar().earliest_delivery(first, policy.lead_days)
    sequence, _day = first_sequence_on_or_after(
        subscription.cycle,
        anchor_date=subscription.anchor_date,
        anchor_sequence=subscription.anchor_sequence,
        earliest=earliest,
        min_sequence=subscription.next_sequence,
    )
    subscription.next_sequence = sequence
    recompute_next(subscription, policy)  # later dates are later, so a skip here stays reachable
    return True


def _set_cycle(subscription: Subscription, cycle: Cycle) -> None:
    subscription.cycle_unit = cycle.unit
    subscription.cycle_interval = cycle.interval
    subscription.cycle_day_of_month = cycle.day_of_month
    subscription.cycle_nth_week = cycle.nth_week
    subscription.cycle_weekday = cycle.weekday


def _keep_day_of_month(subscription: Subscription, cycle: Cycle, new_anchor: date) -> Cycle:
    """A month cycle keeps the customer's day of month across a re-anchor on a clamped date.

    Re-anchoring a "31st of the month" schedule on Feb 28 must not turn it into the 28th: when the
    new month cycle names no day, it inherits the old schedule's day (31 → Apr 30, not Apr 28).
    """
    if cycle.unit != "month" or cycle.day_of_month is not None or cycle.nth_week is not None:
        return cycle
    if subscription.cycle_unit != "month" or subscription.cycle_nth_week is not None:
        return cycle
    old_day = subscription.cycle_day_of_month or subscription.anchor_date.day
    if old_day == new_anchor.day:
        return cycle
    return replace(cycle, day_of_month=old_day)


def _drop_skips_from(subscription: Subscription, sequence: int) -> None:
    # Skips at or after a new anchor named dates of the old schedule; keep earlier ones as history.
    subscription.skipped_sequences = sorted(s for s in subscription.skipped if s < sequence)


def _creation_date(policy: ShopPolicy, delivery: date) -> date:
    return policy.business_calendar().creation_date(delivery, policy.lead_days)


def subscription_create(
    *,
    customer,
    course: Course,
    cycle: Cycle,
    first_delivery_date: date,
    items: list[tuple[Product, int]] | None = None,
    time_slot: str = "",
    address=None,
    payment_method=None,
    actor: Actor,
    source: str = "",
    utm: dict | None = None,
    coupon=None,
    remarks: str = "",
) -> Subscription:
    """Sign a customer up for a course; delivery 1 falls on `first_delivery_date` (the anchor).

    `coupon`: a pricing.Coupon the customer entered at checkout (already judged usable by pricing).
    """
    policy = ShopPolicy.current()
    if not course.is_active and actor.is_customer:
        raise DomainError("course_inactive", _("このコースは現在お申し込みを受け付けていません。"))
    if not course_allows_cycle(course, cycle):
        raise DomainError(
            "cycle_not_allowed", _("このコースではお選びの周期はご利用いただけません。"), field="cycle"
        )
    if time_slot not in TimeSlot.values:
        raise DomainError("invalid_time_slot", _("お届け時間帯が正しくありません。"), field="time_slot")
    if address is not None and address.customer_id != customer.pk:
        raise NotFound("address_not_found", _("お届け先が見つかりません。"))
    if payment_method is not None and (
        payment_method.customer_id != customer.pk or not payment_method.is_active
    ):
        raise NotFound("payment_method_not_found", _("お支払い方法が見つかりません。"))
    if actor.is_customer and _creation_date(policy, first_delivery_date) < today_in_shop():
        raise DomainError(
            "date_unreachable",
            _("%(date)sのお届けには間に合いません。") % {"date": format_short_date(first_delivery_date)},
            field="first_delivery_date",
        )
    if items is None:
        items = [(ci.product, ci.quantity) for ci in course.items.select_related("product")]
    if not items:
        raise DomainError("no_items", _("商品を1つ以上お選びください。"), field="items")
    utm = utm or {}
    with transaction.atomic():
        subscription = Subscription(
            customer=customer,
            course=course,
            anchor_date=first_delivery_date,
            anchor_sequence=1,
            next_sequence=1,
            delivery_time_slot=time_slot,
            shipping_address=address,
            payment_method=payment_method,
            source=source,
            utm_source=utm.get("source", ""),
            utm_medium=utm.get("medium", ""),
            utm_campaign=utm.get("campaign", ""),
            coupon=coupon,
            remarks=remarks,
        )
        _set_cycle(subscription, cycle)
        recompute_next(subscription, policy)
        subscription.save()
        SubscriptionItem.objects.bulk_create(
            SubscriptionItem(subscription=subscription, product=product, quantity=qty)
            for product, qty in items
        )
        after = snapshot(subscription, ("status", *CYCLE_FIELDS, *SCHEDULE_FIELDS, "delivery_time_slot"))
        after["items"] = {str(product.pk): qty for product, qty in items}
        write_event(subscription, actor=actor, kind=EventKind.CREATED, before={}, after=after)
    return subscription


def subscription_record_order(
    *, subscription_id: int, sequence: int, delivery_date: date, order_id: int, actor: Actor
) -> Subscription:
    """The schedule once the order of `sequence` was created outside the nightly run (a checkout, a
    phone order): one more order and 定期回数, and next_* move to the delivery after it — the same
    advance the nightly run writes in bulk (subscriptions.bulk.schedule_after_order)."""
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        if subscription.next_sequence != sequence:
            raise Conflict(
                "sequence_mismatch",
                _("この定期購入の次回は%(next)d回目です。") % {"next": subscription.next_sequence},
            )
        before = snapshot(subscription, (*NEXT_FIELDS, "orders_created", "cycle_count"))
        subscription.next_sequence = sequence + 1
        subscription.orders_created += 1
        subscription.cycle_count = delivery_number(subscription.cycle_count)
        subscription.last_delivery_date = delivery_date
        recompute_next(subscription, ShopPolicy.current())
        return save_with_event(
            subscription,
            actor=actor,
            kind="order_created",
            fields=[*NEXT_FIELDS, "orders_created", "cycle_count", "last_delivery_date"],
            before=before,
            extra_after={
                "order_id": order_id,
                "sequence": sequence,
                "delivery_date": delivery_date.isoformat(),
            },
        )


def subscription_skip_next(*, subscription_id: int, actor: Actor) -> Subscription:
    """Skip the next delivery; every later date stays where it was."""
    policy = ShopPolicy.current()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        require_status(subscription, {SubscriptionStatus.ACTIVE})
        require_permission(actor, policy, "allow_skip")
        require_before_deadline(subscription, actor, policy, today_in_shop())
        before = snapshot(subscription, SCHEDULE_FIELDS)
        subscription.skipped_sequences = sorted(subscription.skipped | {subscription.next_sequence})
        recompute_next(subscription, policy)
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.SKIPPED,
            fields=["skipped_sequences", *NEXT_FIELDS],
            before=before,
        )


def subscription_unskip(*, subscription_id: int, sequence: int, actor: Actor) -> Subscription:
    """Undo a skip while that delivery's order can still be created.

    Allowed while today <= the skipped delivery's creation date (the same rule as "reachable"
    everywhere: an order created on its creation date meets the delivery); customers also need
    today <= creation date - change_deadline_days. A skip before the current anchor or on or
    before the last delivery refers to a past schedule and cannot be undone.
    """
    policy = ShopPolicy.current()
    today = today_in_shop()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        require_status(subscription, {SubscriptionStatus.ACTIVE})
        require_permission(actor, policy, "allow_skip")
        if sequence not in subscription.skipped:
            raise DomainError("not_skipped", _("このお届けはスキップされていません。"))
        too_late = DomainError("too_late", _("このお届けのスキップはもう取り消せません。"))
        if sequence < subscription.anchor_sequence:
            raise too_late
        delivery = delivery_date(
            subscription.cycle,
            anchor_date=subscription.anchor_date,
            anchor_sequence=subscription.anchor_sequence,
            sequence=sequence,
        )
        creation = _creation_date(policy, delivery)
        if creation < first_creation_date(policy, today) or (
            subscription.last_delivery_date and delivery <= subscription.last_delivery_date
        ):
            raise too_late
        deadline = change_deadline_for(creation, change_deadline_days=policy.change_deadline_days)
        if actor.is_customer and today > deadline:
            raise DomainError(
                "deadline_passed",
                _("%(delivery)sお届け分の変更締切（%(deadline)s）を過ぎています。")
                % {"delivery": format_short_date(delivery), "deadline": format_short_date(deadline)},
            )
        before = snapshot(subscription, SCHEDULE_FIELDS)
        subscription.skipped_sequences = sorted(subscription.skipped - {sequence})
        subscription.next_sequence = min(subscription.next_sequence, sequence)
        recompute_next(subscription, policy)
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.UNSKIPPED,
            fields=["skipped_sequences", *NEXT_FIELDS],
            before=before,
        )


def subscription_change_next_date(*, subscription_id: int, new_date: date, actor: Actor) -> Subscription:
    """Move the next delivery to `new_date` and the schedule with it (re-anchor there)."""
    policy = ShopPolicy.current()
    today = today_in_shop()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        require_status(subscription, {SubscriptionStatus.ACTIVE})
        require_permission(actor, policy, "allow_change_date")
        require_before_deadline(subscription, actor, policy, today)
        _check_new_date(subscription, policy, new_date, actor, today)
        before = snapshot(subscription, SCHEDULE_FIELDS)
        subscription.anchor_date = new_date
        subscription.anchor_sequence = subscription.next_sequence
        _drop_skips_from(subscription, subscription.next_sequence)
        recompute_next(subscription, policy)
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.NEXT_DATE_CHANGED,
            fields=list(SCHEDULE_FIELDS),
            before=before,
        )


def _check_new_date(
    subscription: Subscription, policy: ShopPolicy, new_date: date, actor: Actor, today: date
) -> None:
    unreachable = DomainError(
        "date_unreachable",
        _("%(date)sのお届けには間に合いません。") % {"date": format_short_date(new_date)},
        field="new_date",
    )
    creation = _creation_date(policy, new_date)
    if creation < first_creation_date(policy, today):
        raise unreachable
    if subscription.last_delivery_date and new_date <= subscription.last_delivery_date:
        raise DomainError(
            "date_before_last_delivery",
            _("前回のお届け日（%(date)s）より後の日付をお選びください。")
            % {"date": format_short_date(subscription.last_delivery_date)},
            field="new_date",
        )
    if not actor.is_customer:
        return
    # A customer must still be able to change the new date too, and may only move so far.
    if today > change_deadline_for(creation, change_deadline_days=policy.change_deadline_days):
        raise unreachable
    limit = subscription.next_delivery_date + timedelta(days=policy.date_change_max_days)
    if new_date > limit:
        raise DomainError(
            "date_too_far",
            _("お届け日は%(limit)sまでの日付をお選びください。") % {"limit": format_short_date(limit)},
            field="new_date",
        )


def subscription_change_cycle(*, subscription_id: int, cycle: Cycle, actor: Actor) -> Subscription:
    """Change the cycle; how the next date is found follows policy.cycle_change_mode.

    KEEP_NEXT_DATE: the next delivery stays; the new cycle runs from it.
    FROM_LAST_DELIVERY: the next delivery is one new cycle after the last delivery (or, if that
    can no longer be met, the first schedule date that can). Without a last delivery, as KEEP.
    """
    policy = ShopPolicy.current()
    today = today_in_shop()
    with transaction.atomic():
        subscription = lock_subscription(subscription_id, actor)
        require_status(subscription, OPEN_STATUSES)
        require_customer_action(subscription, actor, "change-cycle")
        require_permission(actor, policy, "allow_change_cycle")
        if actor.is_customer and not course_allows_cycle(subscription.course, cycle):
            raise DomainError(
                "cycle_not_allowed", _("このコースではお選びの周期はご利用いただけません。"), field="cycle"
            )
        from_last = (
            policy.cycle_change_mode == CycleChangeMode.FROM_LAST_DELIVERY
            and subscription.last_delivery_date is not None
            and subscription.next_sequence > 1
        )
        if from_last:  # the next date moves, so the customer's deadline applies
            require_before_deadline(subscription, actor, policy, today)
        before = snapshot(subscription, (*CYCLE_FIELDS, *SCHEDULE_FIELDS))
        new_anchor = subscription.last_delivery_date if from_last else subscription.next_delivery_date
        _set_cycle(subscription, _keep_day_of_month(subscription, cycle, new_anchor))
        if from_last:
            subscription.anchor_date = subscription.last_delivery_date
            subscription.anchor_sequence = subscription.next_sequence - 1
        else:
            subscription.anchor_date = subscription.next_delivery_date
            subscription.anchor_sequence = subscription.next_sequence
        _drop_skips_from(subscription, subscription.next_sequence)
        moved = move_to_first_reachable(subscription, policy, today) if from_last else False
        if not from_last:
            recompute_next(subscription, policy)
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.CYCLE_CHANGED,
            fields=[*CYCLE_FIELDS, *SCHEDULE_FIELDS],
            before=before,
            extra_after={"mode": policy.cycle_change_mode, "date_moved": moved},
        )


def cycle_or_error(**fields) -> Cycle:
    """A Cycle from user input, or a DomainError the API can show."""
    try:
        return Cycle(**fields)
    except (CycleError, TypeError) as exc:
        raise DomainError("invalid_cycle", _("周期の指定が正しくありません。"), field="cycle") from exc
