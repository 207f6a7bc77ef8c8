"""Thin Celery tasks for the nightly run: parse the arguments, call scheduler.runs, return quietly.

Beat (django-celery-beat, editable in admin) sends scheduler.nightly_run at 02:00 shop time. Work
is queued with transaction.on_commit by scheduler.runs, so a task never runs before the state it
relies on is committed.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from notifications.outbox import outbox_sweep as outbox_sweep_all
from subscriptions.selectors import today_in_shop

from . import runs

# A database that went away or a lock timeout is worth retrying; a bug is not.
RETRY_ON = (OperationalError, InterfaceError)


@shared_task(
    name="scheduler.nightly_run",
    autoretry_for=RETRY_ON,
    max_retries=3,
    retry_backoff=30,
    soft_time_limit=900,
    time_limit=960,
)
def nightly_run(run_date: str | None = None) -> None:
    day = date.fromisoformat(run_date) if run_date else today_in_shop()
    runs.nightly_run_start(run_date=day, queue_lane=_queue_lane, queue_finish=_queue_finish)


@shared_task(
    name="scheduler.generate_batch",
    autoretry_for=RETRY_ON,
    max_retries=5,
    retry_backoff=5,
    soft_time_limit=300,
    time_limit=360,
)
def generate_batch(run_date: str, lane: int) -> None:
    runs.nightly_lane_step(
        run_date=date.fromisoformat(run_date), lane=lane, queue_lane=_queue_lane, queue_finish=_queue_finish
    )


@shared_task(
    name="scheduler.finish_run",
    autoretry_for=RETRY_ON,
    max_retries=3,
    retry_backoff=30,
    soft_time_limit=3600,
    time_limit=3700,
)
def finish_run(run_date: str) -> None:
    runs.nightly_finish(run_date=date.fromisoformat(run_date))


def _queue_lane(run_date: str, lane: int) -> None:
    generate_batch.delay(run_date, lane)


def _queue_finish(run_date: str) -> None:
    finish_run.delay(run_date)


@shared_task(name="scheduler.outbox_sweep", soft_time_limit=240, time_limit=300)
def outbox_sweep() -> dict[str, int]:
    """Every minute (beat): what the outbox still holds goes to the broker, stuck mails go out."""
    return outbox_sweep_all()
