"""The nightly pipeline: the stages around generation, each a function of the run date returning counters.

Order matters:
- Before generation, paused subscriptions whose resume date has come are resumed, so the order for
  a subscription resuming today is created tonight rather than tomorrow (when its date would
  already have to be moved).
- Generation (scheduler.generation), in batches, in-process here or fanned out by scheduler.tasks.
- After generation: charging new orders (billing adds its stage at the head of AFTER_GENERATION),
  reminders, and expiry of whatever expires (billing adds point expiry).

Every stage is idempotent on its own: resumes only touch rows still paused, reminders are keyed
per (subscription, sequence) in the notification log, so running a stage twice for a date is safe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from kombu.exceptions import OperationalError as KombuOperationalError

from billing.stages import simulating, stage_charge_new_orders, stage_dunning
from core.errors import Conflict
from notifications.models import Notification
from notifications.outbox import BrokerUnavailable, outbox_sweep
from notifications.services import notification_send
from orders.rules.bulk import stage_order_rules
from pricing.services.points import stage_expire_points
from scheduler.generation import BatchResult, generate_due
from subscriptions.actors import Actor
from subscriptions.models import ShopPolicy, Subscription, SubscriptionStatus, TimeSlot
from subscriptions.selectors import change_deadline, upcoming_deliveries
from subscriptions.services import subscription_resume

logger = logging.getLogger(__name__)

Stage = Callable[[date], dict[str, int]]


def stage_resume_paused(run_date: date) -> dict[str, int]:
    """Resume paused subscriptions whose resume date (paused_until) is on or before the run date."""
    ids = list(
        Subscription.objects.filter(status=SubscriptionStatus.PAUSED, paused_until__lte=run_date)
        .order_by("id")
        .values_list("id", flat=True)
    )
    resumed = 0
    for subscription_id in ids:
        try:
            subscription_resume(subscription_id=subscription_id, actor=Actor.system(), today=run_date)
        except Conflict as exc:
            if not Subscription.objects.filter(pk=subscription_id, status=SubscriptionStatus.PAUSED).exists():
                # An overlapping run (or the customer) resumed it after we listed it: the expected race.
                logger.info("nightly %s: subscription %s already resumed", run_date, subscription_id)
            else:
                logger.warning(
                    "nightly %s: cannot resume subscription %s: %s", run_date, subscription_id, exc
                )
            continue
        except Exception:  # noqa: BLE001 - one row (changed meanwhile, bad data) must not stop the night
            logger.exception("nightly %s: cannot resume subscription %s", run_date, subscription_id)
            continue
        resumed += 1
    return {"resumed": resumed}


def stage_reminders(run_date: date) -> dict[str, int]:
    """Email "your next delivery is on X; change it by Y" reminder_days_before days before creation.

    Every active subscription whose next order is created within the next N days is reminded once
    per (subscription, sequence): a missed night catches up, a second run sends nothing twice.
    """
    policy = ShopPolicy.current()
    days = policy.reminder_days_before
    if days == 0:
        return {"reminders_sent": 0}
    qs = (
        Subscription.objects.filter(
            status=SubscriptionStatus.ACTIVE,
            next_creation_date__gt=run_date,
            next_creation_date__lte=run_date + timedelta(days=days),
        )
        .select_related("customer__user", "course")
        .order_by("id")
    )
    sent = 0
    chunk: list[Subscription] = []
    for subscription in qs.iterator(chunk_size=1000):
        chunk.append(subscription)
        if len(chunk) == 1000:
            sent += _remind(chunk, policy, notification_send, Notification, run_date=run_date)
            chunk = []
    if chunk:
        sent += _remind(chunk, policy, notification_send, Notification, run_date=run_date)
    return {"reminders_sent": sent}


def _following_delivery(subscription: Subscription, policy: ShopPolicy) -> date | None:
    """The first delivery after the next one that is not skipped: where a late change lands."""
    rows = upcoming_deliveries(subscription, count=6, policy=policy)
    return next(
        (r.delivery_date for r in rows if r.sequence > subscription.next_sequence and not r.skipped), None
    )


def _remind(
    chunk: list[Subscription],
    policy: ShopPolicy,
    send: Callable,
    notification_model: Any,
    *,
    run_date: date,
) -> int:
    keys = {s.pk: f"reminder:{s.pk}:{s.next_sequence}" for s in chunk}
    already = set(notification_model.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    sent = 0
    for subscription in chunk:
        key = keys[subscription.pk]
        if key in already:
            continue
        deadline = change_deadline(subscription, policy)
        # A caught-up (late) reminder never names a deadline already gone: it says where changes land.
        deadline_passed = deadline is not None and run_date > deadline
        notice = send(
            key=key,
            kind="reminder",
            to_email=subscription.customer.user.email,
            customer=subscription.customer,
            context={
                "customer_name": subscription.customer.name,
                "course_name": subscription.course.name,
                "sequence": subscription.next_sequence,
                "delivery_date": subscription.next_delivery_date,
                "time_slot": TimeSlot(subscription.delivery_time_slot).label,
                "deadline": None if deadline_passed else deadline,
                "deadline_passed": deadline_passed,
                "following_delivery_date": (
                    _following_delivery(subscription, policy) if deadline_passed else None
                ),
                "subscription_id": subscription.pk,
            },
        )
        sent += notice is not None
    return sent


def stage_mark_run_started(run_date: date) -> dict[str, int]:
    """Record on the shop policy that `run_date`'s orders are being created: from now on a change
    can no longer aim at an order created today (subscriptions.selectors.first_creation_date).
    After the resumes, which still may."""
    ShopPolicy.current()  # the row exists
    ShopPolicy.objects.filter(pk=1).filter(
        Q(last_nightly_run_date__isnull=True) | Q(last_nightly_run_date__lt=run_date)
    ).update(last_nightly_run_date=run_date)
    return {}


def stage_outbox_sweep(run_date: date) -> dict[str, int]:
    """Send what the outbox still holds (tasks queued while the broker was down, mails whose delivery
    never ran), as the beat task scheduler.outbox_sweep does every minute. Not in a dry run: a mail
    or a task would leave the rolled-back transaction."""
    if simulating():
        return {}
    return outbox_sweep()


BEFORE_GENERATION: list[Stage] = [stage_resume_paused, stage_mark_run_started]
# Billing (h4) puts its charge stage first here; point expiry (h5) goes after the reminders.
AFTER_GENERATION: list[Stage] = [
    stage_charge_new_orders,
    # After the charges: rules see the payment outcome, and 出荷待ち never takes an order from charging.
    stage_order_rules,
    stage_dunning,
    stage_reminders,
    stage_expire_points,
    stage_outbox_sweep,
]


def run_stages(stages: list[Stage], run_date: date) -> dict[str, Any]:
    """Run each stage; one that cannot reach the broker (the charges) is reported under
    `stages_not_run` with the reason, and the stages after it still run."""
    counters: dict[str, Any] = {}
    for stage in stages:
        started = time.monotonic()
        name = stage.__name__.removeprefix("stage_")
        try:
            result = stage(run_date)
        except (BrokerUnavailable, KombuOperationalError) as exc:
            # The broker is down: this stage's work waits in the outbox; the others need no broker.
            # Anything else (a bug, the database gone) still stops the run as before.
            logger.error("nightly %s: %s could not run: %s", run_date, name, exc)
            result = {STAGES_NOT_RUN: {name: str(exc)[:500]}}
        logger.info("nightly %s: %s %s in %.1fs", run_date, name, result, time.monotonic() - started)
        counters = merge_counters(counters, result)
    return counters


STAGES_NOT_RUN = "stages_not_run"


def merge_counters(counters: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Add counters up; `stages_not_run` (stage → reason) is merged, not added."""
    merged = dict(counters)
    for key, value in new.items():
        if isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = merged.get(key, 0) + value
    return merged


def run_pipeline(
    *,
    run_date: date,
    batch_size: int | None = None,
    progress: Callable[[BatchResult], None] | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """The whole night for `run_date` in this process (the run_nightly command, the demo).

    Returns the counters; `seconds` is the wall time of the whole pipeline.
    """
    started = time.monotonic()
    counters: dict[str, Any] = {"date": run_date.isoformat()}
    counters = merge_counters(counters, run_stages(BEFORE_GENERATION, run_date))
    generated = generate_due(
        run_date=run_date,
        batch_size=batch_size or settings.NIGHTLY_BATCH_SIZE,
        progress=progress,
        workers=workers,
    )
    counters.update(generated.counters())
    if generated.failed_ids:
        counters["failed_subscription_ids"] = generated.failed_ids
    counters = merge_counters(counters, run_stages(AFTER_GENERATION, run_date))
    counters["seconds"] = round(time.monotonic() - started, 3)
    return counters
