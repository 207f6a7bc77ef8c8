"""The embedded default's beat: `make run` has no Celery beat, so the demo server runs the nightly
pipeline itself, in a daemon thread: once at start (a demo started in the afternoon catches up on
today's run) and then every day at the beat time, 02:00 in the shop's time zone.

Runs go through the same date-keyed task as production's beat (scheduler.nightly_run, executed
in-process when CELERY_TASK_ALWAYS_EAGER), so a run already done for a date does nothing twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import close_old_connections

from .tasks import nightly_run

logger = logging.getLogger(__name__)

RUN_AT = time(2, 0)


def seconds_until_next_run(now: datetime, run_at: time = RUN_AT) -> float:
    """Seconds from `now` (aware) to the next `run_at` in the shop's time zone (never 0)."""
    local = now.astimezone(ZoneInfo(settings.SHOP_TIMEZONE))
    target = local.replace(hour=run_at.hour, minute=run_at.minute, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    return (target - local).total_seconds()


def _run_once() -> None:
    try:
        nightly_run.apply()  # in-process, keyed by today's date in the shop's time zone
    except Exception:  # a failed night must not take the web server down; the log says why
        logger.exception("demo nightly run failed")
    finally:
        close_old_connections()


def start_demo_beat(stop: threading.Event) -> threading.Thread:
    """Start the thread; set `stop` to end it."""

    def loop() -> None:
        _run_once()
        while not stop.wait(seconds_until_next_run(datetime.now(tz=ZoneInfo(settings.SHOP_TIMEZONE)))):
            _run_once()

    thread = threading.Thread(target=loop, name="demo-beat", daemon=True)
    thread.start()
    return thread
