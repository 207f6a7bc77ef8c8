"""Writing a planned batch: each app writes its own tables through its bulk.py.

orders.bulk creates the orders and lines, subscriptions.bulk writes the timeline and advances the
schedules, catalog.bulk takes the stock (pricing.bulk records coupon and point use, called by the
batch after this). This module only turns the plan into their rows. COPY on PostgreSQL, Django's
bulk statements elsewhere (core.copy.use_copy; NIGHTLY_WRITER forces one for tests and the bench).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

from catalog.bulk import StockShort, stock_take
from core.copy import use_copy
from orders.bulk import order_lines_bulk_create, orders_bulk_create
from orders.models import OrderStatus, PaymentStatus
from orders.rules.bulk import rules_record_created
from subscriptions.bulk import (
    RawJSON,
    addons_bulk_consume,
    schedule_after_existing_order,
    schedule_after_order,
    schedule_after_skip,
    schedules_bulk_advance,
    timeline_bulk_write,
)
from subscriptions.models import ActorKind
from subscriptions.schedule import delivery_number

from .plan import BatchPlan, PlannedAdvance, PlannedOrder, PlannedSkip
from .ruling import RulesAtCreation, rule_batch

__all__ = ["StockChanged", "use_copy", "write_batch"]

ORDER_CREATED = "order_created"
SEQUENCE_SKIPPED_STOCK = "sequence_skipped_stock_short"
SCHEDULE_ADVANCED = "schedule_advanced"


def write_batch(
    plan: BatchPlan, *, run_date: date, now: datetime, rules: RulesAtCreation | None = None
) -> dict[str, int]:
    """Write the plan; sets PlannedOrder.order_id. Call inside the batch's transaction.

    With `rules` (the shop's order rules, ruling.py) each order is written as its rules leave it
    when that cannot depend on the payment, and their timeline rows with it; without, every order is
    written marked done (no rules to run). Returns the rules' counters."""
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
    # The lines written for each order: the rules read these (item count, SKUs, packages).
    lines = [p.priced.lines for p in plan.orders]
    ruled = rule_batch(rules, plan.orders, lines, run_date=run_date) if rules and rules.rules else None
    ids = orders_bulk_create(
        rows=orders,
        copy=copy,
        ruled=None if ruled is None else [r.columns(now) for r in ruled],
        rules_applied_at=now if rules is not None else None,
    )
    for planned, order_id in zip(plan.orders, ids, strict=True):
        planned.order_id = order_id
    order_lines_bulk_create(orders=list(zip(ids, lines, strict=True)), copy=copy)
    # The ついで買い priced onto these orders are theirs now (the rows were read under the batch's locks).
    addons_bulk_consume(
        consumed=[(addon_id, p.order_id) for p in plan.orders for addon_id, _pid, _qty in p.row.addons],
        now=now,
    )
    events = [
        *(_order_event(p, now) for p in plan.orders),
        *(_skip_event(s, now) for s in plan.skips),
        *(_advance_event(a, now) for a in plan.advances),
    ]
    timeline_bulk_write(events=events, now=now, copy=copy)
    schedules_bulk_advance(updates=_schedule_updates(plan), now=now, copy=copy)
    if ruled is not None:
        counters = rules_record_created(ruled, ids, now=now, creation_date=run_date)
    else:
        counters = {"rules_orders_seen": len(ids)} if rules is not None else {}
    try:
        # Last statement before commit, so concurrent batches wait on hot product rows only for the
        # commit, not for the whole batch.
        stock_take(quantities=plan.stock_taken)
    except StockShort as short:
        raise StockChanged(short.product_ids[0]) from None
    return counters


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
    return "[]" if value == [] else json.dumps(value)


def _same(value: object) -> object:
    return value


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
        row.ship_line1 or "", row.ship_line2 or "", row.ship_phone or "", bool(row.ship_remote_island), p.is_gift,
        row.payment_method_id, row.payment_kind or "", priced.coupon_id,
        priced.items_subtotal, priced.discount_total, priced.shipping_fee, priced.cod_fee, priced.points_used,
        priced.total, encode_summary(priced.tax_summary), "", now, now,
        bool(row.gift_wrapping), row.gift_message or "",
        priced.wrapping_fee, priced.delivery.method_id,
    )  # fmt: skip


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
        f'"cycle_count": {delivery_number(p.row.cycle_count)}'
    )
    if p.hold_reasons:
        after += f', "hold_reasons": {json.dumps(p.hold_reasons)}'
    if p.row.addons:
        addons = ", ".join(f'"{pid}": {qty}' for _id, pid, qty in p.row.addons)
        after += f', "addons": {{{addons}}}'
    note = ""
    if p.moved_from is not None:
        moved_from = p.moved_from.isoformat()
        after += f', "moved_from": "{moved_from}", "moved_to": "{delivery}"'
        note = f"お届け日 {moved_from} に間に合わないため {delivery} に変更しました。"
    return (
        p.row.id,
        now,
        ActorKind.SYSTEM.value,
        None,
        ORDER_CREATED,
        RawJSON(before),
        RawJSON(after + "}"),
        note,
    )


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


def _schedule_updates(plan: BatchPlan) -> list[tuple]:
    return [
        *(
            schedule_after_order(
                p.row,
                next=p.next,
                delivered_on=p.delivery_date,
                anchor_date=p.anchor_date,
                anchor_sequence=p.anchor_sequence,
                needs_attention=p.needs_attention,
            )
            for p in plan.orders
        ),
        *(
            schedule_after_skip(
                s.row,
                next=s.next,
                anchor_date=s.anchor_date,
                anchor_sequence=s.anchor_sequence,
                skipped_sequences=s.skipped_sequences,
            )
            for s in plan.skips
        ),
        *(schedule_after_existing_order(a.row, next=a.next) for a in plan.advances),
    ]


class StockChanged(Exception):
    """Another batch took stock this batch had counted on; the batch is retried with fresh stock."""
