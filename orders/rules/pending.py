"""The rules stage for the new orders that wait for their payment (OrderRulesWalk).

The nightly run walks the rules over each order it creates (orders.rules.creation). When the walk
depends on the payment — a rule tests the status, the payment or the hold reasons, or moves the
status, holds the order or sends a mail — the order is written with the tags and delivery method
the walk gives when the charge goes the usual way, and orders.rules.kept keeps what the rules test
and that usual walk.

After the charges, `pending_apply` takes the walk rows in batches (FOR UPDATE SKIP LOCKED, deleted
in the same transaction: two overlapping runs share them and apply each once) and reads their
orders' own columns as the charge left them (status, payment, hold reasons, tags, method; no lines,
customers or earlier orders again). An order standing exactly as the usual charge leaves it, under the same rules, gets
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
from .models import OrderRulesWalk
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


def _claim(walker: _Walker, after: int, run_date: date, walks: int) -> tuple[list[tuple], list[int]]:
    """Take the next walk rows (deleted when this transaction commits; another run's are skipped),
    and read their orders as they stand now. Returns the rows and the walk ids taken."""
    taken = list(
        OrderRulesWalk.objects.select_for_update(skip_locked=True)
        .filter(creation_date__lte=run_date, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "order_ids", "state", "expected", "result")[:walks]
    )
    walk_of: dict[int, int] = {}
    for pk, order_ids, state, expected, result in taken:
        walker.kept[pk] = (state, expected, json.loads(result))
        walk_of.update(dict.fromkeys(order_ids, pk))
    if not walk_of:
        return [], [pk for pk, *_rest in taken]
    if connection.vendor != "postgresql":
        dumps = json.dumps
        found = (
            Order.objects.filter(pk__in=walk_of)
            .order_by("pk")
            .values_list(
                "pk", "status", "payment_status", "payment_kind", "hold_reasons", "tags", "delivery_method_id"
            )
        )
        rows = [
            (oid, walk_of[oid], st, pay, kind, dumps(hold or [], ensure_ascii=False), dumps(tags or [], ensure_ascii=False), method)
            for oid, st, pay, kind, hold, tags, method in found
        ]  # fmt: skip
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT o.id, {_ORDER_STATE} FROM orders_order AS o WHERE o.id = ANY(%s) ORDER BY o.id",
                [sorted(walk_of)],
            )
            rows = [(oid, walk_of[oid], *rest) for oid, *rest in cursor.fetchall()]
    return rows, [pk for pk, *_rest in taken]


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
    """The nightly stage's part for the orders the nightly run left waiting for their payment. A
    generation batch leaves a few walk rows (one per way its orders walk): a stage batch takes as
    many as make about `batch_size` orders."""
    walker = _Walker(rules, loader)
    totals: Counter[str] = Counter()
    last_id = 0
    while True:
        with transaction.atomic():
            no_seq_scans()
            rows, taken = _claim(walker, last_id, run_date, max(1, batch_size // 20))
            if not taken:
                break
            last_id = taken[-1]
            totals.update(_apply_batch(walker, rows))
            OrderRulesWalk.objects.filter(pk__in=taken).delete()
    return dict(totals)


def pending_take(*, order_ids: Sequence[int]) -> dict[int, str]:
    """For an on-demand walk (call before locking the orders, in the caller's transaction): take these
    orders off the walk rows that still wait for the stage. Returns, per order taken, its walk's state
    text (the tags and method before the rules and as written), for pending_start."""
    wanted = set(order_ids)
    taken: dict[int, str] = {}
    for walk in OrderRulesWalk.objects.select_for_update().order_by("pk"):
        inside = wanted.intersection(walk.order_ids)
        if not inside:
            continue
        taken.update(dict.fromkeys(inside, walk.state))
        walk.order_ids = [oid for oid in walk.order_ids if oid not in inside]
        if walk.order_ids:
            walk.save(update_fields=["order_ids"])
        else:
            walk.delete()
    return taken


def pending_start(
    facts: list[engine.OrderFacts], taken: Mapping[int, str]
) -> tuple[list[engine.OrderFacts], dict[int, engine.OrderState]]:
    """The facts of orders taken off the list, walked from the tags and method they had before the
    rules; and, for those, the state the orders stand in now."""
    written: dict[int, engine.OrderState] = {}
    result = []
    for f in facts:
        state = taken.get(f.order_id)
        if state is not None:
            tags, method = _start(json.loads(state), list(f.state.tags), f.state.delivery_method)
            written[f.order_id] = f.state
            f = replace(f, state=replace(f.state, tags=tags, delivery_method=method))
        result.append(f)
    return result, written
