"""/metrics: request latency from django-prometheus, the shop's backlog and nightly figures from the DB."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from notifications.models import Notification, OutboxTask
from scheduler.models import NightlyRun, NightlyRunStatus

pytestmark = pytest.mark.django_db


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


def test_metrics_show_the_outbox_backlog_and_the_last_night(client):
    # given two mails not sent yet, one sent, and a finished night
    for n, status in enumerate(["pending", "pending", "sent"]):
        Notification.objects.create(
            key=f"k{n}", kind="test", to_email="a@example.com", subject="s", body="b", status=status
        )
    # and three tasks recorded for the broker, one of them handed over
    for n, status in enumerate(["pending", "sending", "dispatched"]):
        OutboxTask.objects.create(key=f"t{n}", task="billing.charge_order", args=[n], status=status)
    finished = timezone.now() - dt.timedelta(hours=2)
    run = NightlyRun.objects.create(
        run_date=finished.date(), status=NightlyRunStatus.DONE,
        counters={"due": 7, "orders_created": 6, "charged": 5, "payment_failed": 1, "seconds": 4.5},
    )  # fmt: skip
    NightlyRun.objects.filter(pk=run.pk).update(
        finished_at=finished, started_at=finished - dt.timedelta(seconds=90)
    )
    client.get("/healthz/")  # one request for the latency histogram

    # when the monitoring scrapes from this machine
    response = client.get("/metrics")

    # then it sees them
    assert response.status_code == 200
    text = response.content.decode()
    assert _sample(text, "teiki_outbox_pending") == 2
    assert _sample(text, "teiki_outbox_tasks_pending") == 2
    assert _sample(text, 'teiki_nightly_last_run{counter="charged"}') == 5
    assert _sample(text, 'teiki_nightly_last_run{counter="payment_failed"}') == 1
    assert _sample(text, "teiki_nightly_last_duration_seconds") == 90
    assert 7100 < _sample(text, "teiki_nightly_last_finished_seconds_ago") < 7300
    assert "django_http_requests_latency_seconds_by_view_method" in text


def test_metrics_from_elsewhere_need_the_token(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.9"]
    assert client.get("/metrics").status_code == 403
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert response.status_code == 200 and b"teiki_outbox_pending" in response.content
