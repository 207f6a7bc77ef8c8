"""A Redis outage is not an outage: our own redis-server is stopped during my-page traffic (production's
cache and `cached_db` sessions, a broker on it) and during a nightly run, then started again; after the
sweeper every order is charged once and every mail sent once (README, "Running it in production")."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.test import Client

from billing.models import PaymentMethod
from notifications.models import Notification, NotificationStatus, OutboxTask, OutboxTaskStatus
from notifications.outbox import outbox_sweep
from orders.models import Order, PaymentStatus
from subscriptions.models import Subscription
from subscriptions.selectors import today_in_shop
from tests.billing.payments_helpers import save_card
from tests.factories import CustomerFactory, SubscriptionFactory
from tests.ops.redis_outage import RedisServer, celery_on_broker

ROOT = Path(__file__).resolve().parents[2]
CREATION = dt.date(2027, 1, 25)  # SubscriptionFactory's first order is created on this Monday


@pytest.fixture
def redis_server(tmp_path: Path):  # noqa: ANN201
    server = RedisServer(int(os.environ.get("OUTAGE_TEST_REDIS_PORT", "9311")), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _production_cache(settings, url: str) -> None:  # noqa: ANN001
    """What config.settings.production configures when REDIS_URL is set."""
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSafeRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "teiki-outage-test",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.mark.django_db
def test_pages_api_and_login_keep_working_while_redis_is_down(
    redis_server, settings, policy, django_capture_on_commit_callbacks, caplog
) -> None:  # noqa: ANN001
    import logging

    from mypage.selectors import policy_forget, pricing_forget

    caplog.set_level(logging.WARNING)

    _production_cache(settings, redis_server.url)
    policy_forget()
    pricing_forget()
    customer = CustomerFactory()
    EmailAddress.objects.create(user=customer.user, email=customer.user.email, verified=True, primary=True)
    subscription = SubscriptionFactory(customer=customer, anchor_date=today_in_shop() + dt.timedelta(days=40))
    card = PaymentMethod.objects.create(customer=customer, kind="card", brand="visa", last4="4242")
    detail = f"/mypage/subscriptions/{subscription.pk}/"
    client = Client()

    with celery_on_broker(redis_server.url):
        # given a customer logged in while Redis is up (the session is in the cache and the database)
        login = {"login": customer.user.email, "password": "pass12345"}
        assert client.post("/accounts/login/", login).status_code == 302
        assert client.get("/mypage/").status_code == 200

        # when Redis goes away
        redis_server.stop()

        # then pages, the API and PDFs' neighbours keep answering from the database
        assert client.get("/mypage/").status_code == 200
        assert client.get(detail).status_code == 200
        assert client.get("/api/mypage/subscriptions/").status_code == 200
        assert client.get("/api/mypage/orders/").status_code == 200
        assert any(r.name == "config.cache" and r.levelno == logging.WARNING for r in caplog.records)

        # and changing the payment method commits, answers, and mails its confirmation
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{detail}payment-method/", {"payment_method_id": card.pk})
        assert response.status_code in (200, 302)
        assert Subscription.objects.get(pk=subscription.pk).payment_method_id == card.pk
        [task] = OutboxTask.objects.all()
        assert (task.task, task.status, task.args) == (
            "billing.retry_subscription_payments",
            OutboxTaskStatus.PENDING,
            [subscription.pk],
        )
        assert "OperationalError" in task.last_error or "Connection" in task.last_error

        # and a new login works (allauth's rate limit fails open)
        client.post("/accounts/logout/")
        fresh = Client()
        assert fresh.post("/accounts/login/", login).status_code == 302
        assert fresh.get("/mypage/").status_code == 200

        # when Redis is back and the sweeper runs (twice: beat and the nightly run)
        redis_server.start()
        first = outbox_sweep()
        second = outbox_sweep()

    # then the retry task went to the broker once and the confirmation mail went out once
    assert (first["outbox_dispatched"], second["outbox_dispatched"]) == (1, 0)
    assert OutboxTask.objects.get().status == OutboxTaskStatus.DISPATCHED
    assert redis_server.queued() == 1
    changes = Notification.objects.filter(kind="mypage_change")
    assert [n.status for n in changes] == [NotificationStatus.SENT]
    assert [m.subject for m in mail.outbox].count(changes.get().subject) == 1


# The nightly run ------------------------------------------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _env(redis_server: RedisServer, localstripe, mails: Path, **extra: str) -> dict[str, str]:  # noqa: ANN001
    from tests.stripe_server import SECRET_KEY

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_server.url,
        "CELERY_BROKER_URL": redis_server.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_API_BASE": localstripe.url,
        # Mails as files, counted whichever process sent them (the night, the sweeper, the worker).
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mails),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _manage(env: dict[str, str], *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _report(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def _mails_sent(folder: Path) -> Counter:
    """Subjects of the mails the file backend wrote, as many times as each left."""
    from email import message_from_string
    from email.header import decode_header, make_header

    subjects: Counter = Counter()
    for output in (path.read_text() for path in folder.glob("*.log")):
        for raw in output.split("-" * 79):
            message = message_from_string(raw.strip())
            if message["Subject"]:
                subjects[str(make_header(decode_header(message["Subject"])))] += 1
    return subjects


def _orders_waiting_to_be_charged() -> list[int]:
    """The order ids the pending charge tasks carry (a task charges a batch of orders)."""
    ids: list[int] = []
    for task in OutboxTask.objects.filter(status=OutboxTaskStatus.PENDING):
        assert task.task == "billing.charge_orders", task
        ids.extend(task.args[0])
    return sorted(ids)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_nightly_run_with_redis_gone_reports_the_charges_and_the_sweeper_charges_each_once(
    redis_server, localstripe, stripe_settings, policy, tmp_path: Path
) -> None:  # noqa: ANN001
    # given six card subscriptions due tonight, and one due for its reminder
    due = []
    for _ in range(6):
        customer = CustomerFactory()
        due.append(SubscriptionFactory(customer=customer, payment_method=save_card(localstripe, customer)))
    reminded = SubscriptionFactory(anchor_date=dt.date(2027, 2, 2))
    assert CREATION < reminded.next_creation_date <= CREATION + dt.timedelta(days=policy.reminder_days_before)
    mails = tmp_path / "mails"
    env = _env(redis_server, localstripe, mails)

    # when Redis (cache, broker, rate limit) goes away while the night runs
    night = subprocess.Popen(
        [sys.executable, "manage.py", "run_nightly", "--date", CREATION.isoformat(), "--batch-size", "2"],
        cwd=ROOT,
        env={**env, "NIGHTLY_BATCH_PAUSE_SECONDS": "0.5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not Order.objects.exists():
        assert night.poll() is None, night.communicate()
        assert time.monotonic() < deadline, "the run created no order in 60 s"
        time.sleep(0.05)
    redis_server.stop()
    out, err = night.communicate(timeout=120)

    # then the report says the charges could not run and why, the other stages ran, and it exits 1
    assert night.returncode == 1, err
    report = _report(out)
    assert report["orders_created"] == 7 - 1  # the reminded subscription is not due tonight
    assert "broker unreachable" in report["stages_not_run"]["charge_new_orders"]
    assert report["reminders_sent"] == 1
    assert set(report["stages_not_run"]) == {"charge_new_orders"}
    orders = list(Order.objects.filter(subscription__in=due).select_related("customer"))
    assert len(orders) == 6 and {o.payment_status for o in orders} == {PaymentStatus.UNPAID}
    assert _orders_waiting_to_be_charged() == sorted(o.pk for o in orders)

    # and while Redis is still down, the sweeper keeps them and says so
    swept = _manage(env, "sweep_outbox")
    assert swept.returncode == 1
    assert _orders_waiting_to_be_charged() == sorted(o.pk for o in orders)

    # when Redis is back, a worker runs and the sweeper runs (twice), then the night is run again
    redis_server.start()
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
        for _ in range(2):
            swept = _manage(env, "sweep_outbox")
            assert swept.returncode == 0, swept.stderr
        deadline = time.monotonic() + 90
        while Order.objects.filter(subscription__in=due, payment_status=PaymentStatus.PAID).count() < 6:
            assert worker.poll() is None, worker.stderr.read()
            assert time.monotonic() < deadline, "the worker did not charge the orders in 90 s"
            time.sleep(0.2)
        rerun = _manage(env, "run_nightly", "--date", CREATION.isoformat())
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)

    # then every order was charged exactly once at Stripe, and every mail went out once
    assert rerun.returncode == 0, rerun.stderr
    assert _report(rerun.stdout)["orders_created"] == 0
    assert not OutboxTask.objects.exclude(status=OutboxTaskStatus.DISPATCHED).exists()
    client = localstripe.client()
    charged = Counter(
        (pi.customer, pi.to_dict().get("metadata", {}).get("order_id"))
        for pi in client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
        if pi.status == "succeeded"
    )
    per_order = {o.pk: charged[(o.customer.stripe_customer_id, str(o.pk))] for o in orders}
    assert per_order == {o.pk: 1 for o in orders}
    sent = _mails_sent(mails)
    notices = list(Notification.objects.all())
    assert notices and all(n.status == NotificationStatus.SENT for n in notices), [
        (n.status, n.error) for n in notices
    ]
    assert {n.subject: sent[n.subject] for n in notices} == {n.subject: 1 for n in notices}


def test_the_payment_rate_limit_falls_back_to_the_process_when_redis_is_down(caplog) -> None:
    import logging

    from billing.ratelimit import RedisLimiter

    # given the shared charge budget on a Redis nobody listens on
    limiter = RedisLimiter(2, redis_url="redis://127.0.0.1:9399/0", sleep=lambda seconds: None)

    # when charges ask for their slots
    with caplog.at_level(logging.WARNING, logger="billing.ratelimit"):
        for _ in range(3):
            limiter.acquire()

    # then they get them (kept in this process) and the outage is logged once
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert limiter._fallback._count >= 1
