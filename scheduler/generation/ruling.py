"""The shop's order rules on a planned batch, before it is written (orders.rules.creation decides).

This module only turns planned orders into what the rules read of an order — the same names
orders.rules.facts reads from a stored one — so a rule sees the same order here as after it was
written. Each order's "id" is its position in the batch: the ids it will take rise in that order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    # Orders priced alike share one lines object (pricing's memo): read each once.
    read: dict[int, list[tuple[int, str, int]]] = {}
    by_position = []
    for order_lines in lines:
        found = read.get(id(order_lines))
        if found is None:
            found = read[id(order_lines)] = [(ln.product_id, ln.sku, ln.quantity) for ln in order_lines]
        by_position.append(found)
    customers = [p.row.customer_id for p in orders]
    return rules.decide(_orders(rules, orders, run_date), by_position, customers)


def _orders(rules: RulesAtCreation, orders: list[PlannedOrder], run_date: date) -> Iterator[dict[str, Any]]:
    """Each order as writers._order_values writes it, under orders.rules.facts.ORDER_VALUES' names: one
    dict, filled again for each (decide reads it before asking for the next; fewer objects alive)."""
    order: dict[str, Any] = {
        "payment_status": _UNPAID, "customer_comment": "", "tags": [], "creation_date": run_date,
    }  # fmt: skip
    courses, groups, person = rules.course_codes, rules.group_codes, rules.needs_person
    for position, p in enumerate(orders):
        row, priced = p.row, p.priced
        order["id"] = position
        order["status"] = _ON_HOLD if p.hold_reasons else _NEW
        order["payment_kind"] = row.payment_kind or ""
        order["total"] = priced.total
        order["delivery_method_id"] = priced.delivery.method_id  # as priced; a rule may set another
        order["items_subtotal"] = priced.items_subtotal
        order["is_gift"] = p.is_gift
        order["ship_prefecture"] = row.ship_prefecture or ""
        order["ship_remote_island"] = bool(row.ship_remote_island)
        order["delivery_date"] = p.delivery_date
        order["delivery_time_slot"] = row.delivery_time_slot
        order["hold_reasons"] = p.hold_reasons
        order["sequence"] = p.sequence
        order["subscription__course__code"] = courses.get(row.course_id, "")
        order["customer_id"] = row.customer_id
        order["customer__is_blacklisted"] = row.customer_is_blacklisted
        order["customer__group__code"] = groups.get(row.customer_group_id, "")
        if person:
            order["ship_name"] = row.ship_name or ""
            order["ship_phone"] = row.ship_phone or ""
            order["ship_postal_code"] = row.ship_postal_code or ""
            order["ship_line1"] = row.ship_line1 or ""
            order["customer__user__email"] = row.customer_email
        yield order
