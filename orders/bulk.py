"""Orders and their lines written in bulk: the nightly run's set-based creation (COPY on PostgreSQL,
bulk_create elsewhere). Rows come in ORDER_COLUMNS order; lines are any objects with LINE_FIELDS."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models.base import ModelState
from django.utils import timezone

from core.copy import copy_field, copy_rows, copy_text, next_ids, use_copy
from notifications.bulk import notifications_bulk_queue

from .mails import PAYMENT_MAIL, STATUS_MAIL, MovedOrder, order_mail_refs
from .models import ORDER_TRANSITIONS, Order, OrderEvent, OrderLine, OrderStatus
from .services import _TIMESTAMP_ON
from .signals import order_status_changed

ORDER_COLUMNS = (
    "customer_id", "subscription_id", "sequence", "status", "payment_status", "hold_reasons",
    "creation_date", "delivery_date", "delivery_time_slot",
    "ship_name", "ship_postal_code", "ship_prefecture", "ship_city", "ship_line1", "ship_line2", "ship_phone",
    "ship_remote_island", "is_gift", "payment_method_id", "payment_kind", "coupon_id",
    "items_subtotal", "discount_total", "shipping_fee", "cod_fee", "points_used", "total", "tax_summary",
    "tracking_number", "created_at", "updated_at", "gift_wrapping", "gift_message",
    "wrapping_fee", "delivery_method_id",
)  # fmt: skip
LINE_FIELDS = ("product_id", "sku", "product_name", "quantity", "unit_price", "tax_rate", "line_total")
_LINE_COLUMNS = ("order_id", *LINE_FIELDS)


# What the order rules set when they run as the order is created (orders.rules.creation.Ruled.columns):
# status, hold reasons and the delivery method (priced, then perhaps set by a rule) replace the
# row's, the others are added.
RULED_COLUMNS = ("status", "hold_reasons", "tags", "delivery_method_id", "rules_applied_at")
_STATUS_AT, _HOLD_AT = ORDER_COLUMNS.index("status"), ORDER_COLUMNS.index("hold_reasons")
_METHOD_AT = ORDER_COLUMNS.index("delivery_method_id")


def orders_bulk_create(
    *,
    rows: list[tuple],
    copy: bool,
    ruled: Sequence[tuple] | None = None,
    rules_applied_at: datetime | None = None,
) -> list[int]:
    """Insert orders (values in ORDER_COLUMNS order; JSON fields as text when `copy`); their ids.

    `ruled`: per row, what the order rules made of it (RULED_COLUMNS values, JSON fields as lists);
    else `rules_applied_at` marks every row's rules done (there are no rules to run)."""
    if not rows:
        return []
    columns = ORDER_COLUMNS
    if ruled is not None:
        columns = (*ORDER_COLUMNS, "tags", "rules_applied_at")
        encoded: dict[int, tuple] = {}  # id(ruled values) -> encoded: orders sharing them share it
        rows = [_with_rules(row, r, copy, encoded) for row, r in zip(rows, ruled, strict=True)]
    elif rules_applied_at is not None:
        columns = (*ORDER_COLUMNS, "rules_applied_at")
        rows = [(*row, rules_applied_at) for row in rows]
    if not copy:
        objs = [Order(**dict(zip(columns, values, strict=True))) for values in rows]
        Order.objects.bulk_create(objs, batch_size=1000)
        return [o.pk for o in objs]
    ids = next_ids("orders_order", len(rows))
    copy_rows("orders_order", ("id", *columns), [(oid, *v) for oid, v in zip(ids, rows, strict=True)])
    return ids


def _with_rules(row: tuple, ruled: tuple, copy: bool, encoded: dict[int, tuple]) -> tuple:
    if copy:
        found = encoded.get(id(ruled))
        if found is None:
            status, hold_reasons, tags, method_id, applied_at = ruled
            found = encoded[id(ruled)] = (
                status,
                "[]" if not hold_reasons else json.dumps(hold_reasons, ensure_ascii=False),
                "[]" if not tags else json.dumps(tags, ensure_ascii=False),
                method_id,
                applied_at,
            )
        ruled = found
    status, hold_reasons, tags, method_id, applied_at = ruled
    values = list(row)
    values[_STATUS_AT], values[_HOLD_AT], values[_METHOD_AT] = status, hold_reasons, method_id
    return (*values, tags, applied_at)


def order_lines_bulk_create(*, orders: list[tuple[int, Sequence]], copy: bool) -> None:
    """Insert the lines of each (order id, lines). Orders that share one lines sequence (a memoised
    price) have it formatted once per call: only the order id differs from row to row, and a fifth
    of the Python time per order went to psycopg's write_row for these 2+ rows."""
    if not copy:
        OrderLine.objects.bulk_create(
            [
                OrderLine(order_id=order_id, **{name: getattr(ln, name) for name in LINE_FIELDS})
                for order_id, lines in orders
                for ln in lines
            ],
            batch_size=2000,
        )
        return
    tails: dict[int, list[str]] = {}  # id(lines) -> each line's columns after the order id
    parts: list[str] = []
    for order_id, lines in orders:
        line_tails = tails.get(id(lines))
        if line_tails is None:
            line_tails = tails[id(lines)] = [
                f"\t{ln.product_id}\t{copy_field(ln.sku)}\t{copy_field(ln.product_name)}\t{ln.quantity}"
                f"\t{ln.unit_price}\t{ln.tax_rate}\t{ln.line_total}\n"
                for ln in lines
            ]
        text_id = str(order_id)
        for tail in line_tails:
            parts.append(text_id)
            parts.append(tail)
    copy_text("orders_orderline", _LINE_COLUMNS, "".join(parts))


@dataclass(frozen=True, slots=True)
class BulkMove:
    """One order's move in orders_bulk_apply_moves. `payment_status`, when set, is the payment move
    billing decided (billing.payment_states): written in the same UPDATE, its event before the
    status event, as payment_set_status then order_set_status leave them one by one. An empty
    `status` is a payment move alone (the order's status stays `status_before`)."""

    order_id: int
    status_before: str
    status: str
    note: str
    customer_id: int
    email: str
    language: str
    payment_kind: str = ""
    payment_before: str = ""
    payment_status: str = ""
    payment_note: str = ""


def orders_bulk_apply_moves(*, moves: list[BulkMove]) -> None:
    """order_set_status for many locked orders (the charge stage's settlement): one UPDATE per
    (status, payment status) pair, the events with one COPY, the shop's mails as outbox rows written
    by reference (orders.mails.order_mail_refs, rendered at send) and order_status_changed for
    each, as the one-by-one move sends it. Only plain moves: a cancellation or a hold release
    carries stock and counters and goes through orders.services one order at a time."""
    if not moves:
        return
    for move in moves:
        if not move.status:
            if not move.payment_status:
                raise ValueError(f"order {move.order_id}: a move with neither status")
            continue
        if move.status in (OrderStatus.CANCELLED, OrderStatus.RETURNED, OrderStatus.NEW):
            raise ValueError(f"not a plain move: {move.status}")
        if move.status not in ORDER_TRANSITIONS[move.status_before]:
            raise ValueError(f"order {move.order_id}: {move.status_before} -> {move.status} is not allowed")
    now = timezone.now()
    groups: dict[tuple[str, str], list[int]] = {}
    for move in moves:
        groups.setdefault((move.status, move.payment_status), []).append(move.order_id)
    for (status, payment_status), ids in groups.items():
        stamp = _TIMESTAMP_ON.get(status)
        changes = {
            "updated_at": now,
            **({"status": status} if status else {}),
            **({stamp: now} if stamp else {}),
        }
        if payment_status:
            changes["payment_status"] = payment_status
        if connection.vendor == "postgresql":
            # One array parameter: the ORM's IN list quoted 2,000 ids one by one on every batch.
            sets = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in changes)
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE orders_order SET {sets} WHERE id = ANY(%s)", [*changes.values(), ids])
        else:
            Order.objects.filter(pk__in=ids).update(**changes)
    mailed = []
    for m, (payment_event, status_event) in zip(moves, _write_move_events(moves, now), strict=True):
        # The payment's mail (入金確認) before the status's, as one by one.
        for mail, event_id in ((PAYMENT_MAIL.get(m.payment_status), payment_event), (STATUS_MAIL.get(m.status), status_event)):  # fmt: skip
            if mail and event_id:
                mailed.append(MovedOrder(m.order_id, mail, event_id, m.payment_kind, m.customer_id, m.email, m.language))  # fmt: skip
    notifications_bulk_queue(mails=order_mail_refs(moves=mailed))
    if order_status_changed.receivers:
        for move in moves:
            if not move.status:
                continue
            order = _moved(move, now)
            order_status_changed.send(
                sender=Order, order=order, before=move.status_before, after=move.status, actor_user=None
            )


def _moved(move: BulkMove, now: datetime) -> Order:
    """The order for the receivers: the fields the move set and its keys loaded, the others deferred
    (read from the database on first access), as `Order.objects.only(...)` gives it. Order() with
    every default was a third of the settlement's Python time."""
    order = Order.__new__(Order)
    order._state = ModelState()
    order._state.adding, order._state.db = False, "default"
    order.__dict__.update(
        id=move.order_id,
        status=move.status or move.status_before,
        payment_status=move.payment_status or move.payment_before,
        payment_kind=move.payment_kind,
        customer_id=move.customer_id,
        updated_at=now,
    )
    return order


def _write_move_events(moves: list[BulkMove], now: datetime) -> list[tuple[int | None, int | None]]:
    """Each move's payment event then its status event (each when it has one): their ids."""
    events: list[tuple[int, str, tuple[str, str, str], str]] = []  # order, kind, (field, before, after), note
    at: list[tuple[int | None, int | None]] = []
    for m in moves:
        payment_at = status_at = None
        if m.payment_status:
            change = ("payment_status", m.payment_before, m.payment_status)
            payment_at = len(events)
            events.append((m.order_id, "payment_status_changed", change, m.payment_note))
        if m.status:
            status_at = len(events)
            events.append((m.order_id, "status_changed", ("status", m.status_before, m.status), m.note))
        at.append((payment_at, status_at))
    if not use_copy():
        objs = OrderEvent.objects.bulk_create(
            [
                OrderEvent(
                    order_id=o, kind=k, before={c[0]: c[1]}, after={c[0]: c[2]}, note=n, created_at=now
                )
                for o, k, c, n in events
            ],
            batch_size=1000,
        )
        ids = [o.pk for o in objs]
    else:
        ids = _copy_events(events, now)
    return [(None if p is None else ids[p], None if s is None else ids[s]) for p, s in at]


def _copy_events(events: list[tuple[int, str, tuple[str, str, str], str]], now: datetime) -> list[int]:
    # A handful of distinct changes in a batch: each one's JSON is written once.
    texts = {
        c: f"{copy_field(json.dumps({c[0]: c[1]}))}\t{copy_field(json.dumps({c[0]: c[2]}))}"
        for c in {c for _o, _k, c, _n in events}
    }
    ids = next_ids("orders_orderevent", len(events))
    stamp = now.isoformat()
    copy_text(
        "orders_orderevent",
        ("id", "order_id", "kind", "before", "after", "note", "created_at"),
        "".join(
            f"{i}\t{o}\t{k}\t{texts[c]}\t{copy_field(n)}\t{stamp}\n"
            for i, (o, k, c, n) in zip(ids, events, strict=True)
        ),
    )
    return ids
