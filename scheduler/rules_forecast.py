"""The orders the next nights would create, for the order-rule simulation (orders.rules.simulation).

Generation runs night after night inside one transaction that is always rolled back, under the
billing dry-run switch, exactly as `run_nightly --dry-run` does; the caller's callback reads the
orders while they exist. Card orders are taken as charged (the rules run after the charges at night),
so a rule that sends paid card orders to 出荷待ち shows what it will do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max

from billing.stages import simulate
from orders.models import Order, PaymentStatus

from .generation import generate_due


class _Rollback(Exception):
    pass


def dry_run_orders(start: date, days: int, callback: Callable[[list[int]], Any]) -> Any:
    """callback(ids of the orders nights start … start+days-1 would create), then roll everything back."""
    result: list[Any] = []
    try:
        with transaction.atomic(), simulate():
            before = Order.objects.aggregate(m=Max("pk"))["m"] or 0
            for night in range(days):
                # Written as before any rule: the simulation walks the draft over them.
                generate_due(run_date=start + timedelta(days=night), apply_rules=False)
            created = Order.objects.filter(pk__gt=before)
            created.filter(payment_kind="card", payment_status=PaymentStatus.UNPAID).update(
                payment_status=PaymentStatus.PAID
            )
            result.append(callback(list(created.values_list("pk", flat=True))))
            raise _Rollback
    except _Rollback:
        pass
    return result[0]
