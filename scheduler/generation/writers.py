"""Writing a planned batch with bulk statements: orders, lines, timeline events, schedules, stock.

Two writers behind one function. On PostgreSQL, COPY (psycopg 3) with order ids taken from the
sequence up front: COPY skips Django's per-object work and is several times faster than a
multi-row INSERT for the 4+ rows each subscription writes. Elsewhere (the SQLite demo) Django's
bulk_create/bulk_update. NIGHTLY_WRITER ("auto", "copy", "orm") forces one for tests and the bench.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, IntegerField, Value, When

from catalog.models import Product
from orders.models import Order, OrderLine, OrderStatus, PaymentStatus
from subscriptions.models import ActorKind, Subscription, SubscriptionEvent

from .plan import BatchPlan, PlannedAdvance, PlannedOrder, PlannedSkip

ORDER_CREATED = "order_created"
SEQUENCE_SKIPPED_STOCK = "sequence_skipped_stock_short"
SCHEDULE_ADVANCED = "schedule_advanced"

_ORDER_COLUMNS = (
    "customer_id", "subscription_id", "sequence", "status", "payment_status", "hold_reasons",
    "creation_date", "delivery_date", "delivery_time_slot",
    "ship_name", "ship_postal_code", "ship_prefecture", "ship_city", "ship_line1", "ship_line2", "ship_phone",
    "ship_remote_island", "is_gift", "payment_method_id", "payment_kind", "coupon_id",
    "items_subtotal", "discount_total", "shipping_fee", "cod_fee", "points_used", "total", "tax_summary",
    "tracking_number", "created_at", "updated_at",
)  # fmt: skip
_LINE_COLUMNS = (
    "order_id",
    "product_id",
    "sku",
    "product_name",
    "quantity",
    "unit_price",
    "tax_rate",
    "line_total",
)
_EVENT_COLUMNS = (
    "subscription_id",
    "created_at",
    "actor_kind",
    "actor_id",
    "kind",
    "before",
    "after",
    "note",
)


def use_copy() -> bool:
    choice = getattr(settings, "NIGHTLY_WRITER", "auto")
    if choice == "auto":
        return connection.vendor == "postgresql"
    return choice == "copy"


def write_batch(plan: BatchPlan, *, run_date: date, now: datetime) -> None:
    """Write the plan; sets PlannedOrder.order_id. Call inside the batch's transaction."""
    copy = use_copy()
    encode = _json if copy else _same
    # Rows sharing inputs share one memoised PricedOrder (PricingCatalog.price): its tax summary
    # is encoded once per batch, not once per order. Keyed by id(): the plan holds every summary
    # until the batch is written, so an id cannot be reused meanwhile.
    summaries: dict[int, object] = {}

    def encode_summary(summary: dict) -> object:
        text = summaries.get(id(summary))
        if text is None:
            text = summaries[id(summary)] = _tax_summary_json(summary) if copy else summary
        return text

    orders = [_order_values(p, run_date, now, encode, encode_summary) for p in plan.orders]
    ids = _insert_orders_copy(orders) if copy else _insert_orders_orm(orders)
    for planned, order_id in zip(plan.orders, ids, strict=True):
        planned.order_id = order_id
    events = [
        *(_order_event(p, now) for p in plan.orders),
        *(_skip_event(s, now) for s in plan.skips),
        *(_advance_event(a, now) for a in plan.advances),
    ]
    if copy:
        _copy_text("orders_orderline", _LINE_COLUMNS, _lines_copy_text(plan.orders))
        _copy_text("subscriptions_subscriptionevent", _EVENT_COLUMNS, _events_copy_text(events, now))
    else:
        lines = [
            (p.order_id, ln.product_id, ln.sku, ln.product_name, ln.quantity, ln.unit_price, ln.tax_rate,
             ln.line_total)
            for p in plan.orders
            for ln in p.priced.lines
        ]  # fmt: skip
        OrderLine.objects.bulk_create(
            [OrderLine(**dict(zip(_LINE_COLUMNS, line, strict=True))) for line in lines], batch_size=2000
        )
        SubscriptionEvent.objects.bulk_create(
            [SubscriptionEvent(**dict(zip(_EVENT_COLUMNS, _decoded(e), strict=True))) for e in events],
            batch_size=2000,
        )
    _update_subscriptions(_schedule_updates(plan), now, copy)
    _take_stock(plan.stock_taken)


# COPY's text format: these four characters are the only ones a text value must escape.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _copy_field(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _lines_copy_text(orders: list[PlannedOrder]) -> str:
    """The order lines as COPY text. The lines of a memoised PricedOrder are formatted once per
    batch and only their order id differs from row to row: a fifth of the Python time per order
    went to psycopg's write_row for these 2+ rows."""
    tails: dict[int, list[str]] = {}  # id(PricedOrder) -> each line's columns after the order id
    parts: list[str] = []
    for p in orders:
        line_tails = tails.get(id(p.priced))
        if line_tails is None:
            line_tails = tails[id(p.priced)] = [
                f"\t{ln.product_id}\t{_copy_field(ln.sku)}\t{_copy_field(ln.product_name)}\t{ln.quantity}"
                f"\t{ln.unit_price}\t{ln.tax_rate}\t{ln.line_total}\n"
                for ln in p.priced.lines
            ]
        order_id = str(p.order_id)
        for tail in line_tails:
            parts.append(order_id)
            parts.append(tail)
    return "".join(parts)


def _events_copy_text(events: list[tuple], now: datetime) -> str:
    """Timeline rows (_EVENT_COLUMNS order, created_at always `now`) as COPY text."""
    created_at = now.isoformat()
    return "".join(
        f"{sub_id}\t{created_at}\t{actor_kind}\t{_NULL if actor_id is None else actor_id}\t{kind}"
        f"\t{_copy_field(_json(before))}\t{_copy_field(_json(after))}\t{_copy_field(note)}\n"
        for sub_id, _now, actor_kind, actor_id, kind, before, after, note in events
    )


def _tax_summary_json(summary: dict[str, dict[str, int]]) -> str:
    """core.tax.tax_summary's {"10": {"base": int, "tax": int}, …} as json.dumps writes it, by
    f-string: its keys are rate digits and its values ints, and json.dumps was a tenth of the
    writer's Python time."""
    return (
        "{"
        + ", ".join(f'"{rate}": {{"base": {v["base"]}, "tax": {v["tax"]}}}' for rate, v in summary.items())
        + "}"
    )


def _json(value: object) -> str:
    if isinstance(value, _Raw):
        return value
    return "[]" if value == [] else json.dumps(value)


def _same(value: object) -> object:
    return value


def _decoded(event: tuple) -> tuple:
    return tuple(json.loads(v) if isinstance(v, _Raw) else v for v in event)


def _order_values(
    p: PlannedOrder,
    run_date: date,
    now: datetime,
    encode: Callable[[object], object],
    encode_summary: Callable[[dict], object],
) -> tuple:
    """The row in _ORDER_COLUMNS order; `encode` turns the JSON fields into text for COPY."""
    row, priced = p.row, p.priced
    return (
        row.customer_id, row.id, p.sequence,
        OrderStatus.ON_HOLD.value if p.hold_reasons else OrderStatus.NEW.value, PaymentStatus.UNPAID.value,
        encode(p.hold_reasons), run_date, p.delivery_date, row.delivery_time_slot,
        row.ship_name or "", row.ship_postal_code or "", row.ship_prefecture or "", row.ship_city or "",
        row.ship_line1 or "", row.ship_line2 or "", row.ship_phone or "", bool(row.ship_remote_island), False,
        row.payment_method_id, row.payment_kind or "", priced.coupon_id,
        priced.items_subtotal, priced.discount_total, priced.shipping_fee, priced.cod_fee, priced.points_used,
        priced.total, encode_summary(priced.tax_summary), "", now, now,
    )  # fmt: skip


def _insert_orders_orm(orders: list[tuple]) -> list[int]:
    objs = [Order(**dict(zip(_ORDER_COLUMNS, values, strict=True))) for values in orders]
    Order.objects.bulk_create(objs, batch_size=1000)
    return [o.pk for o in objs]


def _insert_orders_copy(orders: list[tuple]) -> list[int]:
    if not orders:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('orders_order', 'id')) FROM generate_series(1, %s)",
            [len(orders)],
        )
        ids = [r[0] for r in cursor.fetchall()]
    rows = [(order_id, *values) for order_id, values in zip(ids, orders, strict=True)]
    _copy_rows("orders_order", ("id", *_ORDER_COLUMNS), rows)
    return ids


def _copy_text(table: str, columns: tuple[str, ...], text: str) -> None:
    """COPY rows already formatted as COPY text (tab-separated, escaped, one per line)."""
    if not text:
        return
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        copy.write(text)


def _copy_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        write = copy.write_row
        for row in rows:
            write(row)


def _order_event(p: PlannedOrder, now: datetime) -> tuple:
    """The "order_created" timeline row. Its JSON is written with f-strings: the values are ints and
    ISO dates, and json.dumps of two small dicts per row was a tenth of the batch's Python time."""
    delivery = p.delivery_date.isoformat()
    next_delivery = p.next.delivery_date.isoformat()
    before = (
        f'{{"next_sequence": {p.sequence}, "next_delivery_date": "{p.row.next_delivery_date.isoformat()}"}}'
    )
    after = (
        f'{{"order_id": {p.order_id}, "sequence": {p.sequence}, "delivery_date": "{delivery}", '
        f'"next_sequence": {p.next.sequence}, "next_delivery_date": "{next_delivery}", '
        f'"cycle_count": {p.row.cycle_count + 1}'
    )
    if p.hold_reasons:
        after += f', "hold_reasons": {json.dumps(p.hold_reasons)}'
    note = ""
    if p.moved_from is not None:
        moved_from = p.moved_from.isoformat()
        after += f', "moved_from": "{moved_from}", "moved_to": "{delivery}"'
        note = f"お届け日 {moved_from} に間に合わないため {delivery} に変更しました。"
    return (p.row.id, now, ActorKind.SYSTEM.value, None, ORDER_CREATED, _Raw(before), _Raw(after + "}"), note)


class _Raw(str):
    """JSON text already encoded (COPY writes it as is; the ORM writer decodes it)."""


def _skip_event(s: PlannedSkip, now: datetime) -> tuple:
    before = {"next_sequence": s.sequence, "skipped_sequences": s.row.skipped_sequences}
    after = {
        "skipped_sequence": s.sequence,
        "skipped_sequences": s.skipped_sequences,
        "short_product_ids": s.short_product_ids,
        "next_sequence": s.next.sequence,
        "next_delivery_date": s.next.delivery_date.isoformat(),
    }
    return (
        s.row.id,
        now,
        ActorKind.SYSTEM.value,
        None,
        SEQUENCE_SKIPPED_STOCK,
        before,
        after,
        "在庫不足のためスキップ",
    )


def _advance_event(a: PlannedAdvance, now: datetime) -> tuple:
    before = {"next_sequence": a.row.next_sequence}
    after = {"next_sequence": a.next.sequence, "next_delivery_date": a.next.delivery_date.isoformat()}
    note = "この回の受注は既に存在するため、次回に進めました。"
    return (a.row.id, now, ActorKind.SYSTEM.value, None, SCHEDULE_ADVANCED, before, after, note)


# (id, next_sequence, next_delivery_date, next_creation_date, last_delivery_date, orders_created,
#  cycle_count, anchor_date, anchor_sequence, skipped_sequences, needs_attention)
def _schedule_updates(plan: BatchPlan) -> list[tuple]:
    updates = []
    for p in plan.orders:
        r = p.row
        updates.append((
            r.id, p.next.sequence, p.next.delivery_date, p.next.creation_date, p.delivery_date,
            r.orders_created + 1, r.cycle_count + 1, p.anchor_date, p.anchor_sequence, r.skipped_sequences,
            p.needs_attention,
        ))  # fmt: skip
    for s in plan.skips:
        r = s.row
        updates.append((
            r.id, s.next.sequence, s.next.delivery_date, s.next.creation_date, r.last_delivery_date,
            r.orders_created, r.cycle_count, s.anchor_date, s.anchor_sequence, s.skipped_sequences,
            r.needs_attention,
        ))  # fmt: skip
    for a in plan.advances:
        r = a.row
        updates.append((
            r.id, a.next.sequence, a.next.delivery_date, a.next.creation_date, r.last_delivery_date,
            r.orders_created, r.cycle_count, r.anchor_date, r.anchor_sequence, r.skipped_sequences,
            r.needs_attention,
        ))  # fmt: skip
    return updates


_UPDATE_FIELDS = (
    "next_sequence", "next_delivery_date", "next_creation_date", "last_delivery_date", "orders_created",
    "cycle_count", "anchor_date", "anchor_sequence", "skipped_sequences", "needs_attention",
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


def _update_subscriptions(updates: list[tuple], now: datetime, copy: bool) -> None:
    if not updates:
        return
    if copy:
        payload = json.dumps(
            [
                [
                    u[0],
                    u[1],
                    u[2].toordinal(),
                    u[3].toordinal(),
                    u[4] and u[4].toordinal(),
                    u[5],
                    u[6],
                    u[7].toordinal(),
                    u[8],
                    u[9],
                    u[10],
                ]
                for u in updates
            ]
        )
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


class StockChanged(Exception):
    """Another batch took stock this batch had counted on; the batch is retried with fresh stock."""


def _take_stock(taken: dict[int, int]) -> None:
    """Take the batch's stock: lock the product rows in id order, check, one UPDATE … CASE.

    Last statement before commit, so concurrent batches wait on hot product rows only for the
    commit, not for the whole batch. FOR NO KEY UPDATE: the foreign key checks of other batches'
    order lines (FOR KEY SHARE on the same products) do not wait on it.
    """
    if not taken:
        return
    locked = Product.objects.filter(id__in=taken).order_by("id").select_for_update(no_key=True)
    for product_id, stock in locked.values_list("id", "stock"):
        if stock is not None and stock < taken[product_id]:
            raise StockChanged(product_id)
    whens = [When(id=pid, then=Value(qty)) for pid, qty in taken.items()]
    Product.objects.filter(id__in=taken, stock__isnull=False).update(
        stock=F("stock") - Case(*whens, default=Value(0), output_field=IntegerField())
    )
