"""The shop's order rules on a planned batch, before it is written (orders.rules.creation decides).

This module only turns planned orders into what the rules read of an order — the same names
orders.rules.facts reads from a stored one — so a rule sees the same order here as after it was
written. Each order's "id" is its position in the batch: the ids it will take rise in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from orders.models import OrderStatus, PaymentStatus
from orders.rules.creation import Ruled, RulesAtCreation

from .plan import PlannedOrder

__all__ = ["RulesAtCreation", "rule_batch"]

_NEW, _ON_HOLD, _UNPAID = OrderStatus.NEW.value, OrderStatus.ON_HOLD.value, PaymentStatus.UNPAID.value


def rule_batch(
    rules: RulesAtCreation, orders: list[PlannedOrder], lines: Sequence[Sequence], *, run_date: date
) -> list[Ruled]:
    """What the rules make of each planned order; `lines` are the lines written for each."""
    rows = [_order(rules, position, p, run_date) for position, p in enumerate(orders)]
    # Orders priced alike share one lines object (pricing's memo): read each once.
    read: dict[int, list[tuple[int, str, int]]] = {}
    by_position = {}
    for position, order_lines in enumerate(lines):
        found = read.get(id(order_lines))
        if found is None:
            found = read[id(order_lines)] = [(ln.product_id, ln.sku, ln.quantity) for ln in order_lines]
        by_position[position] = found
    return rules.decide(rows, by_position)


def _order(rules: RulesAtCreation, position: int, p: PlannedOrder, run_date: date) -> dict[str, Any]:
    """The order as writers._order_values writes it, under orders.rules.facts.ORDER_VALUES' names."""
    row, priced = p.row, p.priced
    order: dict[str, Any] = {
        "id": position,
        "status": _ON_HOLD if p.hold_reasons else _NEW,
        "payment_status": _UNPAID,
        "payment_kind": row.payment_kind or "",
        "total": priced.total,
        "items_subtotal": priced.items_subtotal,
        "is_gift": p.is_gift,
        "customer_comment": "",
        "ship_prefecture": row.ship_prefecture or "",
        "ship_remote_island": bool(row.ship_remote_island),
        "delivery_date": p.delivery_date,
        "delivery_time_slot": row.delivery_time_slot,
        "hold_reasons": p.hold_reasons,
        "tags": [],
        "sequence": p.sequence,
        "subscription__course__code": rules.course_codes.get(row.course_id, ""),
        "customer_id": row.customer_id,
        "customer__is_blacklisted": row.customer_is_blacklisted,
        "customer__group__code": rules.group_codes.get(row.customer_group_id, ""),
        "creation_date": run_date,
        "delivery_method_id": None,
    }
    if rules.needs_person:
        order.update(
            ship_name=row.ship_name or "",
            ship_phone=row.ship_phone or "",
            ship_postal_code=row.ship_postal_code or "",
            ship_line1=row.ship_line1 or "",
            customer__user__email=row.customer_email,
        )
    return order
