"""Charges at scale, from outside: 1,000 card subscriptions due (SCALE_TEST_SUBSCRIPTIONS to change it;
about 30 s here since charges go in batches), two nightly runs at once
fanning the charges out to a real Celery worker on our own redis-server, the worker killed with
SIGKILL while it charges, a second worker and a rerun; then localstripe holds exactly one succeeded
PaymentIntent per order (counted by the order id in its metadata)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from billing.models import PaymentKind, PaymentMethod
from catalog.models import Course
from customers.models import Customer
from orders.models import Order, PaymentStatus
from tests.factories import CourseFactory, CustomerFactory, SubscriptionFactory
from tests.ops.redis_outage import RedisServer
from tests.stripe_server import SECRET_KEY

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CREATION = "2027-01-25"  # SubscriptionFactory's first order is created on this Monday
DUE = int(os.environ.get("SCALE_TEST_SUBSCRIPTIONS", "1000"))


@pytest.fixture
def broker(tmp_path: Path):  # noqa: ANN201
    server = RedisServer(int(os.environ.get("SCALE_TEST_REDIS_PORT", "9312")), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _env(broker: RedisServer, localstripe) -> dict[str, str]:  # noqa: ANN001
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": broker.url,
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_API_BASE": localstripe.url,
        "PAYMENT_RATE_LIMIT_PER_SECOND": "1000",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def _worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--loglevel=ERROR",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL takes the pool's children too
    )  # fmt: skip


def _kill(worker: subprocess.Popen, sig: int) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    worker.wait(timeout=30)


def _nightly(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_nightly", "--date", CREATION],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _paid() -> int:
    return Order.objects.filter(payment_status=PaymentStatus.PAID).count()


def _cards(localstripe, n: int) -> list[Customer]:  # noqa: ANN001
    """n customers with a saved card each. One Stripe customer and card stand behind all of them (a
    thousand SetupIntents would take longer than the charges); each order is still its own charge."""
    client = localstripe.client()
    stripe_customer = client.v1.customers.create(params={"email": "scale@example.com"})
    pm = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031,
                                         "cvc": "123"}}
    )  # fmt: skip
    client.v1.payment_methods.attach(pm.id, params={"customer": stripe_customer.id})
    customers = CustomerFactory.create_batch(n, stripe_customer_id=stripe_customer.id)
    PaymentMethod.objects.bulk_create(
        PaymentMethod(
            customer=c, kind=PaymentKind.CARD, stripe_payment_method_id=pm.id, brand="visa", last4="4242"
        )
        for c in customers
    )
    return customers


def test_due_card_orders_are_each_charged_once_through_two_runs_a_killed_worker_and_a_rerun(
    localstripe, broker, policy
) -> None:  # noqa: ANN001
    # given DUE card subscriptions due tonight (one course: its products and prices are shared)
    started = time.monotonic()
    course: Course = CourseFactory()
    customers = _cards(localstripe, DUE)
    methods = {m.customer_id: m for m in PaymentMethod.objects.filter(customer__in=customers)}
    for customer in customers:
        SubscriptionFactory(customer=customer, course=course, payment_method=methods[customer.pk])
    env = _env(broker, localstripe)
    setup_seconds = time.monotonic() - started

    # when a worker runs, and two nightly runs start at once (each fans the charges out)
    first_worker = _worker(env)
    second_worker = None
    try:
        runs = [_nightly(env), _nightly(env)]
        # and the worker is killed (SIGKILL, no cleanup) while it charges
        deadline = time.monotonic() + 120
        while _paid() < min(50, DUE // 4):
            assert time.monotonic() < deadline, "the worker charged nothing in 120 s"
            assert first_worker.poll() is None, "the worker died"
            time.sleep(0.05)
        _kill(first_worker, signal.SIGKILL)
        paid_when_killed = _paid()
        outputs = [run.communicate(timeout=300) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
        reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]

        # and a second worker starts and the night is run again
        second_worker = _worker(env)
        rerun = _nightly(env)
        out, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err
        deadline = time.monotonic() + 240
        while _paid() < DUE:
            assert time.monotonic() < deadline, f"{DUE - _paid()} orders still unpaid after 240 s"
            assert second_worker.poll() is None, "the second worker died"
            time.sleep(0.2)
    finally:
        _kill(first_worker, signal.SIGKILL)
        if second_worker is not None:
            _kill(second_worker, signal.SIGTERM)

    # then the two runs created each order once between them, and every order is paid
    assert sum(r["orders_created"] for r in reports) == DUE
    assert json.loads(out.strip().splitlines()[-1])["orders_created"] == 0
    orders = dict(Order.objects.values_list("pk", "payment_status"))
    assert len(orders) == DUE and set(orders.values()) == {PaymentStatus.PAID}

    # and Stripe holds exactly one succeeded PaymentIntent per order
    client = localstripe.client()
    stripe_customer = customers[0].stripe_customer_id
    charged = Counter(
        pi.to_dict().get("metadata", {}).get("order_id")
        for pi in client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
        if pi.customer == stripe_customer and pi.status == "succeeded"
    )
    assert {pk: charged[str(pk)] for pk in orders} == {pk: 1 for pk in orders}
    assert sum(charged.values()) == DUE
    print(
        f"\n{DUE} orders: setup {setup_seconds:.1f} s, charged once each in "
        f"{time.monotonic() - started - setup_seconds:.1f} s; {paid_when_killed} paid when the worker was killed"
    )
