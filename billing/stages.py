"""Billing's stages of the nightly pipeline (scheduler.pipeline.AFTER_GENERATION).

A simulated run (run_nightly --dry-run) rolls the database back, but money that moved at Stripe
would not come back: inside `simulate()` the stages only count what they would charge.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction

from billing.bulk import payments_bulk_settle
from billing.models import DunningCase, DunningReason, DunningStatus, PaymentAttemptStatus
from billing.services.dunning import dunning_offline_run
from billing.services.dunning_runs import dunning_run
from billing.services.payments import chargeable_orders, orphaned_charges, payment_charge_order
from notifications.bulk import notifications_deliveries_held, notifications_deliveries_publish
from notifications.models import OutboxTask, OutboxTaskStatus
from notifications.outbox import BrokerUnavailable, outbox_dispatch, outbox_enqueue_many
from orders.models import Order
from orders.models import PaymentStatus as P

A = PaymentAttemptStatus

_simulating: ContextVar[bool] = ContextVar("billing_simulating", default=False)


@contextmanager
def simulate() -> Iterator[None]:
    token = _simulating.set(True)
    try:
        yield
    finally:
        _simulating.reset(token)


def simulating() -> bool:
    """True inside `simulate()` (a dry run): stages with effects outside the database hold back."""
    return _simulating.get()


def stage_charge_new_orders(run_date: date) -> dict[str, int]:
    """Charge the orders generation created (and any unpaid new order left from a missed night)."""
    if _simulating.get():
        return {"charged": 0, "payment_failed": 0, "to_charge": chargeable_orders(run_date=run_date).count()}
    if not settings.STRIPE_SECRET_KEY:
        # No gateway configured (a bare `manage.py run_nightly` without the demo's localstripe): failing
        # every card order would hold them all and email every customer; leave them unpaid instead.
        # Offline and free orders need no gateway and are settled all the same.
        settled = payments_bulk_settle(run_date=run_date)
        return {
            "charged": 0,
            "payment_failed": 0,
            **settled,
            "not_charged_no_gateway": chargeable_orders(run_date=run_date).count(),
        }
    return payment_charge_pending(run_date=run_date)


def stage_dunning(run_date: date) -> dict[str, int]:
    """Retry failed payments whose day has come, chase offline payments, renew authorisations."""
    if _simulating.get():
        due = DunningCase.objects.filter(
            status=DunningStatus.OPEN, reason=DunningReason.CARD_FAILED, next_retry_on__lte=run_date
        )
        return {"to_retry": due.count()}
    if not settings.STRIPE_SECRET_KEY:
        return dunning_offline_run(run_date=run_date)  # deadlines need no gateway
    return dunning_run(run_date=run_date)


CHARGE_TASK = "billing.charge_order"
CHARGE_BATCH_TASK = "billing.charge_orders"
# Orders per billing.charge_orders task: its database work is set-based per batch and its gateway
# calls overlap (billing.services.charge_batch); small enough that four workers share a night.
CHARGE_BATCH = 25


def _charges_waiting_in_outbox() -> set[int]:
    rows = OutboxTask.objects.filter(task__in=(CHARGE_TASK, CHARGE_BATCH_TASK)).exclude(
        status=OutboxTaskStatus.DISPATCHED
    )
    waiting: set[int] = set()
    for args in rows.values_list("args", flat=True):
        if args:
            waiting.update(args[0] if isinstance(args[0], list) else [args[0]])
    return waiting


def payment_charge_pending(
    *, order_ids: list[int] | None = None, run_date=None, fan_out: bool | None = None
) -> dict:
    """Charge new orders: the given ones, or every unpaid one created on or before `run_date`.

    Orders that need no gateway (offline, free) are settled in bulk (billing.bulk), so only card
    orders are charged. In-process (embedded default, tests) they are settled first and the charges
    run here, one by one (each gateway call under the shared rate limit), and the counts are final.
    With a broker the offline orders are settled first (the workers are idle meanwhile), then the
    card orders (and any the settlement skipped) are queued as billing.charge_orders batches, and
    only then the settlement's mails, so the workers start on the gateway calls, the long pole of the
    night, before they render mails.
    """
    if fan_out is None:
        fan_out = not settings.CELERY_TASK_ALWAYS_EAGER
    if not fan_out:
        settled = payments_bulk_settle(order_ids=order_ids, run_date=run_date)
        return _charge_here(_to_charge(order_ids, run_date), run_date, _counts(settled))
    with notifications_deliveries_held() as mails:
        settled = payments_bulk_settle(
            order_ids=order_ids,
            run_date=run_date,
            asynchronous_commit=not settings.NIGHTLY_SYNCHRONOUS_COMMIT,
        )
    # Orders the settlement skipped (another process held the row) go the one-by-one way.
    sent = _queue_charges(_to_charge(order_ids, run_date), run_date)
    notifications_deliveries_publish(keys=mails)
    counts = _counts(settled)
    counts["queued"] = sent.queued
    if sent.error:
        raise BrokerUnavailable(
            f"broker unreachable ({sent.error}); {sent.pending} of {sent.total} charges kept in "
            "the outbox for the sweeper"
        )
    return counts


def _to_charge(order_ids: list[int] | None, run_date) -> list[int]:  # noqa: ANN001
    ids = list(chargeable_orders(order_ids=order_ids, run_date=run_date).values_list("pk", flat=True))
    if order_ids is None:
        # A charge a killed worker left open is settled by the next run (reconciled, never re-sent).
        ids = sorted({*ids, *orphaned_charges(run_date=run_date).values_list("pk", flat=True)})
    return ids


def _counts(settled: dict[str, int]) -> dict[str, int]:
    return {
        "charged": 0,
        "payment_failed": 0,
        "requires_action": 0,
        "awaiting_offline": settled["awaiting_offline"],
        "not_required": settled["not_required"],
        "unknown": 0,
        "queued": 0,
    }


@dataclass
class _Queued:
    queued: int = 0
    pending: int = 0
    total: int = 0
    error: str = ""


def _queue_charges(ids: list[int], run_date) -> _Queued:  # noqa: ANN001
    """Recorded first, then published: with the broker down the charges wait in the outbox for the
    sweeper and the stage says it could not run. An order already waiting there is not added again;
    a rerun queues the others afresh (a message a killed worker had reserved may come back later
    too: a batch charges an order once however often it is delivered)."""
    waiting = _charges_waiting_in_outbox()
    run = uuid.uuid4().hex[:12]
    tag = run_date.isoformat() if run_date else "now"
    todo = [i for i in ids if i not in waiting]
    batches = [todo[n : n + CHARGE_BATCH] for n in range(0, len(todo), CHARGE_BATCH)]
    with transaction.atomic():
        keys = outbox_enqueue_many(
            rows=[
                (f"{CHARGE_BATCH_TASK}:orders={b[0]}+{len(b)}:{tag}:{run}", CHARGE_BATCH_TASK, [b])
                for b in batches
            ]
        )
    sent = outbox_dispatch(keys=keys, limit=max(1, len(keys)))
    queued = sum(len(b) for b in batches[: sent.dispatched])
    return _Queued(queued=queued, pending=len(todo) - queued, total=len(ids), error=sent.error)


def _charge_here(ids: list[int], run_date, counts: dict[str, int]) -> dict[str, int]:  # noqa: ANN001
    for order_id in ids:  # payment_charge_order takes from the rate budget only for a gateway call
        attempt = payment_charge_order(order_id=order_id, today=run_date)
        if attempt is None:
            if Order.objects.filter(pk=order_id, payment_status=P.AWAITING_OFFLINE).exists():
                counts["awaiting_offline"] += 1
            continue
        key = {
            A.SUCCEEDED: "charged",
            A.AUTHORIZED: "charged",
            A.FAILED: "payment_failed",
            A.REQUIRES_ACTION: "requires_action",
        }.get(attempt.status, "unknown")
        counts[key] += 1
    return counts
