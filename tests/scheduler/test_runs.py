"""The nightly run as Celery drives it (tasks run eagerly here): keyed by date, fanned out, finished once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from orders.models import Order
from scheduler import tasks
from scheduler.models import NightlyRun, NightlyRunStatus
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

CREATION = dt.date(2027, 1, 25)


@pytest.fixture
def small_lanes(settings):  # noqa: ANN001, ANN201
    settings.NIGHTLY_BATCH_SIZE = 2
    settings.NIGHTLY_LANES = 2


def test_the_beat_task_generates_everything_through_lanes_and_finishes_once(
    policy, small_lanes, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    # given five due subscriptions, batches of two and two lanes
    subs = SubscriptionFactory.create_batch(5)

    # when beat sends the nightly task for the date
    with django_capture_on_commit_callbacks(execute=True):
        tasks.nightly_run.delay(CREATION.isoformat())

    # then every due subscription has its order and the run is done with exact counters
    assert Order.objects.filter(subscription__in=subs).count() == 5
    run = NightlyRun.objects.get(run_date=CREATION)
    assert run.status == NightlyRunStatus.DONE and run.finished_at is not None
    assert (run.lanes, run.lanes_done) == (2, [0, 1])
    assert (run.counters["due"], run.counters["orders_created"], run.counters["held"]) == (5, 5, 0)
    assert "reminders_sent" in run.counters and "resumed" in run.counters


def test_a_second_beat_or_a_redelivered_task_does_nothing_twice(
    policy, small_lanes, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    # given a night that already ran
    SubscriptionFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.nightly_run.delay(CREATION.isoformat())
    done = NightlyRun.objects.get(run_date=CREATION)

    # when beat fires again, and a lane step and the finish are redelivered
    SubscriptionFactory()  # due too, but tonight's run is over: tomorrow's catches it up
    with django_capture_on_commit_callbacks(execute=True):
        tasks.nightly_run.delay(CREATION.isoformat())
        tasks.generate_batch.delay(CREATION.isoformat(), 0)
        tasks.finish_run.delay(CREATION.isoformat())

    # then nothing ran twice
    again = NightlyRun.objects.get(run_date=CREATION)
    assert (again.counters, again.finished_at) == (done.counters, done.finished_at)
    assert Order.objects.count() == 3


def test_a_run_left_generating_by_a_dead_worker_is_picked_up_again(
    policy, small_lanes, settings, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    # given a run whose lanes died an hour ago with work left
    SubscriptionFactory.create_batch(3)
    NightlyRun.objects.create(run_date=CREATION, status=NightlyRunStatus.GENERATING, lanes=2, lanes_done=[1])
    NightlyRun.objects.filter(run_date=CREATION).update(updated_at=timezone.now() - dt.timedelta(hours=1))

    # when the nightly task is sent again
    with django_capture_on_commit_callbacks(execute=True):
        tasks.nightly_run.delay(CREATION.isoformat())

    # then the unfinished lane resumes, the work is done once and the run finishes
    assert Order.objects.count() == 3
    assert NightlyRun.objects.get(run_date=CREATION).status == NightlyRunStatus.DONE


def test_a_recent_run_in_progress_is_left_to_its_workers(
    policy, small_lanes, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001, E501
    SubscriptionFactory.create_batch(2)
    NightlyRun.objects.create(run_date=CREATION, status=NightlyRunStatus.GENERATING, lanes=1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasks.nightly_run.delay(CREATION.isoformat())
    assert callbacks == []
    assert not Order.objects.exists()


def test_the_beat_schedule_is_in_the_database_at_two_in_the_morning_tokyo_time(db) -> None:  # noqa: ANN001
    from django_celery_beat.models import PeriodicTask

    entry = PeriodicTask.objects.get(task="scheduler.nightly_run")
    assert entry.enabled
    assert (entry.crontab.minute, entry.crontab.hour, str(entry.crontab.timezone)) == ("0", "2", "Asia/Tokyo")
