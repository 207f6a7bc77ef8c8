"""The rules stage for the new orders that wait for their payment (OrderRulesPending).

The nightly run walks the rules over each order it creates (orders.rules.creation). When the walk
depends on the payment — a rule tests the status, the payment or the hold reasons, or moves the
status, holds the order or sends a mail — the order is written with the tags and delivery method
the walk gives when the charge goes the usual way, and orders.rules.kept keeps what the rules test
and that usual walk.

After the charges, `pending_apply` takes the pending rows in batches (DELETE … RETURNING, FOR UPDATE
SKIP LOCKED: two overlapping runs share them and apply each once) with the order's own columns as
the charge left them (status, payment, hold reasons, tags, method; no lines, customers or earlier
orders again). An order standing exactly as the usual charge leaves it, under the same rules, gets
the usual walk's timeline rows and nothing else: its tags and method were written with it. Any
other is walked again from the tags and method it had before the rules, and only what differs from
what the order shows is written, with a guarded UPDATE (an order someone changed meanwhile is read
again under its lock and walked again).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ..models import ORDER_TRANSITIONS, Order
from . import engine
from .facts import FactsLoader, no_seq_scans, walk_key
from .kept import order_text, rules_version
from .models import OrderRulesPending, OrderRulesWalk
from .records import Walked, events_copy, events_write, mails_queue

BATCH_SIZE = 1000
_ORDER_STATE = (
    "o.status, o.payment_status, o.payment_kind, o.hold_reasons::text, o.tags::text, o.delivery_method_id"
)
# A claimed row: (order id, walk id, status, payment, kind, hold reasons text, tags text, method id).
_ID, _WALK, _STATUS, _PAYMENT, _KIND, _HOLD, _TAGS, _METHOD = range(8)


def _start(state: tuple, row_tags: list[str], row_method: str) -> tuple[tuple[str, ...], str]:
    """The tags and method to walk from: those before the rules, unless someone changed what the
    nightly run wrote (then the order as it stands, as a walk after the charge would find it)."""
    tags_before, method_before, tags_written, method_written = state
    if row_tags == tags_written and row_method == method_written:
        return tuple(tags_before), method_before
    return tuple(row_tags), row_method


class _Walker:
    """The usual walks kept for the claimed rows, and the walk over the others."""

    def __init__(self, rules: Sequence[engine.Rule], loader: FactsLoader) -> None:
        self.rules = rules
        self.loader = loader
        self.version = rules_version(rules)
        self.kept: dict[int, tuple[str, str, dict[str, Any]]] = {}  # walk id -> (state, expected, result)

    def read_walks(self, rows: list[tuple]) -> None:
        wanted = {row[_WALK] for row in rows} - self.kept.keys()
        if wanted:
            found = OrderRulesWalk.objects.filter(pk__in=wanted).values_list(
                "pk", "state", "expected", "result"
            )
            self.kept.update(
                (pk, (state, expected, json.loads(result))) for pk, state, expected, result in found
            )

    def as_expected(self, row: tuple) -> bool:
        """The order stands as the usual charge leaves it, under the rules the walk was kept with."""
        kept = self.kept.get(row[_WALK])
        if kept is None:
            return False
        now = order_text(row[_STATUS], row[_PAYMENT], row[_HOLD], row[_TAGS], row[_METHOD], self.version)
        return now == kept[1]

    def usual(self, rows: list[tuple]) -> tuple[list, dict[tuple, list[int]]]:
        """The rows standing as expected: (order id, walk id, result) each, and the updates of those
        whose usual walk ends in more than the tags and method already written (a hold)."""
        found, groups = [], defaultdict(list)
        for row in rows:
            result = self.kept[row[_WALK]][2]
            found.append((row[_ID], row[_WALK], result))
            final = result["final"]
            if final is not None:
                status, hold, tags, method_id = final
                after = engine.OrderState(
                    status, tuple(hold), tuple(tags), self.loader.method_code(method_id)
                )
                was = engine.OrderState(
                    row[_STATUS], tuple(json.loads(row[_HOLD])), tuple(json.loads(row[_TAGS])),
                    self.loader.method_code(row[_METHOD]),
                )  # fmt: skip
                groups[(after, was, row[_METHOD])].append(row[_ID])
        return found, groups

    def walk(self, rows: list[tuple]) -> dict[int, tuple[Walked, engine.OrderState]]:
        """The others: their facts read as the stage reads any order, walked from the tags and method
        they had before the rules (unless someone changed those since). Orders alike share a walk."""
        states = {row[_ID]: self.kept.get(row[_WALK]) for row in rows}
        memo: dict[tuple, Walked] = {}
        result = {}
        for f in self.loader.load(sorted(states)):
            now = f.state
            kept = states[f.order_id]
            if kept is not None:
                tags, method = _start(json.loads(kept[0]), list(now.tags), now.delivery_method)
                f = replace(f, state=replace(now, tags=tags, delivery_method=method))
            key = walk_key(f)
            walked = memo.get(key)
            if walked is None:
                walked = memo[key] = Walked(engine.evaluate(self.rules, f, transitions=ORDER_TRANSITIONS))
            result[f.order_id] = (walked, now)
        return result


def _claim(after: int, run_date: date, limit: int) -> list[tuple]:
    """Take the next rows off the list (they are gone when this transaction commits), with the order
    each belongs to as it stands now."""
    if connection.vendor != "postgresql":
        found = list(
            OrderRulesPending.objects.filter(order_id__gt=after, order__creation_date__lte=run_date)
            .order_by("order_id")
            .values_list(
                "order_id", "walk_id", "order__status", "order__payment_status", "order__payment_kind",
                "order__hold_reasons", "order__tags", "order__delivery_method_id",
            )[:limit]
        )  # fmt: skip
        OrderRulesPending.objects.filter(order_id__in=[r[_ID] for r in found]).delete()
        dumps = json.dumps
        return [
            (*r[:5], dumps(r[5] or [], ensure_ascii=False), dumps(r[6] or [], ensure_ascii=False), r[7])
            for r in found
        ]
    table = OrderRulesPending._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            # The creation date as a scalar subquery: one index probe per row. As a join, the planner
            # merged it with a scan of the orders' primary key from its start, every batch.
            f"DELETE FROM {table} AS p USING orders_order AS o WHERE o.id = p.order_id AND p.order_id IN "
            f"(SELECT q.order_id FROM {table} AS q WHERE q.order_id > %s AND "
            "(SELECT d.creation_date FROM orders_order AS d WHERE d.id = q.order_id) <= %s "
            "ORDER BY q.order_id LIMIT %s FOR UPDATE OF q SKIP LOCKED) "
            f"RETURNING p.order_id, p.walk_id, {_ORDER_STATE}",
            [after, run_date, limit],
        )
        return sorted(cursor.fetchall())


def _reread_locked(rows: list[tuple]) -> list[tuple]:
    """Rows whose order changed between the claim and the update, read again under the order's lock."""
    walk_of = {r[_ID]: r[_WALK] for r in rows}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.id, {_ORDER_STATE} FROM orders_order AS o WHERE o.id = ANY(%s) ORDER BY o.id "
            "FOR NO KEY UPDATE",
            [sorted(walk_of)],
        )
        return [(oid, walk_of[oid], *rest) for oid, *rest in cursor.fetchall()]


def _update(groups: Mapping[tuple, list[int]], loader: FactsLoader, *, guarded: bool) -> set[int]:
    """Set each group's orders to the walk's result; with `guarded`, only where the order still stands
    as it was read. Returns the ids left alone (changed meanwhile)."""
    now = timezone.now()
    missed: set[int] = set()
    for (after, was, was_method_id), ids in groups.items():
        changes = {
            "status": after.status,
            "hold_reasons": list(after.hold_reasons),
            "tags": list(after.tags),
            "delivery_method_id": loader.method_pk(after.delivery_method),
            "updated_at": now,
        }
        if not guarded or connection.vendor != "postgresql":
            Order.objects.filter(pk__in=ids).update(**changes)
            continue
        with connection.cursor() as cursor:
            # The guard is one row comparison, which no index serves: right after generation the
            # planner's statistics are stale and it chose the status and method indexes over the id.
            cursor.execute(
                "UPDATE orders_order AS o SET status = %s, hold_reasons = %s::jsonb, tags = %s::jsonb, "
                "delivery_method_id = %s, updated_at = %s FROM unnest(%s::bigint[]) AS u(id) "
                "WHERE o.id = u.id AND (o.status, o.hold_reasons, o.tags, o.delivery_method_id) "
                "IS NOT DISTINCT FROM (%s, %s::jsonb, %s::jsonb, %s::bigint) RETURNING o.id",
                [
                    after.status, json.dumps(changes["hold_reasons"]), json.dumps(changes["tags"]),
                    changes["delivery_method_id"], now, ids, was.status, json.dumps(list(was.hold_reasons)),
                    json.dumps(list(was.tags)), was_method_id,
                ],
            )  # fmt: skip
            missed.update(set(ids) - {r[0] for r in cursor.fetchall()})
    return missed


def _walk_rows(walker: _Walker, rows: list[tuple]) -> tuple[dict[int, Walked], dict[tuple, list[int]]]:
    walks: dict[int, Walked] = {}
    groups: dict[tuple, list[int]] = defaultdict(list)
    methods = {row[_ID]: row[_METHOD] for row in rows}
    for order_id, (walked, now) in walker.walk(rows).items():
        walks[order_id] = walked
        if walked.after != now:
            groups[(walked.after, now, methods[order_id])].append(order_id)
    return walks, groups


def _apply_batch(walker: _Walker, rows: list[tuple]) -> dict[str, int]:
    walker.read_walks(rows)
    expected, others = [], []
    for row in rows:
        (expected if walker.as_expected(row) else others).append(row)
    usual, holds = walker.usual(expected)
    walks, groups = _walk_rows(walker, others)
    missed = _update({**holds, **groups}, walker.loader, guarded=True)
    if missed:
        # Changed by someone between the claim and the update: read again under the lock, walked again.
        usual = [u for u in usual if u[0] not in missed]
        walks = {oid: walked for oid, walked in walks.items() if oid not in missed}
        again, groups = _walk_rows(walker, _reread_locked([r for r in rows if r[_ID] in missed]))
        walks.update(again)
        _update(groups, walker.loader, guarded=False)
    ordered = sorted(walks.items())
    now = timezone.now()
    return {
        "rules_orders_seen": len(rows),
        "rules_orders_changed": sum(1 for walked in walks.values() if walked.changed)
        + sum(1 for _oid, _walk, result in usual if result["changed"]),
        "rules_events": events_write(ordered, now=now)
        + events_copy([(oid, walk, result["events"]) for oid, walk, result in usual], now=now),
        "rules_mails": mails_queue([(oid, walked.mails) for oid, walked in ordered])
        + mails_queue([(oid, result["mails"]) for oid, _walk, result in usual]),
    }


def pending_apply(
    *, rules: Sequence[engine.Rule], loader: FactsLoader, run_date: date, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """The nightly stage's part for the orders the nightly run left waiting for their payment."""
    walker = _Walker(rules, loader)
    totals: Counter[str] = Counter()
    last_id = 0
    while True:
        with transaction.atomic():
            no_seq_scans()
            rows = _claim(last_id, run_date, batch_size)
            if not rows:
                break
            last_id = rows[-1][_ID]
            totals.update(_apply_batch(walker, rows))
    _forget_walks()
    return dict(totals)


def _forget_walks() -> None:
    """Walk rows no pending order points to any more (a walk row and its pending rows are written in
    one transaction, so one still being written is not seen here)."""
    OrderRulesWalk.objects.exclude(pk__in=OrderRulesPending.objects.values("walk_id")).delete()


def pending_take(
    *, order_ids: Sequence[int], facts: list[engine.OrderFacts]
) -> tuple[list[engine.OrderFacts], dict[int, engine.OrderState]]:
    """For an on-demand walk over locked orders: take the ones still waiting off the list, and walk
    them from the tags and method they had before the rules. Returns the facts to walk and, for
    those, the state the orders stand in now."""
    taken = dict(OrderRulesPending.objects.filter(order_id__in=order_ids).values_list("order_id", "walk_id"))
    if not taken:
        return facts, {}
    OrderRulesPending.objects.filter(order_id__in=list(taken)).delete()
    states = dict(OrderRulesWalk.objects.filter(pk__in=set(taken.values())).values_list("pk", "state"))
    written: dict[int, engine.OrderState] = {}
    result = []
    for f in facts:
        state = states.get(taken.get(f.order_id, -1))
        if state is not None:
            tags, method = _start(json.loads(state), list(f.state.tags), f.state.delivery_method)
            written[f.order_id] = f.state
            f = replace(f, state=replace(f.state, tags=tags, delivery_method=method))
        result.append(f)
    return result, written
