"""Writing down what the rules did: the timeline rows and the mails, for many orders at once.

Orders that walked the rules alike share one `Walked` (the events, the mails, the state after): its
timeline rows are formatted once as COPY text and only the order id changes from row to row, as the
nightly writer does for order lines. Every matched rule that changed something, or whose action was
refused, is one OrderEvent `rule_applied` whose note is the rule's name (and why it was refused).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from core.copy import NULL, copy_field, copy_text, use_copy

from ..mails import order_mail_queue
from ..models import Order, OrderEvent
from . import engine
from .validation import messages_text

RULE_EVENT = "rule_applied"
EVENT_COLUMNS = ("order_id", "created_at", "actor_id", "kind", "before", "after", "note")


class Walked:
    """What one walk of the rules did, for every order that walked them alike."""

    __slots__ = ("after", "before", "changed", "events", "mails", "_tails")

    def __init__(self, outcome: engine.Outcome) -> None:
        self.before = outcome.before
        self.after = outcome.after
        self.changed = outcome.after != outcome.before
        # (before, after, note) of each timeline row, in rule order.
        self.events: list[tuple[dict[str, Any], dict[str, Any], str]] = []
        self.mails: list[tuple[int | None, str]] = []
        for applied in outcome.applied:
            if applied.before != applied.after or applied.refused:
                note = applied.rule_name
                if applied.refused:
                    note += " — " + " / ".join(messages_text(applied.refused))
                self.events.append(({**applied.before, "rule_id": applied.rule_id}, applied.after, note))
            self.mails.extend((applied.rule_id, mail) for mail in applied.mails)
        self._tails: list[str] | None = None

    def copy_tails(self) -> list[str]:
        """Each timeline row's columns after the actor, as COPY text (formatted once per walk)."""
        if self._tails is None:
            self._tails = [_tail(before, after, note) for before, after, note in self.events]
        return self._tails


def _tail(before: dict[str, Any], after: dict[str, Any], note: str) -> str:
    """A timeline row's columns after the actor (kind, before, after, note), as COPY text."""
    dumps = json.dumps
    return (
        f"\t{RULE_EVENT}\t{copy_field(dumps(before, ensure_ascii=False))}"
        f"\t{copy_field(dumps(after, ensure_ascii=False))}\t{copy_field(note)}\n"
    )


def events_write(walks: Iterable[tuple[int, Walked]], *, now: datetime, actor_user: Any = None) -> int:
    """The timeline rows of each (order id, walk): COPY on PostgreSQL, bulk_create elsewhere."""
    walks = [(order_id, walked) for order_id, walked in walks if walked.events]
    if not walks:
        return 0
    if not use_copy():
        rows = [
            OrderEvent(order_id=oid, actor=actor_user, kind=RULE_EVENT, before=b, after=a, note=n)
            for oid, walked in walks
            for b, a, n in walked.events
        ]
        OrderEvent.objects.bulk_create(rows, batch_size=2000)
        return len(rows)
    head = f"\t{now.isoformat()}\t{NULL if actor_user is None else actor_user.pk}"
    parts = [f"{order_id}{head}{tail}" for order_id, walked in walks for tail in walked.copy_tails()]
    copy_text("orders_orderevent", EVENT_COLUMNS, "".join(parts))
    return len(parts)


def events_copy(rows: Sequence[tuple[int, Any, list]], *, now: datetime) -> int:
    """Timeline rows kept as data ([before, after, note] each), per (order id, key, rows): orders with
    the same key share their rows, formatted once."""
    rows = [row for row in rows if row[2]]
    if not rows:
        return 0
    if not use_copy():
        made = [
            OrderEvent(order_id=oid, kind=RULE_EVENT, before=before, after=after, note=note)
            for oid, _key, events in rows
            for before, after, note in events
        ]
        OrderEvent.objects.bulk_create(made, batch_size=2000)
        return len(made)
    head = f"\t{now.isoformat()}\t{NULL}"
    tails: dict[Any, list[str]] = {}
    parts = []
    for oid, key, events in rows:
        found = tails.get(key)
        if found is None:
            found = tails[key] = [_tail(before, after, note) for before, after, note in events]
        parts.extend(f"{oid}{head}{tail}" for tail in found)
    copy_text("orders_orderevent", EVENT_COLUMNS, "".join(parts))
    return len(parts)


def mails_queue(walks: Iterable[tuple[int, Sequence[tuple[int | None, str]]]]) -> int:
    """The mails the rules send, per (order id, its (rule id, mail) pairs), once per (order, rule,
    mail): the outbox key says so."""
    wanted = [(order_id, rule_id, mail) for order_id, mails in walks for rule_id, mail in mails]
    if not wanted:
        return 0
    orders = Order.objects.select_related("customer__user", "carrier").prefetch_related("lines")
    by_id = {o.pk: o for o in orders.filter(pk__in={w[0] for w in wanted})}
    for order_id, rule_id, event in wanted:
        order_mail_queue(
            order=by_id[order_id], event=event, key=f"order-rule-mail:{order_id}:{rule_id}:{event}"
        )
    return len(wanted)
