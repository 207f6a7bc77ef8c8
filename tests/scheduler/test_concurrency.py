"""Exactly once under real concurrency, against PostgreSQL: runs at once, repeated, killed half-way,
and a real Celery worker against Redis. Each leaves exactly one order per due delivery."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from django.db.models import Count

from orders.models import Order
from scheduler.generation import generate_due
from subscriptions.models import Subscription
from tests.factories import SubscriptionFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CREATION = dt.date(2027, 1, 25)
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("NIGHTLY_TEST_BROKER_URL", "redis://127.0.0.1:6379/1")


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _assert_exactly_one_order_each(subscriptions: list[Subscription]) -> None:
    counts = dict(
        Order.objects.filter(subscription__in=subscriptions)
        .values_list("subscription_id")
        .annotate(n=Count("id"))
        .values_list("subscription_id", "n")
    )
    assert counts == {s.pk: 1 for s in subscriptions}
    for sub in Subscription.objects.filter(pk__in=[s.pk for s in subscriptions]):
        assert (sub.next_sequence, sub.orders_created, sub.cycle_count) == (2, 1, 1)


def test_two_runs_at_once_in_threads_create_each_order_once(policy, settings) -> None:  # noqa: ANN001
    # given 60 due subscriptions and small batches, so the runs interleave
    settings.NIGHTLY_BATCH_SIZE = 4
    subs = SubscriptionFactory.create_batch(60)
    start = threading.Barrier(2)
    results = []

    def run() -> None:
        try:
            start.wait()
            results.append(generate_due(run_date=CREATION))
        finally:
            connections.close_all()

    # when two runs for the same date start together
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then between them they created each order once, and both did part of the work
    assert sum(r.orders_created for r in results) == 60
    assert all(r.orders_created > 0 for r in results)
    _assert_exactly_one_order_each(subs)


def test_two_run_nightly_processes_at_once_then_a_repeat_create_each_order_once(policy) -> None:  # noqa: ANN001
    # given 40 due subscriptions
    subs = SubscriptionFactory.create_batch(40)
    command = [sys.executable, "manage.py", "run_nightly", "--date", CREATION.isoformat()]
    env = _env(NIGHTLY_BATCH_SIZE="3")

    # when two processes run the night at once, and then a third runs it again
    both = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in both]
    repeat = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    # then exactly one order per subscription, and the repeat found nothing to do
    assert [p.returncode for p in both] == [0, 0]
    created = [json.loads(out.strip().splitlines()[-1])["orders_created"] for out in outputs]
    assert sum(created) == 40
    assert json.loads(repeat.stdout.strip().splitlines()[-1])["orders_created"] == 0
    _assert_exactly_one_order_each(subs)


def test_a_run_killed_half_way_then_restarted_creates_each_order_once(policy) -> None:  # noqa: ANN001
    # given 40 due subscriptions, and a run in batches of 5 that pauses between batches
    subs = SubscriptionFactory.create_batch(40)
    env = _env(NIGHTLY_BATCH_SIZE="5", NIGHTLY_BATCH_PAUSE_SECONDS="1")
    victim = subprocess.Popen(
        [sys.executable, "manage.py", "run_nightly", "--date", CREATION.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    # when it is killed (SIGKILL: no cleanup at all) once its first batch has committed
    deadline = time.monotonic() + 60
    while not Order.objects.exists():
        assert time.monotonic() < deadline, "the first batch never committed"
        assert victim.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)

    # then only whole batches were written: every order has its advanced schedule and no more
    done = Order.objects.count()
    assert 0 < done < 40 and done % 5 == 0
    assert Subscription.objects.filter(pk__in=[s.pk for s in subs], next_sequence=2).count() == done

    # and a restart finishes the night with exactly one order per subscription
    result = generate_due(run_date=CREATION)
    assert result.orders_created == 40 - done
    _assert_exactly_one_order_each(subs)


@pytest.fixture
def celery_worker_process():  # noqa: ANN201
    """`celery -A config worker` against Redis db 1 and the test database; stopped after the test."""
    import redis

    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()  # our own db number: leftovers of an earlier run must not be consumed
    env = _env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        CELERY_BROKER_URL=REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        NIGHTLY_BATCH_SIZE="4",
        NIGHTLY_LANES="3",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        broker.flushdb()


def test_a_real_celery_worker_runs_the_night_through_redis(policy, celery_worker_process) -> None:  # noqa: ANN001
    from celery import Celery

    from scheduler.models import NightlyRun, NightlyRunStatus

    # given 20 due subscriptions
    subs = SubscriptionFactory.create_batch(20)

    # when the nightly task is queued on the broker, as beat does
    Celery(broker=REDIS_URL).send_task("scheduler.nightly_run", args=[CREATION.isoformat()])

    # then the worker fans the batches out to lanes and finishes the run
    deadline = time.monotonic() + 30
    while not NightlyRun.objects.filter(run_date=CREATION, status=NightlyRunStatus.DONE).exists():
        assert celery_worker_process.poll() is None, celery_worker_process.stderr.read()
        assert time.monotonic() < deadline, "the worker did not finish the run in 30 s"
        time.sleep(0.2)
    run = NightlyRun.objects.get(run_date=CREATION)
    assert (run.lanes, run.counters["orders_created"]) == (3, 20)
    _assert_exactly_one_order_each(subs)
