"""Schedules advanced and timeline rows written in bulk: the nightly run's share of subscriptions'
tables (one UPDATE per batch and COPY on PostgreSQL, bulk_update/bulk_create elsewhere).

The rule for what a created order does to a schedule lives here (schedule_after_order): the next
delivery moves on, orders_created (定期内受注数) and cycle_count (定期回数) each count one more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from core.copy import NULL, copy_field, copy_text, insert_rows

from .actors import Actor
from .models import ActorKind, Subscription, SubscriptionAddon, SubscriptionEvent, SubscriptionItem
from .schedule import NextDelivery, delivery_number

COUPON_CHANGED = "coupon_changed"  # services._common.EventKind.COUPON_CHANGED, the kind the services write
EVENT_COLUMNS = ("subscription_id", "created_at", "actor_kind", "actor_id", "kind", "before", "after", "note")


class RawJSON(str):
    """JSON text already encoded (COPY writes it as is; the ORM writer decodes it)."""


def _json(value: object) -> str:
    if isinstance(value, RawJSON):
        return value
    return "[]" if value == [] else json.dumps(value)


def timeline_bulk_write(*, events: list[tuple], now: datetime, copy: bool) -> None:
    """Insert timeline rows (EVENT_COLUMNS order, created_at `now`; before/after as dicts or RawJSON)."""
    if not events:
        return
    if copy:
        created_at = now.isoformat()
        copy_text(
            "subscriptions_subscriptionevent",
            EVENT_COLUMNS,
            "".join(
                f"{sub_id}\t{created_at}\t{actor_kind}\t{NULL if actor_id is None else actor_id}\t{kind}"
                f"\t{copy_field(_json(before))}\t{copy_field(_json(after))}\t{copy_field(note)}\n"
                for sub_id, _now, actor_kind, actor_id, kind, before, after, note in events
            ),
        )
        return
    decoded = (tuple(json.loads(v) if isinstance(v, RawJSON) else v for v in e) for e in events)
    SubscriptionEvent.objects.bulk_create(
        [SubscriptionEvent(**dict(zip(EVENT_COLUMNS, e, strict=True))) for e in decoded], batch_size=2000
    )


# An advance: (id, next_sequence, next_delivery_date, next_creation_date, last_delivery_date,
#  orders_created, cycle_count, anchor_date, anchor_sequence, skipped_sequences, needs_attention)
_UPDATE_FIELDS = (
    "next_sequence", "next_delivery_date", "next_creation_date", "last_delivery_date", "orders_created",
    "cycle_count", "anchor_date", "anchor_sequence", "skipped_sequences", "needs_attention",
)  # fmt: skip


def schedule_after_order(
    row,  # noqa: ANN001 - the claimed row: id, orders_created, cycle_count, skipped_sequences
    *,
    next: NextDelivery,  # noqa: A002
    delivered_on: date,
    anchor_date: date,
    anchor_sequence: int,
    needs_attention: bool,
) -> tuple:
    """The schedule once an order for `delivered_on` is created: one more order, one more 定期回数."""
    return (
        row.id, next.sequence, next.delivery_date, next.creation_date, delivered_on,
        row.orders_created + 1, delivery_number(row.cycle_count), anchor_date, anchor_sequence, row.skipped_sequences,
        needs_attention,
    )  # fmt: skip


def schedule_after_skip(
    row,  # noqa: ANN001 - also last_delivery_date, needs_attention
    *,
    next: NextDelivery,  # noqa: A002
    anchor_date: date,
    anchor_sequence: int,
    skipped_sequences: list[int],
) -> tuple:
    """The schedule once a delivery is skipped: the counters stay, the skipped sequence is noted."""
    return (
        row.id, next.sequence, next.delivery_date, next.creation_date, row.last_delivery_date,
        row.orders_created, row.cycle_count, anchor_date, anchor_sequence, skipped_sequences,
        row.needs_attention,
    )  # fmt: skip


def schedule_after_existing_order(row, *, next: NextDelivery) -> tuple:  # noqa: ANN001, A002
    """The sequence already had its order: only the next delivery moves on."""
    return (
        row.id, next.sequence, next.delivery_date, next.creation_date, row.last_delivery_date,
        row.orders_created, row.cycle_count, row.anchor_date, row.anchor_sequence, row.skipped_sequences,
        row.needs_attention,
    )  # fmt: skip


# One JSON parameter for the whole batch: psycopg dumps eleven 1,000-element arrays value by value
# in Python, while json.dumps encodes the nested lists in C.
# Dates travel as proleptic ordinals (date.toordinal(): 0001-01-01 is 1), cheaper than ISO text.
_UPDATE_SQL = """
UPDATE subscriptions_subscription AS s SET
    next_sequence = (v->>1)::integer, next_delivery_date = DATE '0001-01-01' + ((v->>2)::integer - 1),
    next_creation_date = DATE '0001-01-01' + ((v->>3)::integer - 1),
    last_delivery_date = DATE '0001-01-01' + ((v->>4)::integer - 1), orders_created = (v->>5)::integer,
    cycle_count = (v->>6)::integer, anchor_date = DATE '0001-01-01' + ((v->>7)::integer - 1),
    anchor_sequence = (v->>8)::integer, skipped_sequences = v->9, needs_attention = v->10, updated_at = %s
FROM jsonb_array_elements(%s::jsonb) AS v
WHERE s.id = (v->>0)::bigint
"""


def schedules_bulk_advance(*, updates: list[tuple], now: datetime, copy: bool) -> None:
    """Write the advances (schedule_after_* tuples) in one statement."""
    if not updates:
        return
    if copy:
        payload = json.dumps(
            [
                [u[0], u[1], u[2].toordinal(), u[3].toordinal(), u[4] and u[4].toordinal(), u[5], u[6],
                 u[7].toordinal(), u[8], u[9], u[10]]
                for u in updates
            ]
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(_UPDATE_SQL, [now, payload])
        return
    objs = []
    for values in updates:
        obj = Subscription(id=values[0])
        for name, value in zip(_UPDATE_FIELDS, values[1:], strict=True):
            setattr(obj, name, value)
        obj.updated_at = now
        objs.append(obj)
    Subscription.objects.bulk_update(objs, [*_UPDATE_FIELDS, "updated_at"], batch_size=500)


class AddonsChanged(Exception):  # noqa: N818 - a race the caller retries, not an error to report
    """Pending add-ons a batch read were changed or taken by someone else before it wrote."""


_CONSUME_ADDONS_SQL = """
UPDATE subscriptions_subscriptionaddon AS a SET order_id = v.order_id, updated_at = %s
FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, order_id)
WHERE a.id = v.id AND a.order_id IS NULL
"""


def addons_bulk_consume(*, consumed: list[tuple[int, int]], now: datetime) -> None:
    """Put pending add-ons on the orders just created for them: (add-on id, order id) pairs, one
    UPDATE. Call in the transaction that created the orders, with their subscriptions locked.

    Raises AddonsChanged when any of them is no longer pending (nothing then commits)."""
    if not consumed:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_CONSUME_ADDONS_SQL, [now, [a for a, _o in consumed], [o for _a, o in consumed]])
            updated = cursor.rowcount
    else:
        updated = 0
        for addon_id, order_id in consumed:
            updated += SubscriptionAddon.objects.filter(pk=addon_id, order__isnull=True).update(
                order_id=order_id, updated_at=now
            )
    if updated != len(consumed):
        raise AddonsChanged(f"{len(consumed) - updated} add-ons were no longer pending")


_DROP_COUPON_SQL = """
WITH spent AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS v(id integer, coupon_id integer, order_id integer)),
dropped AS (
    UPDATE subscriptions_subscription s SET coupon_id = NULL, updated_at = %s FROM spent
    WHERE s.id = spent.id AND s.coupon_id = spent.coupon_id RETURNING s.id, spent.coupon_id, spent.order_id
)
INSERT INTO subscriptions_subscriptionevent (subscription_id, created_at, actor_kind, actor_id, kind, before, after, note)
SELECT id, %s, %s, NULL, %s, jsonb_build_object('coupon_id', coupon_id),
       jsonb_build_object('coupon_id', NULL, 'order_id', order_id), '' FROM dropped
"""


def subscriptions_bulk_drop_coupon(*, spent: list[tuple[int, int, int]]) -> None:
    """A "next order only" coupon is spent once redeemed: these subscriptions' next orders go without it.

    `spent` holds (subscription id, coupon id, order id): each subscription still carrying that
    coupon loses it, with a coupon_changed timeline event by the system naming the order that used
    it. One statement on PostgreSQL (the nightly run calls this per batch).
    """
    if not spent:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        payload = json.dumps([{"id": s, "coupon_id": c, "order_id": o} for s, c, o in spent])
        with connection.cursor() as cursor:
            cursor.execute(_DROP_COUPON_SQL, [payload, now, now, ActorKind.SYSTEM.value, COUPON_CHANGED])
        return
    carried = dict(
        Subscription.objects.filter(pk__in=[s for s, _c, _o in spent]).values_list("pk", "coupon_id")
    )
    dropped = [(s, c, o) for s, c, o in spent if carried.get(s) == c]
    if not dropped:
        return
    Subscription.objects.filter(pk__in=[s for s, _c, _o in dropped]).update(coupon=None, updated_at=now)
    SubscriptionEvent.objects.bulk_create(
        SubscriptionEvent(
            subscription_id=s,
            actor_kind=ActorKind.SYSTEM,
            kind=COUPON_CHANGED,
            before={"coupon_id": c},
            after={"coupon_id": None, "order_id": o},
        )
        for s, c, o in dropped
    )


def subscription_restore_coupon(*, subscription_id: int, coupon_id: int, order_id: int) -> bool:
    """A cancelled order gives its spent next-only coupon back to the subscription, unless another
    coupon replaced it meanwhile; with a coupon_changed timeline event by the system naming the order.
    Returns whether the coupon went back."""
    restored = Subscription.objects.filter(pk=subscription_id, coupon__isnull=True).update(
        coupon_id=coupon_id, updated_at=timezone.now()
    )
    if restored:
        SubscriptionEvent.objects.create(
            subscription_id=subscription_id,
            actor_kind=ActorKind.SYSTEM,
            kind=COUPON_CHANGED,
            before={"coupon_id": None},
            after={"coupon_id": coupon_id, "order_id": order_id},
        )
    return bool(restored)


@dataclass(frozen=True)
class NewSubscription:
    """One subscription for subscriptions_bulk_create: its columns (attnames), its items as
    (product id, quantity) with one entry per product, and the timeline event that says where it
    came from."""

    customer_id: int
    fields: dict
    items: list[tuple[int, int]]
    event_kind: str
    event_after: dict = field(default_factory=dict)
    event_note: str = ""


def subscriptions_bulk_create(*, subscriptions: list[NewSubscription], actor: Actor) -> list[int]:
    """Create subscriptions with their items and one timeline event each (imports: the caller
    checked the batch — customers, addresses and payment methods exist). Their ids in order."""
    ids = insert_rows(Subscription, [{"customer_id": new.customer_id, **new.fields} for new in subscriptions])
    insert_rows(
        SubscriptionItem,
        [
            {"subscription_id": pk, "product_id": product_id, "quantity": quantity}
            for pk, new in zip(ids, subscriptions, strict=True)
            for product_id, quantity in new.items
        ],
    )
    insert_rows(
        SubscriptionEvent,
        [
            {
                "subscription_id": pk,
                "actor_kind": actor.kind,
                "actor_id": actor.user_id,
                "kind": new.event_kind,
                "before": {},
                "after": new.event_after,
                "note": new.event_note,
            }
            for pk, new in zip(ids, subscriptions, strict=True)
        ],
    )
    return ids


def _comparable(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def subscription_update_from_source(
    *,
    subscription_id: int,
    fields: dict,
    items: list[tuple[int, int]],
    actor: Actor,
    event_kind: str,
    event_after: dict,
    event_note: str = "",
) -> Subscription:
    """A subscription takes the values another system holds for it (a re-import of a changed row):
    the fields and items that differ change, and one timeline event records which, before and after
    (always written, so the timeline shows the source was read again)."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
        before, after = {}, {}
        for name, value in fields.items():
            old = getattr(subscription, name)
            if _comparable(old) != _comparable(value):
                before[name], after[name] = _comparable(old), _comparable(value)
                setattr(subscription, name, value)
        old_items = sorted(subscription.items.values_list("product_id", "quantity"))
        new_items = sorted(items)
        if old_items != new_items:
            before["items"], after["items"] = old_items, new_items
            subscription.items.all().delete()
            SubscriptionItem.objects.bulk_create(
                SubscriptionItem(subscription=subscription, product_id=pid, quantity=q)
                for pid, q in new_items
            )
        if before:
            subscription.save(update_fields=[*fields, "updated_at"])
        SubscriptionEvent.objects.create(
            subscription=subscription,
            actor_kind=actor.kind,
            actor_id=actor.user_id,
            kind=event_kind,
            before=before,
            after={**after, **event_after},
            note=event_note,
        )
    return subscription
