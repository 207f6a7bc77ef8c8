"""The shop's order rules over the orders the nightly run creates, inside the generation batch.

The nightly run used to write every order, charge it, then read it again and rewrite it in the
rules stage. Now each generation batch walks the rules over its orders from memory, before they are
written, and each order ends one of three ways:

- **now**: the walk cannot depend on the payment (orders.rules.partial: it reads no status, payment
  or hold reason and only tags or sets the delivery method), or the order is created on hold and so
  is not charged tonight. It is written once, as the rules leave it, marked done, its timeline rows
  by COPY in the same transaction; a rule's mail is queued there too (only on held orders).
- **pending**: the walk depends on the payment. The order is written with the tags and delivery
  method the walk gives when the charge goes the usual way (the charge reads neither) and marked
  done, and an OrderRulesWalk row keeps that usual walk; the stage after the charges writes its
  timeline rows when the order stands as that charge leaves it, and walks any other again on the
  order as it stands (orders.rules.pending).
- **later**: a fact the rules test could still change before the stage (a repeat customer whose
  other subscriptions another lane may be ordering right now), or a rule would release a held
  order into the charges. Written as before the rules, rules_applied_at empty: the stage's usual
  path reads and walks it after the charges, as it did every order before.

Whatever the way, the order ends as a walk after the charges would leave it, with the same timeline
rows (only their time differs for "now"): tests/orders/test_rules_creation.py compares both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Count

from catalog.models import Course
from customers.models import CustomerGroup
from subscriptions.models import Subscription

from ..models import ORDER_TRANSITIONS, Order, OrderStatus
from . import engine, kept
from .bulk import rules_for_run, tested_fields
from .facts import FactsLoader, can_ship
from .partial import expected_after_charge, walk_before_payment
from .records import Walked

NOW, PENDING, LATER = "now", "pending", "later"
MEMO_LIMIT = 10_000


@dataclass(slots=True, eq=False)
class Ruled:
    """How one order is written: its rule columns, and what is recorded once it has an id. Orders that
    walk alike share one."""

    way: str  # NOW, PENDING or LATER
    status: str
    hold_reasons: tuple[str, ...]
    tags: tuple[str, ...]
    delivery_method_id: int | None
    walked: Walked | None = None  # NOW: the timeline rows and mails to record
    pending: tuple[str, str, str] | None = None  # PENDING: kept.pending_write's texts
    _columns: tuple | None = None

    def columns(self, now: datetime) -> tuple:
        """(status, hold reasons, tags, delivery method id, rules_applied_at) for orders.bulk: the same
        tuple for every order sharing this Ruled in a batch, so it is encoded once."""
        if self._columns is None or self._columns[-1] != (None if self.way == LATER else now):
            applied = None if self.way == LATER else now
            self._columns = (
                self.status,
                list(self.hold_reasons),
                list(self.tags),
                self.delivery_method_id,
                applied,
            )
        return self._columns


class RulesAtCreation:
    """What stays the same for a generation run: the active rules (read once, as the run's pricing
    catalogue is), the facts loader's catalogue side, and the course and group codes."""

    def __init__(self, *, today: date) -> None:
        self.rules = rules_for_run()
        self.used = tested_fields(self.rules)
        self.needs_person = "customer_similar_blacklisted" in self.used
        self.course_codes: dict[int, str] = {}
        self.group_codes: dict[int, str] = {}
        self._memo: dict[tuple, Ruled] = {}
        if not self.rules:
            return  # nothing to walk: every order is written marked done
        self.version = kept.rules_version(self.rules)
        self.loader = FactsLoader(rules=self.rules, today=today)
        if "course" in self.used:
            self.course_codes = dict(Course.objects.values_list("pk", "code"))
        if "customer_group" in self.used:
            self.group_codes = dict(CustomerGroup.objects.values_list("pk", "code"))

    def decide(
        self,
        rows: Iterable[dict[str, Any]],
        lines: Sequence[list[tuple[int, str, int]]],
        customers: Sequence[int],
    ) -> list[Ruled]:
        """One Ruled per order, in order. `rows` are the new orders as FactsLoader reads orders (one at
        a time: each is read before the next is asked for), their "id" the position in the batch (the
        ids the batch will take rise in that order); `lines` per position, (product id, SKU,
        quantity); `customers` the customer of each. Orders alike in what the walk reads share one
        Ruled, worked out once (the facts object is only built for the first)."""
        repeat = "customer_repeater" in self.used
        first_order, unsure = _first_orders(customers) if repeat else ({}, set())
        loader = self.loader
        loader.products_of(dict(enumerate(lines)))
        if len(self._memo) > MEMO_LIMIT:
            self._memo.clear()
        result = []
        for row in rows:
            order_lines = lines[row["id"]]
            values, fits = loader.values_of(row, order_lines, first_order)
            doubt = repeat and row["customer_id"] in unsure
            key = (
                tuple(values.values()), row["status"], tuple(row["hold_reasons"] or ()), tuple(row["tags"] or ()),
                row["delivery_method_id"], fits, row["payment_kind"], row["total"] == 0, doubt,
            )  # fmt: skip
            ruled = self._memo.get(key)
            if ruled is None:
                f = engine.OrderFacts(
                    order_id=row["id"],
                    state=loader.state_of(row),
                    values=values,
                    can_ship=can_ship(row["payment_status"], row["payment_kind"]),
                    fitting_methods=fits,
                )
                ruled = self._memo[key] = self._decide(f, row, doubt)
            result.append(ruled)
        return result

    def _decide(self, f: engine.OrderFacts, row: dict[str, Any], doubt: bool) -> Ruled:
        state = f.state
        unchanged = Ruled(LATER, state.status, state.hold_reasons, state.tags, row["delivery_method_id"])
        if doubt:
            return unchanged
        if state.status != OrderStatus.NEW:
            # Held from its creation: not charged tonight, so the walk is the one the stage would make
            # — unless it sends the order back to 新規, where it would be charged tonight.
            walked = Walked(engine.evaluate(self.rules, f, transitions=ORDER_TRANSITIONS))
            if walked.after.status == OrderStatus.NEW:
                return unchanged
            return self._ruled(NOW, walked.after, walked=walked)
        outcome = walk_before_payment(self.rules, f, transitions=ORDER_TRANSITIONS)
        if outcome is not None:
            return self._ruled(NOW, outcome.after, walked=Walked(outcome))
        status, payment = expected_after_charge(payment_kind=row["payment_kind"], total=row["total"])
        charged = replace(
            f,
            state=replace(state, status=status),
            values={**f.values, "payment_status": payment},
            can_ship=can_ship(payment, row["payment_kind"]),
        )
        usual = Walked(engine.evaluate(self.rules, charged, transitions=ORDER_TRANSITIONS))
        likely = usual.after
        written = replace(state, tags=likely.tags, delivery_method=likely.delivery_method)
        # Should the order stand as the usual charge leaves it at the stage, this walk is its walk.
        method_id = self.loader.method_pk(likely.delivery_method)
        expected = kept.expected_text(
            status, payment, state.hold_reasons, likely.tags, method_id, self.version
        )
        charged_state = replace(written, status=status)
        texts = (kept.state_text(state, written), expected, kept.result_text(usual, charged_state, method_id))
        return self._ruled(PENDING, written, texts=texts)

    def _ruled(
        self,
        way: str,
        after: engine.OrderState,
        *,
        walked: Walked | None = None,
        texts: tuple[str, str, str] | None = None,
    ) -> Ruled:
        method_id = self.loader.method_pk(after.delivery_method)
        return Ruled(way, after.status, after.hold_reasons, after.tags, method_id, walked, texts)


def _first_orders(customers: Sequence[int]) -> tuple[dict[int, int], set[int]]:
    """Per customer, the position of their first order in the batch (-1: one exists already) for the
    repeater test, and the customers it cannot be sure of: no order visible yet, and another
    subscription that another lane may be ordering for at this moment (its order could take a lower
    id)."""
    ordered, several = _customers_seen(set(customers))
    first: dict[int, int] = dict.fromkeys(ordered, -1)
    for position, customer in enumerate(customers):
        first.setdefault(customer, position)
    return first, several - ordered


def _customers_seen(customers: set[int]) -> tuple[set[int], set[int]]:
    """(customers with an order already, customers with more than one subscription)."""
    if connection.vendor != "postgresql":
        ordered = set(Order.objects.filter(customer_id__in=customers).values_list("customer_id", flat=True))
        several = (
            Subscription.objects.filter(customer_id__in=customers)
            .values("customer_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list("customer_id", flat=True)
        )
        return ordered, set(several)
    with connection.cursor() as cursor:
        # Index probes per customer whatever the statistics say (the orders table grows all night).
        # (The second probe only for a customer the first found no order of: most nights, few.)
        cursor.execute(
            "SELECT c.id, CASE WHEN EXISTS (SELECT 1 FROM orders_order WHERE customer_id = c.id) THEN 1 "
            "WHEN EXISTS (SELECT 1 FROM subscriptions_subscription WHERE customer_id = c.id OFFSET 1) THEN 2 "
            "ELSE 0 END FROM unnest(%s::bigint[]) AS c(id)",
            [sorted(customers)],
        )
        found = cursor.fetchall()
    return {c for c, seen in found if seen == 1}, {c for c, seen in found if seen == 2}
