"""Prometheus metrics. Request latency comes from django-prometheus' middleware; what the shop's
monitoring needs about the business is read from the database at scrape time, so every web process
reports the same numbers and nothing is lost when a process restarts.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from notifications.models import Notification, NotificationStatus, OutboxTask, OutboxTaskStatus
from scheduler.models import NightlyRun, NightlyRunStatus

# The nightly run's counters worth a time series (charge outcomes included); the rest stay in the
# run's JSON report.
NIGHTLY_COUNTERS = ("due", "orders_created", "held", "skipped", "charged", "payment_failed", "seconds")


class ShopCollector(Collector):
    def describe(self) -> list:
        # Without this, registering calls collect() to learn the names: a query during app loading.
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._outbox()
            yield from self._nightly()
        except DatabaseError:
            # /readyz/ reports the database; a scrape still answers with the process metrics.
            return

    def _outbox(self) -> Iterator[GaugeMetricFamily]:
        pending = Notification.objects.filter(status=NotificationStatus.PENDING)
        row = pending.aggregate(n=Count("id"), oldest=Min("created_at"))
        yield GaugeMetricFamily("teiki_outbox_pending", "Mails written but not sent yet.", value=row["n"])
        age = (timezone.now() - row["oldest"]).total_seconds() if row["oldest"] else 0
        yield GaugeMetricFamily(
            "teiki_outbox_oldest_pending_seconds", "Age of the oldest mail not sent yet.", value=age
        )
        failed = Notification.objects.filter(status=NotificationStatus.FAILED).count()
        yield GaugeMetricFamily("teiki_outbox_failed", "Mails that failed for good.", value=failed)
        # Tasks waiting for the broker (notifications.outbox): above zero for long means it is down.
        tasks = OutboxTask.objects.exclude(status=OutboxTaskStatus.DISPATCHED)
        row = tasks.aggregate(n=Count("id"), oldest=Min("created_at"))
        yield GaugeMetricFamily(
            "teiki_outbox_tasks_pending",
            "Celery tasks recorded but not handed to the broker yet.",
            value=row["n"],
        )
        age = (timezone.now() - row["oldest"]).total_seconds() if row["oldest"] else 0
        yield GaugeMetricFamily(
            "teiki_outbox_tasks_oldest_pending_seconds", "Age of the oldest task not handed over.", value=age
        )

    def _nightly(self) -> Iterator[GaugeMetricFamily]:
        last = NightlyRun.objects.filter(status=NightlyRunStatus.DONE).order_by("-finished_at").first()
        if last is None or last.finished_at is None:
            return
        yield GaugeMetricFamily(
            "teiki_nightly_last_finished_seconds_ago",
            "Seconds since the last nightly run finished.",
            value=(timezone.now() - last.finished_at).total_seconds(),
        )
        yield GaugeMetricFamily(
            "teiki_nightly_last_duration_seconds",
            "Wall time of the last nightly run, start to finish.",
            value=(last.finished_at - last.started_at).total_seconds(),
        )
        family = GaugeMetricFamily(
            "teiki_nightly_last_run", "The last finished nightly run's counters.", labels=["counter"]
        )
        for name in NIGHTLY_COUNTERS:
            value = last.counters.get(name)
            if isinstance(value, int | float):
                family.add_metric([name], value)
        yield family


_collector: ShopCollector | None = None


def register() -> None:
    """Once per process (AppConfig.ready may run again in tests)."""
    global _collector
    if _collector is None:
        _collector = ShopCollector()
        REGISTRY.register(_collector)
