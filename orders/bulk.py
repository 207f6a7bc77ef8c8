"""Orders and their lines written in bulk: the nightly run's set-based creation (COPY on PostgreSQL,
bulk_create elsewhere). Rows come in ORDER_COLUMNS order; lines are any objects with LINE_FIELDS."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone

from core.copy import copy_field, copy_rows, copy_text, next_ids

from .mails import order_mails_on_moves
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
)  # fmt: skip
LINE_FIELDS = ("product_id", "sku", "product_name", "quantity", "unit_price", "tax_rate", "line_total")
_LINE_COLUMNS = ("order_id", *LINE_FIELDS)


# What the order rules set when they run as the order is created (orders.rules.creation.Ruled.columns):
# status and hold reasons replace the row's, the others are added.
RULED_COLUMNS = ("status", "hold_reasons", "tags", "delivery_method_id", "rules_applied_at")
_STATUS_AT, _HOLD_AT = ORDER_COLUMNS.index("status"), ORDER_COLUMNS.index("hold_reasons")


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
        columns = (*ORDER_COLUMNS, *RULED_COLUMNS[2:])
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
    values[_STATUS_AT], values[_HOLD_AT] = status, hold_reasons
    return (*values, tags, method_id, applied_at)


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


def orders_bulk_set_status(
    *, orders: list[Order], status: str, notes: dict[int, str], notify: bool = True
) -> list[OrderEvent]:
    """order_set_status for many locked orders (the charge stage's settlement): one UPDATE, the
    events in one INSERT, the shop's mails in one more, and order_status_changed for each, as the
    one-by-one move sends it. Only plain moves: a cancellation or a hold release carries stock and
    counters and goes through orders.services one order at a time."""
    if not orders:
        return []
    if status in (OrderStatus.CANCELLED, OrderStatus.RETURNED) or status == OrderStatus.NEW:
        raise ValueError(f"not a plain move: {status}")
    for order in orders:
        if status not in ORDER_TRANSITIONS[order.status]:
            raise ValueError(f"order {order.pk}: {order.status} -> {status} is not allowed")
    now = timezone.now()
    stamp = _TIMESTAMP_ON.get(status)
    changes = {"status": status, "updated_at": now, **({stamp: now} if stamp else {})}
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(**changes)
    befores = [o.status for o in orders]
    for order in orders:
        for name, value in changes.items():
            setattr(order, name, value)
    events = OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                kind="status_changed",
                before={"status": before},
                after={"status": status},
                note=notes.get(order.pk, ""),
            )
            for order, before in zip(orders, befores, strict=True)
        ],
        batch_size=1000,
    )
    if notify:
        order_mails_on_moves(moves=list(zip(orders, events, strict=True)))
    for order, before in zip(orders, befores, strict=True):
        order_status_changed.send(sender=Order, order=order, before=before, after=status, actor_user=None)
    return events
