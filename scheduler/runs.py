"""The nightly run as Celery drives it: keyed by its date in NightlyRun, generation fanned out to lanes.

    beat → nightly_run_start  (claim the date, stages before generation, queue N lanes)
         → lane steps          (each: one batch in its own transaction, then queue the next step;
                                a lane that finds nothing due reports itself finished)
         → nightly_finish      (the last lane to finish queues it: stages after generation, done)

Every step is safe to run twice: the run row is locked while its status moves on, a redelivered
lane step just claims another batch (SKIP LOCKED), and every stage is idempotent. A run left
"starting", "generating" or "finishing" longer than NIGHTLY_STALE_MINUTES (a worker died) is picked
up again by the next nightly_run for that date.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from scheduler.generation import BatchResult, GenerationRun, count_due, drain

from .models import NightlyRun, NightlyRunStatus
from .pipeline import AFTER_GENERATION, BEFORE_GENERATION, merge_counters, run_stages

logger = logging.getLogger(__name__)

Queue = Callable[..., None]


def _stale(run: NightlyRun) -> bool:
    minutes = getattr(settings, "NIGHTLY_STALE_MINUTES", 30)
    return run.updated_at < timezone.now() - timedelta(minutes=minutes)


def _add(counters: dict, new: dict) -> dict:
    return merge_counters(counters, new)


def nightly_run_start(*, run_date: date, queue_lane: Queue, queue_finish: Queue) -> NightlyRun:
    """Claim `run_date` and fan out generation; a second call for the same date does nothing twice."""
    with transaction.atomic():
        run, _created = NightlyRun.objects.select_for_update().get_or_create(run_date=run_date)
        if run.status == NightlyRunStatus.DONE or (
            run.status != NightlyRunStatus.STARTING and not _stale(run)
        ):
            logger.info("nightly %s: already %s", run_date, run.status)
            return run
        if run.status == NightlyRunStatus.FINISHING:
            run.save(update_fields=["updated_at"])
            transaction.on_commit(lambda: queue_finish(run_date.isoformat()))
            return run
        if run.status == NightlyRunStatus.STARTING:
            run.counters = _add(run.counters, run_stages(BEFORE_GENERATION, run_date))
            due = count_due(run_date)
            run.lanes = max(1, min(settings.NIGHTLY_LANES, math.ceil(due / settings.NIGHTLY_BATCH_SIZE)))
            run.status = NightlyRunStatus.GENERATING
        lanes = [lane for lane in range(run.lanes) if lane not in run.lanes_done]
        run.save(update_fields=["counters", "lanes", "status", "updated_at"])
        for lane in lanes:
            transaction.on_commit(lambda lane=lane: queue_lane(run_date.isoformat(), lane))
        return run


def nightly_lane_step(
    *, run_date: date, lane: int, queue_lane: Queue, queue_finish: Queue
) -> BatchResult | None:
    """Batches for a lane for up to NIGHTLY_LANE_STEP_SECONDS, then the lane's next step is queued
    (short tasks keep time limits meaningful and let workers share lanes); a lane that finds nothing
    due reports itself finished."""
    run = NightlyRun.objects.filter(run_date=run_date).first()
    if run is None or run.status != NightlyRunStatus.GENERATING:
        return None

    def record(result: BatchResult) -> None:
        # In the batch's own transaction: the counters are exact even if this step is redelivered.
        locked = NightlyRun.objects.select_for_update().get(pk=run.pk)
        locked.counters = _add(locked.counters, result.counters())
        locked.failed_subscription_ids = [*locked.failed_subscription_ids, *result.failed_ids]
        locked.save(update_fields=["counters", "failed_subscription_ids", "updated_at"])

    budget = getattr(settings, "NIGHTLY_LANE_STEP_SECONDS", 60)
    started = time.monotonic()
    total, finished = drain(
        GenerationRun(run_date),
        exclude_ids=list(run.failed_subscription_ids),
        on_written=record,
        stop=lambda: time.monotonic() - started >= budget,
    )
    if finished:
        nightly_lane_finished(run_date=run_date, lane=lane, queue_finish=queue_finish)
    else:
        transaction.on_commit(lambda: queue_lane(run_date.isoformat(), lane))
    return total


def nightly_lane_finished(*, run_date: date, lane: int, queue_finish: Queue) -> None:
    with transaction.atomic():
        run = NightlyRun.objects.select_for_update().get(run_date=run_date)
        if run.status != NightlyRunStatus.GENERATING:
            return
        if lane not in run.lanes_done:
            run.lanes_done = sorted([*run.lanes_done, lane])
        if len(run.lanes_done) >= run.lanes:
            run.status = NightlyRunStatus.FINISHING
            transaction.on_commit(lambda: queue_finish(run_date.isoformat()))
        run.save(update_fields=["lanes_done", "status", "updated_at"])


def nightly_finish(*, run_date: date) -> NightlyRun | None:
    """The stages after generation, then the run is done. Stages run outside the row lock (charging
    calls a gateway); they are idempotent, so a redelivered finish repeats nothing."""
    run = NightlyRun.objects.filter(run_date=run_date).first()
    if run is None or run.status != NightlyRunStatus.FINISHING:
        return run
    counters = run_stages(AFTER_GENERATION, run_date)
    with transaction.atomic():
        run = NightlyRun.objects.select_for_update().get(pk=run.pk)
        if run.status != NightlyRunStatus.FINISHING:
            return run
        run.counters = _add(run.counters, counters)
        run.status = NightlyRunStatus.DONE
        run.finished_at = timezone.now()
        run.save(update_fields=["counters", "status", "finished_at", "updated_at"])
    logger.info("nightly %s: done %s", run_date, run.counters)
    return run
