"""Applying the order rules to many orders at once: evaluated in memory, written in bulk.

Per batch: the facts in a few queries (orders.rules.facts), every order walked through the rules
(orders.rules.engine.evaluate), then one UPDATE per distinct result (orders that end the same way
share it: a handful per batch for ten typical rules), one bulk insert of timeline events and one
UPDATE marking the batch done. Mails a rule sends go through the outbox, keyed per (order, rule,
mail), so a rule never mails an order twice.

Exactly once at creation: the nightly stage claims only orders whose rules_applied_at is still
empty, with FOR UPDATE SKIP LOCKED, and sets it in the same transaction as the changes; a second,
overlapping run skips what the first holds and finds the rest already done.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Product
from subscriptions.selectors import today_in_shop

from ..models import ORDER_TRANSITIONS, Order, OrderEvent, OrderLine, OrderStatus
from ..services import order_release_hold
from . import engine, pending
from .facts import FactsLoader, ids_in, no_seq_scans, walk_key
from .kept import pending_write
from .records import RULE_EVENT, Walked, events_write, mails_queue
from .validation import active_rules

if TYPE_CHECKING:
    from .creation import Ruled

__all__ = [
    "RULE_EVENT",
    "order_rules_apply",
    "order_rules_apply_pending",
    "rules_record_created",
    "stage_order_rules",
]

PREORDER_REASON = "preorder"
PREORDER_TAG = "予約"
# Built in, ahead of the shop's rules: an order with an unreleased pre-order item waits (予約).
PREORDER_RULE = engine.Rule(
    id=None,
    name="予約商品（発売日まで保留）",
    groups=((engine.Condition("has_preorder", "is", True),),),
    actions=(engine.Action("hold", PREORDER_REASON), engine.Action("add_tags", (PREORDER_TAG,))),
)
BATCH_SIZE = 1000


def rules_for_run(
    rules: Sequence[engine.Rule] | None = None, *, always_preorder: bool = False
) -> list[engine.Rule]:
    """The built-in pre-order rule (when the catalogue has pre-order items), then the shop's
    (the active ones unless a draft is given)."""
    shop = list(active_rules() if rules is None else rules)
    if always_preorder or Product.objects.filter(is_preorder=True).exists():
        return [PREORDER_RULE, *shop]
    return shop


def tested_fields(rules: Sequence[engine.Rule]) -> list[str]:
    return sorted(engine.fields_used(rules) - set(engine.STATE_FIELDS))


def rules_evaluate(rules: Sequence[engine.Rule], facts: Sequence[engine.OrderFacts]) -> list[engine.Outcome]:
    """Each order through the rules (the simulation reads every rule's part); orders that walk alike
    share one walk."""
    memo: dict[tuple, engine.Outcome] = {}
    outcomes = []
    for f in facts:
        key = walk_key(f)
        walked = memo.get(key)
        if walked is None:
            walked = memo[key] = engine.evaluate(rules, f, transitions=ORDER_TRANSITIONS)
        outcomes.append(engine.Outcome(f.order_id, walked.before, walked.after, walked.applied))
    return outcomes


def rules_walk(rules: Sequence[engine.Rule], facts: Sequence[engine.OrderFacts]) -> list[tuple[int, Walked]]:
    """(order id, what its walk did) for each order, for writing; orders that walk alike share one."""
    memo: dict[tuple, Walked] = {}
    walks = []
    for f in facts:
        key = walk_key(f)
        walked = memo.get(key)
        if walked is None:
            walked = memo[key] = Walked(engine.evaluate(rules, f, transitions=ORDER_TRANSITIONS))
        walks.append((f.order_id, walked))
    return walks


def _json_key(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def outcomes_write(
    *,
    walks: Sequence[tuple[int, Walked]],
    loader: FactsLoader,
    actor_user: Any = None,
    mark_applied: datetime | None = None,
    written: Mapping[int, engine.OrderState] | None = None,
) -> dict[str, int]:
    """Write what the rules changed: orders updated in groups (one UPDATE per distinct result), one
    timeline event per matched rule that changed something, the rules' mails queued. `written`: the
    state an order stands in when it is not the walk's `before` (an order the nightly run wrote with
    the tags its rules would likely give, orders.rules.pending). Call inside a transaction."""
    now = timezone.now()
    groups: dict[tuple, list[int]] = defaultdict(list)
    written = written or {}
    for order_id, walked in walks:
        if walked.after != written.get(order_id, walked.before):
            after = walked.after
            key = (after.status, _json_key(after.hold_reasons), _json_key(after.tags), after.delivery_method)
            groups[key].append(order_id)
    for (status, reasons, tags, method), ids in groups.items():
        ids_in(Order.objects.all(), ids).update(
            status=status,
            hold_reasons=json.loads(reasons),
            tags=json.loads(tags),
            delivery_method_id=loader.method_pk(method),
            updated_at=now,
            # Marked done in the same UPDATE: one new row version per changed order, not two.
            **({"rules_applied_at": mark_applied} if mark_applied else {}),
        )
    events = events_write(walks, now=now, actor_user=actor_user)
    mails = mails_queue([(oid, walked.mails) for oid, walked in walks])
    return {
        "rules_orders_changed": sum(1 for _id, walked in walks if walked.changed),
        "rules_events": events,
        "rules_mails": mails,
    }


def rules_record_created(
    ruled: Sequence[Ruled], order_ids: Sequence[int], *, now: datetime, creation_date: date
) -> dict[str, int]:
    """Once the batch's orders have their ids: the timeline rows and mails of the orders ruled now,
    the pending rows of those that wait for their payment. Counters for the run's report."""
    walks = [(oid, r.walked) for oid, r in zip(order_ids, ruled, strict=True) if r.walked is not None]
    waiting = [(oid, r.pending) for oid, r in zip(order_ids, ruled, strict=True) if r.pending is not None]
    pending_write(waiting, creation_date=creation_date)
    return {
        "rules_orders_seen": len(walks),
        "rules_orders_changed": sum(1 for _oid, walked in walks if walked.changed),
        "rules_events": events_write(walks, now=now),
        "rules_mails": mails_queue([(oid, walked.mails) for oid, walked in walks]),
        "rules_waiting_payment": len(waiting),
    }


def order_rules_apply_pending(*, run_date: date, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """The nightly stage: the rules on every order created up to `run_date` they have not run on yet.

    First the orders the nightly run left waiting for their payment (orders.rules.pending: their
    facts were read when they were created), then any other order whose rules have not run
    (rules_applied_at empty: made outside the nightly run, or left by it when a fact it could not be
    sure of was tested)."""
    rules = rules_for_run()
    loader = FactsLoader(rules=rules, today=run_date)
    totals: Counter[str] = Counter(pending.pending_apply(rules=rules, loader=loader, run_date=run_date))
    last_id = 0
    while True:
        with transaction.atomic():
            no_seq_scans()
            ids = list(
                Order.objects.select_for_update(skip_locked=True)
                .filter(rules_applied_at__isnull=True, creation_date__lte=run_date, pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            last_id = ids[-1]
            now = timezone.now()
            unchanged = ids
            if rules:
                walks = rules_walk(rules, loader.load(ids))
                totals.update(outcomes_write(walks=walks, loader=loader, mark_applied=now))
                unchanged = [order_id for order_id, walked in walks if not walked.changed]
            if unchanged:
                ids_in(Order.objects.all(), unchanged).update(rules_applied_at=now)
            totals["rules_orders_seen"] += len(ids)
    return dict(totals) or {"rules_orders_seen": 0}


def order_rules_apply(
    *, order_ids: Sequence[int], actor_user: Any = None, rules: Sequence[engine.Rule] | None = None
) -> dict[str, int]:
    """On demand (the admin's action on a selection, an order created by staff): the rules on these
    orders now, whether or not they ran before. A mail a rule already sent is not sent again. An
    order still waiting for the nightly stage (orders.rules.pending) is taken off its list: this is
    its walk, from the tags and method it had before the rules."""
    rules = rules_for_run(rules)
    loader = FactsLoader(rules=rules, today=today_in_shop())
    totals: Counter[str] = Counter()
    ordered = sorted(set(order_ids))
    for start in range(0, len(ordered), BATCH_SIZE):
        chunk = ordered[start : start + BATCH_SIZE]
        with transaction.atomic():
            # The waiting list before the orders: the stage takes them in that order too.
            taken = pending.pending_take(order_ids=chunk)
            locked = list(
                Order.objects.select_for_update()
                .filter(pk__in=chunk)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            facts, written = pending.pending_start(loader.load(locked), taken)
            walks = rules_walk(rules, facts)
            totals.update(outcomes_write(walks=walks, loader=loader, actor_user=actor_user, written=written))
            Order.objects.filter(pk__in=locked, rules_applied_at__isnull=True).update(
                rules_applied_at=timezone.now()
            )
            totals["rules_orders_seen"] += len(locked)
    return dict(totals)


def stage_order_rules(run_date: date) -> dict[str, int]:
    """Nightly, after the charges (so rules see the payment outcome and 出荷待ち never skips a charge):
    the rules on the orders created tonight, and pre-orders whose release date has come released."""
    return {**order_rules_apply_pending(run_date=run_date), **preorders_release_due(run_date=run_date)}


def preorders_release_due(*, run_date: date) -> dict[str, int]:
    """Held pre-orders whose every pre-order item is released by `run_date` lose the 予約 hold; with
    no other hold reason left the hold is released (orders.services.order_release_hold), else the
    order stays held for the others."""
    candidates = (
        Order.objects.filter(status=OrderStatus.ON_HOLD, lines__product__is_preorder=True)
        .distinct()
        .values_list("pk", "hold_reasons")
    )
    held = [pk for pk, reasons in candidates if PREORDER_REASON in (reasons or ())]
    if not held:
        return {"preorders_released": 0}
    waiting = set(
        OrderLine.objects.filter(order_id__in=held, product__is_preorder=True)
        .filter(Q(product__release_date__isnull=True) | Q(product__release_date__gt=run_date))
        .values_list("order_id", flat=True)
    )
    released = 0
    for order_id in sorted(set(held) - waiting):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if PREORDER_REASON not in order.hold_reasons or order.status != OrderStatus.ON_HOLD:
                continue
            rest = [r for r in order.hold_reasons if r != PREORDER_REASON]
            if rest:
                OrderEvent.objects.create(
                    order=order,
                    kind=RULE_EVENT,
                    before={"hold_reasons": order.hold_reasons},
                    after={"hold_reasons": rest},
                    note=PREORDER_RULE.name,
                )
                order.hold_reasons = rest
                order.save(update_fields=["hold_reasons", "updated_at"])
            else:
                # Stock short was not a reason here, so releasing takes none; the event records the hold lifted.
                order_release_hold(order_id=order_id, note=PREORDER_RULE.name)
            released += 1
    return {"preorders_released": released}
