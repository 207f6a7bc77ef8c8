"""The demo server's in-process beat: the nightly run at start and then daily at 02:00 shop time."""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from orders.models import Order
from scheduler.demo_beat import seconds_until_next_run, start_demo_beat
from scheduler.models import NightlyRun, NightlyRunStatus
from tests.factories import SubscriptionFactory

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("now", "expected_hours"),
    [
        (dt.datetime(2027, 1, 10, 1, 0, tzinfo=TOKYO), 1),  # before 02:00: today's run
        (dt.datetime(2027, 1, 10, 2, 0, tzinfo=TOKYO), 24),  # exactly at 02:00: it just ran
        (dt.datetime(2027, 1, 10, 23, 0, tzinfo=TOKYO), 3),  # late evening: tomorrow 02:00
        (dt.datetime(2027, 1, 9, 16, 0, tzinfo=dt.UTC), 1),  # 01:00 in Tokyo, given in UTC
        (dt.datetime(2027, 12, 31, 23, 30, tzinfo=TOKYO), 2.5),  # over the year end
    ],
)
def test_the_next_run_is_at_two_in_the_morning_shop_time(now, expected_hours) -> None:  # noqa: ANN001
    assert seconds_until_next_run(now) == expected_hours * 3600


@pytest.mark.django_db(transaction=True)
def test_the_demo_server_runs_todays_nightly_run_once_at_start(time_machine) -> None:  # noqa: ANN001
    time_machine.move_to(dt.datetime(2027, 1, 26, 15, 0, tzinfo=TOKYO), tick=True)
    subscription = SubscriptionFactory(anchor_date=dt.date(2027, 1, 31))  # its order is due on 1/25
    stop = threading.Event()

    thread = start_demo_beat(stop)
    deadline = time.monotonic() + 20
    while (
        time.monotonic() < deadline and not NightlyRun.objects.filter(status=NightlyRunStatus.DONE).exists()
    ):
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=10)

    run = NightlyRun.objects.get()
    assert (run.run_date, run.status) == (dt.date(2027, 1, 26), NightlyRunStatus.DONE)
    assert list(Order.objects.values_list("subscription_id", "sequence")) == [(subscription.pk, 1)]
    assert not thread.is_alive()
