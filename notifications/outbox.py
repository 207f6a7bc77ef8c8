"""The task outbox: Celery work recorded in the database before the broker sees it.

    outbox_enqueue(...)        in the caller's transaction: one row per key (a repeated key is a no-op)
    after commit               outbox_dispatch(keys): hand each row to the broker
    outbox_sweep()             beat (scheduler.outbox_sweep) and the nightly run: what is still pending,
                               and mails whose after-commit delivery never ran

A row is claimed (pending → sending, a committed conditional UPDATE) before it is published and marked
dispatched after, so two dispatchers never publish the same row at once. A process that dies between
publish and mark leaves it "sending": the sweeper publishes it again after SENDING_GRACE. So a task can
be delivered twice only after a crash, never lost; every task behind the outbox is idempotent (the
charge task charges an order at most once, see billing.services.payments).

Publishing never retries inside the request (`retry=False`): with the broker down the first failure
stops the batch, the rows stay pending and the caller goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .models import OutboxTask, OutboxTaskStatus
from .services import notification_sweep

logger = logging.getLogger(__name__)
S = OutboxTaskStatus

SENDING_GRACE = timedelta(minutes=10)


class BrokerUnavailable(Exception):
    """The broker refused or did not answer; the work is kept in the outbox."""


@dataclass
class DispatchResult:
    dispatched: int = 0
    pending: int = 0
    error: str = ""

    def as_counters(self) -> dict[str, int]:
        return {"outbox_dispatched": self.dispatched, "outbox_pending": self.pending}


def outbox_enqueue(*, key: str, task: str, args: Sequence = ()) -> None:
    """Record a task in the current transaction and dispatch it after commit."""
    outbox_enqueue_many(rows=[(key, task, args)])
    transaction.on_commit(lambda: outbox_dispatch(keys=[key]), robust=True)


def outbox_enqueue_many(*, rows: Iterable[tuple[str, str, Sequence]]) -> list[str]:
    """Record many tasks (the nightly charge stage); the caller dispatches. Returns the keys."""
    objs = [OutboxTask(key=key, task=task, args=list(args)) for key, task, args in rows]
    OutboxTask.objects.bulk_create(objs, ignore_conflicts=True, batch_size=1000)
    return [o.key for o in objs]


def outbox_dispatch(
    *, keys: Sequence[str] | None = None, limit: int = 10_000, chunk: int = 500
) -> DispatchResult:
    """Publish pending rows (the given keys, or every pending one). Never raises for the broker:
    the result says how many went and, when the broker failed, why the rest are still pending.

    Rows are claimed a chunk at a time (one committed UPDATE) and marked dispatched a chunk at a
    time: three statements per row made the nightly charge fan-out publish 25 tasks a second on a
    loaded machine, slower than the workers charge. A process that dies mid-chunk leaves that
    chunk "sending" for the sweeper, as it left one row before (every task here is idempotent)."""
    rows = OutboxTask.objects.filter(status=S.PENDING)
    if keys is not None:
        rows = rows.filter(key__in=list(keys))
    ids = list(rows.order_by("id").values_list("id", flat=True)[:limit])
    result = DispatchResult()
    for start in range(0, len(ids), chunk):
        if result.error:
            result.pending += len(ids[start : start + chunk])
            continue
        claimed = _claim(ids[start : start + chunk])  # rows another dispatcher has are left out
        published: list[int] = []
        stopped = False
        try:
            for row in claimed:
                try:
                    _publish(row)
                except Exception as exc:  # noqa: BLE001 - kombu, redis and socket errors all mean "not sent"
                    stopped = True
                    _publish_failed(row, exc, result)
                    if not result.error:
                        raise
                    break
                published.append(row.pk)
        finally:
            now = timezone.now()
            OutboxTask.objects.filter(pk__in=published).update(
                status=S.DISPATCHED, dispatched_at=now, last_error="", updated_at=now
            )
            result.dispatched += len(published)
            # Claimed after the row that failed: never published, back to pending as they were.
            unsent = [r.pk for r in claimed[len(published) + 1 :]] if stopped else []
            if unsent:
                if result.error:
                    result.pending += len(unsent)
                OutboxTask.objects.filter(pk__in=unsent).update(
                    status=S.PENDING, tries=F("tries") - 1, updated_at=now
                )
    return result


def _claim(ids: list[int]) -> list[OutboxTask]:
    with transaction.atomic():
        rows = list(
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, status=S.PENDING)
            .order_by("id")
        )
        OutboxTask.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=S.SENDING, tries=F("tries") + 1, updated_at=timezone.now()
        )
    return rows


def _publish_failed(row: OutboxTask, exc: Exception, result: DispatchResult) -> None:
    """Record why a row was not published; sets result.error when the broker is the reason."""
    if not _is_broker_error(exc):
        # Eager (in-process) execution: the task ran and raised, as .delay() would have.
        # Anything else (a task that cannot be serialised) waits for someone to look.
        eager = bool(current_app.conf.task_always_eager)
        OutboxTask.objects.filter(pk=row.pk).update(
            status=S.DISPATCHED if eager else S.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:500],
            updated_at=timezone.now(),
        )
        return
    result.error = f"{type(exc).__name__}: {exc}"[:500]
    result.pending += 1
    OutboxTask.objects.filter(pk=row.pk).update(
        status=S.PENDING, last_error=result.error, updated_at=timezone.now()
    )
    logger.warning("outbox: broker unavailable (%s); %s kept for the sweeper", result.error, row.key)


def outbox_sweep() -> dict[str, int]:
    """Send what is still waiting: tasks left pending (broker down) or stuck sending (a dead process),
    and mails whose delivery after commit never ran. Safe to run at any time, in any number."""
    stale = timezone.now() - SENDING_GRACE
    OutboxTask.objects.filter(status=S.SENDING, updated_at__lt=stale).update(
        status=S.PENDING, updated_at=timezone.now()
    )
    result = outbox_dispatch()
    if result.error:
        logger.warning("outbox sweep: %s tasks still pending: %s", result.pending, result.error)
    return {**result.as_counters(), "mails_swept": notification_sweep()}


def _publish(row: OutboxTask) -> None:
    task = current_app.tasks.get(row.task)
    if task is not None:
        task.apply_async(args=row.args, retry=False)  # honours CELERY_TASK_ALWAYS_EAGER
    else:
        current_app.send_task(row.task, args=row.args, retry=False)


def _is_broker_error(exc: BaseException) -> bool:
    return isinstance(exc, KombuOperationalError | RedisConnectionError | RedisTimeoutError | OSError)
