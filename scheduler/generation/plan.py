"""Deciding, in memory, what a claimed batch becomes: orders (some on hold), skips, advances.

No queries here except through the pricing book the caller passes in: the batch was read in a
fixed number of queries and will be written with bulk statements.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from catalog.bulk import stock_short_of
from customers.address_check import address_verdict
from customers.matching import KeyIndex, PersonKeys, name_key
from pricing.pricing import PricedOrder
from subscriptions.models import AttentionReason, StockShortfallPolicy
from subscriptions.schedule import NextDelivery, ScheduleMemo, delivery_number

from .rows import DueRow

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class PlannedOrder:
    row: DueRow
    sequence: int
    delivery_date: date
    moved_from: date | None  # the schedule date that could no longer be met
    hold_reasons: list[str]
    priced: PricedOrder
    takes_stock: bool  # False when held for a stock shortfall: nothing to take yet
    next: NextDelivery
    anchor_date: date
    anchor_sequence: int
    needs_attention: list[str]
    order_id: int | None = None
    is_gift: bool = False


@dataclass(slots=True)
class PlannedSkip:
    """SKIP shortfall policy: no order; the sequence is marked skipped and the customer told.

    It stands in for the order: a missed night's skip falls on the date that order would have been
    moved to, and the schedule re-anchors there just as it would have.
    """

    row: DueRow
    sequence: int
    delivery_date: date
    next: NextDelivery
    skipped_sequences: list[int]
    short_product_ids: list[int]
    anchor_date: date
    anchor_sequence: int


@dataclass(slots=True)
class PlannedAdvance:
    """An order for this sequence already exists (made outside the run): only move the schedule on."""

    row: DueRow
    next: NextDelivery


@dataclass(slots=True)
class BatchPlan:
    orders: list[PlannedOrder] = field(default_factory=list)
    skips: list[PlannedSkip] = field(default_factory=list)
    advances: list[PlannedAdvance] = field(default_factory=list)
    failed_ids: list[int] = field(default_factory=list)
    passed_ids: list[int] = field(default_factory=list)
    # product_id -> quantity taken from stock by this batch
    stock_taken: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class PlanContext:
    run_date: date
    earliest_delivery: date  # the first delivery date an order created on run_date can still meet
    shortfall_policy: str  # a StockShortfallPolicy value
    memo: ScheduleMemo
    book: object  # billing.selectors.PricingBook (or anything with price_subscription_order)
    stock: dict[int, int]  # tracked products' stock left, locked for this batch
    # The blacklisted customers' keys, read once per run (GenerationRun): an order whose customer
    # agrees with one on two or more keys is held, checked in memory.
    blacklist: KeyIndex | None = None


def plan_batch(
    rows: list[DueRow], ctx: PlanContext, *, has_sequence: set[int], ordered_today: set[int]
) -> BatchPlan:
    plan = BatchPlan()
    for row in rows:
        if row.id in ordered_today:
            # Tonight's order exists already (this row is due twice today, or another run made it).
            plan.passed_ids.append(row.id)
            continue
        try:
            _plan_row(row, ctx, plan, already_exists=row.id in has_sequence)
        except Exception:  # noqa: BLE001 - one bad row must not stop the night; it is reported
            logger.exception("nightly: cannot plan subscription %s", row.id)
            plan.failed_ids.append(row.id)
    return plan


def _plan_row(row: DueRow, ctx: PlanContext, plan: BatchPlan, *, already_exists: bool) -> None:
    memo = ctx.memo
    skipped = row.skipped
    sequence = row.next_sequence
    if already_exists:
        nxt = memo.next_delivery(
            row, anchor_date=row.anchor_date, anchor_sequence=row.anchor_sequence, from_sequence=sequence + 1,
            skipped=skipped,
        )  # fmt: skip
        plan.advances.append(PlannedAdvance(row, nxt))
        return
    if not row.items:
        raise ValueError("subscription has no items")

    delivery = row.next_delivery_date
    moved_from = None
    anchor_date, anchor_sequence = row.anchor_date, row.anchor_sequence
    if delivery < ctx.earliest_delivery:
        # A missed run: this delivery can no longer be met. Deliver on the first date that can, and
        # re-anchor there so the following deliveries keep the cycle from the new date.
        moved_from, delivery = delivery, ctx.earliest_delivery
        anchor_date, anchor_sequence = delivery, sequence

    taken = _take_stock(row.goods, ctx.stock)  # the add-ons' stock too, like the course items
    if taken is None and ctx.shortfall_policy == StockShortfallPolicy.SKIP:
        # Skip from the moved anchor too: from the old one, a missed night's next sequence would be
        # due again at once and the run would skip (and email) every past date one by one.
        skipped_list = sorted({*skipped, sequence})
        nxt = memo.next_delivery(
            row, anchor_date=anchor_date, anchor_sequence=anchor_sequence, from_sequence=sequence + 1,
            skipped=frozenset(skipped_list),
        )  # fmt: skip
        short = stock_short_of(ctx.stock, row.goods)
        plan.skips.append(
            PlannedSkip(row, sequence, delivery, nxt, skipped_list, short, anchor_date, anchor_sequence)
        )
        return

    _check_address(row)
    reasons, attention = _hold_reasons(row, stock_short=taken is None, blacklist=ctx.blacklist)
    priced = ctx.book.price_subscription_order(
        subscription=row,
        items=row.items,
        addons=row.addon_items,  # ついで買い: on this order only, at the one-off price
        # 定期回数 after this order: prices and coupons key on it, so an order given back by a
        # cancellation is priced again as that same count (see DESIGN "Counters").
        price_sequence=delivery_number(row.cycle_count),
        payment_kind=row.payment_kind or "",
        address_prefecture=row.ship_prefecture or "",
        remote_island=bool(row.ship_remote_island),
        gift_wrapping=bool(row.gift_wrapping),
    )
    nxt = memo.next_delivery(
        row,
        anchor_date=anchor_date,
        anchor_sequence=anchor_sequence,
        from_sequence=sequence + 1,
        skipped=skipped,
    )
    plan.orders.append(
        PlannedOrder(
            row=row,
            sequence=sequence,
            delivery_date=delivery,
            moved_from=moved_from,
            hold_reasons=reasons,
            priced=priced,
            takes_stock=taken is not None,
            next=nxt,
            anchor_date=anchor_date,
            anchor_sequence=anchor_sequence,
            needs_attention=attention,
            is_gift=_is_gift(row),
        )
    )
    # Only now that the order is planned: a row failing above (pricing, bad cycle data) must leave
    # its stock to the rest of the batch, and the batch must not write it off.
    for product_id, qty in taken or ():
        ctx.stock[product_id] -= qty
        plan.stock_taken[product_id] = plan.stock_taken.get(product_id, 0) + qty


def _hold_reasons(
    row: DueRow, *, stock_short: bool, blacklist: KeyIndex | None = None
) -> tuple[list[str], list[str]]:
    """Why the order is created on hold (sorted), and the subscription's needs-attention list after it."""
    reasons = set(row.needs_attention)
    if row.customer_is_blacklisted:
        reasons.add(AttentionReason.BLACKLISTED.value)
    elif blacklist and blacklist.matches(_row_keys(row), exclude=row.customer_id):
        reasons.add(AttentionReason.SIMILAR_TO_BLACKLISTED.value)
    if row.shipping_address_id is None or row.address_is_invalid:
        reasons.add(AttentionReason.BAD_ADDRESS.value)
    if row.address_problem:
        reasons.add(AttentionReason.ADDRESS_MISMATCH.value)
    attention = list(row.needs_attention)
    if stock_short:
        reasons.add(AttentionReason.STOCK_SHORT.value)
        if AttentionReason.STOCK_SHORT.value not in attention:
            attention.append(AttentionReason.STOCK_SHORT.value)
    return sorted(reasons), attention


def _take_stock(items: list[tuple[int, int]], stock: dict[int, int]) -> list[tuple[int, int]] | None:
    """The tracked items' quantities to take from `stock`, or None when any one is short.

    Nothing is taken here: _plan_row takes them once the order is planned. Rows are planned in
    claim order, so within a batch the earlier subscription gets the stock.
    """
    tracked = [(pid, qty) for pid, qty in items if pid in stock]
    if stock_short_of(stock, tracked):
        return None
    return tracked


def _is_gift(row: DueRow) -> bool:
    """A gift subscription's order, or one whose recipient is not the orderer (as the delivery slip
    decides it, with customers.matching's name folding), is a gift from the moment it exists."""
    if row.gift_id is not None:
        return True
    return bool(row.ship_name) and name_key(row.ship_name) != name_key(row.customer_name)


def _check_address(row: DueRow) -> None:
    """The postal data's word on the shipping address (customers.address_check, cached per code):
    a remote island gets the surcharge flag even when nobody ticked it, and a code that does not
    exist or names another prefecture or city holds the order."""
    if row.shipping_address_id is None:
        return
    verdict = address_verdict(row.ship_postal_code or "", row.ship_prefecture or "", row.ship_city or "")
    row.address_problem = verdict.problem
    if verdict.remote_island:
        row.ship_remote_island = True


def _row_keys(row: DueRow) -> list[PersonKeys]:
    """The order's customer as customers.selectors.customer_keys writes a person (profile, address)."""
    return [
        PersonKeys.of(name=row.customer_name, phone=row.customer_phone, email=row.customer_email),
        PersonKeys.of(name=row.customer_name_kana),
        PersonKeys.of(
            # Most orders go to the orderer: the same name and phone again would only cost time.
            name="" if row.ship_name == row.customer_name else row.ship_name or "",
            phone="" if row.ship_phone == row.customer_phone else row.ship_phone or "",
            postal_code=row.ship_postal_code or "",
            address_line=row.ship_line1 or "",
        ),
    ]
