"""Health checks for load balancers and monitoring.

Only the database decides whether this node can serve: the cache and the broker are shared by every
node, so taking nodes out of the balancer when Redis is down would turn a degraded shop into a closed
one (pages, logins and sessions keep working without them). Those, and the age of the last nightly
run, make the answer "degraded" for monitoring, with HTTP 200.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from scheduler.models import NightlyRun, NightlyRunStatus

OK, DEGRADED, FAIL = "ok", "degraded", "fail"


@dataclass
class Check:
    name: str
    status: str
    critical: bool
    seconds: float = 0.0
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "critical": self.critical,
            "seconds": round(self.seconds, 4),
            **self.detail,
        }


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _cache() -> dict:
    key, value = f"health:{uuid.uuid4().hex}", "1"
    cache.set(key, value, timeout=5)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was written")
    cache.delete(key)
    return {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"mode": "in-process"}
    with current_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"mode": "broker"}


def _nightly() -> dict:
    last = NightlyRun.objects.filter(status=NightlyRunStatus.DONE).order_by("-finished_at").first()
    if last is None or last.finished_at is None:
        raise LookupError("no nightly run has finished yet")
    age = timezone.now() - last.finished_at
    detail = {"run_date": last.run_date.isoformat(), "age_seconds": int(age.total_seconds())}
    if age > timedelta(hours=settings.HEALTH_NIGHTLY_MAX_AGE_HOURS):
        raise _Stale(detail)
    return detail


class _Stale(Exception):
    def __init__(self, detail: dict) -> None:
        super().__init__("the last nightly run is older than HEALTH_NIGHTLY_MAX_AGE_HOURS")
        self.detail = detail


CHECKS: dict[str, tuple[Callable[[], dict], bool]] = {
    "database": (_database, True),
    "cache": (_cache, False),
    "broker": (_broker, False),
    "nightly": (_nightly, False),
}


def run_checks() -> list[Check]:
    results = []
    for name, (probe, critical) in CHECKS.items():
        started = time.monotonic()
        try:
            detail = probe()
            status = OK
        except Exception as exc:  # noqa: BLE001 - a health check reports every failure, it never raises
            detail = {"error": f"{type(exc).__name__}: {exc}", **getattr(exc, "detail", {})}
            status = FAIL if critical else DEGRADED
        results.append(Check(name, status, critical, time.monotonic() - started, detail))
    return results


def overall(checks: list[Check]) -> str:
    statuses = {check.status for check in checks}
    return FAIL if FAIL in statuses else DEGRADED if DEGRADED in statuses else OK
