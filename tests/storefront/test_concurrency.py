"""Real concurrency on PostgreSQL: threads with their own connections place checkouts at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from billing.models import PaymentKind
from core.errors import DomainError
from orders.models import Order
from storefront.models import Checkout
from storefront.services import CheckoutInput, checkout_place
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db(transaction=True)


def _run_all(calls: list) -> list:  # noqa: ANN001
    barrier = threading.Barrier(len(calls))

    def run(call):  # noqa: ANN001, ANN202
        try:
            barrier.wait()
            return call()
        except DomainError as refused:
            return refused
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _input(n: int) -> CheckoutInput:
    return CheckoutInput(
        course_code="aojiru", email=f"rush{n}@example.com", name=f"急ぎ {n}", postal_code="100-0001",
        line1="千代田1-1", payment_kind=PaymentKind.COD,
    )  # fmt: skip


def test_twenty_checkouts_for_the_last_five_units(course) -> None:  # noqa: ANN001
    product = course.items.get().product
    product.stock = 5
    product.save()
    results = _run_all(
        [lambda n=n: checkout_place(data=_input(n), key=f"rush-key-{n:04d}") for n in range(20)]
    )
    placed = [r for r in results if not isinstance(r, DomainError)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(placed) == 5 and len(refused) == 15
    assert {(r.code, r.status) for r in refused} == {("stock_short", 409)}
    assert all("在庫" in r.message for r in refused)
    product.refresh_from_db()
    assert product.stock == 0
    assert Order.objects.count() == Subscription.objects.count() == Checkout.objects.count() == 5


def test_a_double_click_and_a_retry_racing_make_one_subscription(course) -> None:  # noqa: ANN001
    data = _input(1)
    results = _run_all([lambda: checkout_place(data=data, key="same-key-racing") for _ in range(6)])
    assert not [r for r in results if isinstance(r, DomainError)]
    assert len({r.subscription.pk for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert Subscription.objects.count() == 1 and Order.objects.count() == 1
