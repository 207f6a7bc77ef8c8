"""What the nightly run keeps of the orders whose rules wait for their payment (OrderRulesWalk), for
the stage after the charges (orders.rules.pending).

Orders of a generation batch that walk alike share one OrderRulesWalk row: the tags and method
before the rules and as written with the order, and the walk the usual charge leads to — the order
as that charge leaves it (`expected`, spelled as the stage's claim spells the order it finds) and
what that walk does (`result`), with the ids of its orders.
What the rules test is not kept: an order the charge left otherwise is read afresh at the stage, as
any other order is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from core.copy import copy_field, copy_text, use_copy

from . import engine
from .models import OrderRulesWalk
from .records import Walked

SEP = "\x1f"


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def state_text(before: engine.OrderState, written: engine.OrderState) -> str:
    return json.dumps(
        [list(before.tags), before.delivery_method, list(written.tags), written.delivery_method],
        ensure_ascii=False,
    )


def rules_version(rules: Sequence[engine.Rule]) -> str:
    """A short fingerprint of the rules as they are walked: a kept walk holds only under the rules it
    was worked out with (the shop may change them between the creation and the stage)."""
    canonical = [
        [rule.id, rule.name, rule.stop, [[[c.field, c.op, _plain(c.value)] for c in g] for g in rule.groups],
         [[a.type, _plain(a.value)] for a in rule.actions]]
        for rule in rules
    ]  # fmt: skip
    return hashlib.sha1(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()[:16]


def order_text(status: str, payment: str, hold: str, tags: str, method_id: int | None, version: str) -> str:
    """An order's status, payment, hold reasons and tags (JSON text, as jsonb prints a list of strings:
    json.dumps' spelling), method and the rules' version, as one string to compare."""
    return SEP.join((status, payment, hold, tags, "" if method_id is None else str(method_id), version))


def expected_text(
    status: str, payment: str, hold: Sequence[str], tags: Sequence[str], method_id: int | None, version: str
) -> str:
    dumps = json.dumps
    hold_text, tags_text = dumps(list(hold), ensure_ascii=False), dumps(list(tags), ensure_ascii=False)
    return order_text(status, payment, hold_text, tags_text, method_id, version)


def result_text(walked: Walked, written: engine.OrderState, method_id: int | None) -> str:
    """The usual walk for the stage, as JSON: its timeline rows ([before, after, note] each), the state
    it ends in when that is more than the tags and method written with the order ([status, hold
    reasons, tags, method id], else null), its mails ([rule id, mail] each), whether it changed the
    order."""
    after = walked.after
    final = None
    if (after.status, after.hold_reasons) != (written.status, written.hold_reasons):
        final = [after.status, list(after.hold_reasons), list(after.tags), method_id]
    return json.dumps(
        {"events": walked.events, "final": final, "mails": walked.mails, "changed": walked.changed},
        ensure_ascii=False,
    )


def pending_write(rows: Sequence[tuple[int, tuple[str, str, str]]], *, creation_date: date) -> None:
    """(order id, (state, expected, result)) of the orders whose rules wait for the payment: one row
    per distinct texts, with the ids of its orders."""
    if not rows:
        return
    orders: dict[tuple[str, str, str], list[int]] = {}
    for order_id, texts in rows:
        orders.setdefault(texts, []).append(order_id)
    if not use_copy():
        OrderRulesWalk.objects.bulk_create(
            [
                OrderRulesWalk(creation_date=creation_date, order_ids=ids, state=st, expected=ex, result=re)
                for (st, ex, re), ids in orders.items()
            ]
        )
        return
    day = creation_date.isoformat()
    copy_text(
        OrderRulesWalk._meta.db_table,
        ("creation_date", "order_ids", "state", "expected", "result"),
        "".join(
            f"{day}\t[{', '.join(map(str, ids))}]\t" + "\t".join(copy_field(text) for text in texts) + "\n"
            for texts, ids in orders.items()
        ),
    )
