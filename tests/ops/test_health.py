"""/healthz/ and /readyz/: only the database takes a node out of the balancer; the rest is 'degraded'."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from scheduler.models import NightlyRun, NightlyRunStatus
from tests.stripe_server import free_port

pytestmark = pytest.mark.django_db

DEAD_REDIS = f"redis://127.0.0.1:{free_port()}/0"


def _finished_run(hours_ago: float) -> NightlyRun:
    finished = timezone.now() - dt.timedelta(hours=hours_ago)
    run = NightlyRun.objects.create(
        run_date=finished.date(), status=NightlyRunStatus.DONE, counters={"due": 3}
    )
    NightlyRun.objects.filter(pk=run.pk).update(
        finished_at=finished, started_at=finished - dt.timedelta(minutes=5)
    )
    return run


def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_ok_with_database_cache_and_a_recent_night(client):
    _finished_run(hours_ago=3)
    response = client.get("/readyz/")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok", "cache": "ok", "broker": "ok", "nightly": "ok",
    }  # fmt: skip
    assert body["checks"]["nightly"]["age_seconds"] >= 3 * 3600


@pytest.mark.parametrize(("hours_ago", "expected"), [(None, "degraded"), (30, "degraded"), (25, "ok")])
def test_a_missing_or_stale_nightly_run_is_degraded_not_down(client, hours_ago, expected):
    if hours_ago is not None:
        _finished_run(hours_ago=hours_ago)
    response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json()["checks"]["nightly"]["status"] == expected


def test_redis_down_is_degraded_and_the_node_stays_in_the_balancer(client, settings):
    _finished_run(hours_ago=1)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = DEAD_REDIS
    response = client.get("/readyz/")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "degraded"
    assert body["checks"]["broker"]["status"] == "degraded"
    assert "ConnectionError" in body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["status"] == "ok"


def test_a_dead_database_takes_the_node_out(client, monkeypatch):
    from ops import health

    def broken() -> dict:
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", (broken, True))
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert response.json()["checks"]["database"]["error"] == "OperationalError: connection refused"
