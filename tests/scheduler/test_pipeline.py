"""The nightly pipeline in-process: run_nightly's report, the dry run, reminders and resumes."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from notifications.models import Notification
from orders.models import Order
from scheduler.pipeline import stage_reminders, stage_resume_paused
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionStatus
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

CREATION = dt.date(2027, 1, 25)  # SubscriptionFactory's first order is created on this Monday
ROOT = Path(__file__).resolve().parents[2]


def _run_nightly(*args: str) -> dict:
    out = io.StringIO()
    call_command("run_nightly", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_run_nightly_creates_the_orders_and_reports_them_as_json(
    policy, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001, E501
    # given two due subscriptions, one of them for a blacklisted customer
    ok, held = SubscriptionFactory(), SubscriptionFactory()
    type(held.customer).objects.filter(pk=held.customer_id).update(is_blacklisted=True)

    # when the night of their creation date runs
    with django_capture_on_commit_callbacks(execute=True):
        report = _run_nightly("--date", CREATION.isoformat())

    # then both have their order and the last line says what happened
    assert Order.objects.filter(subscription__in=[ok, held]).count() == 2
    assert {"date", "due", "orders_created", "held", "skipped", "reminders_sent", "seconds"} <= report.keys()
    assert (report["date"], report["due"], report["orders_created"], report["held"]) == (
        "2027-01-25",
        2,
        2,
        1,
    )
    assert report["dry_run"] is False


def test_a_dry_run_reports_the_same_figures_and_writes_nothing(
    policy, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001, E501
    # given a due subscription and one whose reminder is due
    due = SubscriptionFactory()
    SubscriptionFactory(anchor_date=dt.date(2027, 2, 3))  # created Wed Jan 27: reminded 3 days ahead

    # when the night is simulated
    with django_capture_on_commit_callbacks(execute=True):
        report = _run_nightly("--date", CREATION.isoformat(), "--dry-run")

    # then the figures are those of a real run, but nothing was written or mailed
    assert (report["orders_created"], report["reminders_sent"], report["dry_run"]) == (1, 1, True)
    assert not Order.objects.exists()
    assert not Notification.objects.exists()
    assert mailoutbox == []
    due.refresh_from_db()
    assert due.next_sequence == 1


def test_a_bad_date_exits_non_zero_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "run_nightly", "--date", "2027-02-30"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "CommandError: invalid --date '2027-02-30': expected YYYY-MM-DD"
    ]
    assert result.stdout == ""


def test_reminders_go_out_once_per_delivery_with_the_date_and_the_deadline(
    policy, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001, E501
    # given a subscription whose next order is created on Wed 27th (policy: remind 3 days ahead,
    # changes allowed until 2 days before creation)
    sub = SubscriptionFactory(anchor_date=dt.date(2027, 2, 3))
    assert sub.next_creation_date == dt.date(2027, 1, 27)
    too_early = SubscriptionFactory(anchor_date=dt.date(2027, 3, 3))

    # when the reminder stage runs on Sunday 24th and again on Monday 25th
    with django_capture_on_commit_callbacks(execute=True):
        first = stage_reminders(dt.date(2027, 1, 24))
        second = stage_reminders(dt.date(2027, 1, 25))

    # then one email, naming the delivery date and the deadline, keyed by subscription and sequence
    assert (first, second) == ({"reminders_sent": 1}, {"reminders_sent": 0})
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [sub.customer.user.email]
    assert "2027年2月3日（水）" in mail.subject
    assert "2027年1月25日（月） までに" in mail.body
    assert Notification.objects.get().key == f"reminder:{sub.pk}:1"
    assert not Notification.objects.filter(key__startswith=f"reminder:{too_early.pk}:").exists()


def test_paused_subscriptions_resume_on_their_date_before_generation(policy) -> None:  # noqa: ANN001
    # given one subscription paused until the run date and one paused until later
    back = SubscriptionFactory(status=SubscriptionStatus.PAUSED, paused_until=CREATION)
    later = SubscriptionFactory(
        status=SubscriptionStatus.PAUSED, paused_until=CREATION + dt.timedelta(days=1)
    )

    # when the stage runs
    result = stage_resume_paused(CREATION)

    # then only the first is active again, by the system, with a timeline event
    assert result == {"resumed": 1}
    assert Subscription.objects.get(pk=back.pk).status == SubscriptionStatus.ACTIVE
    assert Subscription.objects.get(pk=later.pk).status == SubscriptionStatus.PAUSED
    event = SubscriptionEvent.objects.get(subscription=back, kind="resumed")
    assert event.actor_kind == "system"


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_the_progress_bar_shows_only_on_a_terminal(tty: bool) -> None:
    from scheduler.generation import BatchResult
    from scheduler.management.commands.run_nightly import ProgressBar

    stream = _Terminal(tty)
    bar = ProgressBar(4, stream=stream)
    bar(BatchResult(due=2))
    bar(BatchResult(due=2))
    bar.close()
    if tty:
        assert (
            stream.getvalue()
            == "\r[###############...............] 2/4 \r[##############################] 4/4 \n"
        )
    else:
        assert stream.getvalue() == ""


def test_a_subscription_an_overlapping_run_resumed_first_is_an_info_line_not_an_error(
    policy, monkeypatch, caplog
) -> None:  # noqa: ANN001
    import logging

    import scheduler.pipeline as pipeline
    from subscriptions.actors import Actor

    # given a subscription paused until the run date, which another run resumes right after this
    # run listed it (the race of two overlapping nights)
    sub = SubscriptionFactory(status=SubscriptionStatus.PAUSED, paused_until=CREATION)
    real_resume = pipeline.subscription_resume

    def other_run_first(**kwargs):  # noqa: ANN003, ANN202
        real_resume(subscription_id=kwargs["subscription_id"], actor=Actor.system(), today=CREATION)
        return real_resume(**kwargs)

    monkeypatch.setattr(pipeline, "subscription_resume", other_run_first)

    # when this run's resume stage reaches it
    with caplog.at_level(logging.DEBUG, logger="scheduler.pipeline"):
        result = stage_resume_paused(CREATION)

    # then it is not counted twice and logged as an expected race: no error, no traceback
    assert result == {"resumed": 0}
    assert Subscription.objects.get(pk=sub.pk).status == SubscriptionStatus.ACTIVE
    records = [r for r in caplog.records if str(sub.pk) in r.getMessage()]
    assert records and all(r.levelno <= logging.INFO and r.exc_info is None for r in records)


def test_a_stage_that_cannot_reach_the_broker_is_reported_and_the_later_stages_still_run() -> None:
    from notifications.outbox import BrokerUnavailable
    from scheduler.pipeline import run_stages

    ran = []

    def stage_charge_new_orders(run_date):  # noqa: ANN001, ANN202
        raise BrokerUnavailable("broker unreachable (OperationalError: refused)")

    def stage_reminders(run_date):  # noqa: ANN001, ANN202
        ran.append(run_date)
        return {"reminders_sent": 2}

    counters = run_stages([stage_charge_new_orders, stage_reminders], CREATION)

    assert ran == [CREATION]
    assert counters == {
        "stages_not_run": {"charge_new_orders": "broker unreachable (OperationalError: refused)"},
        "reminders_sent": 2,
    }
