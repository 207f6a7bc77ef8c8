"""The order status pipeline, releasing holds and cancelling (stock and 定期回数 follow)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from core.errors import Conflict
from orders import services
from orders.models import ORDER_TRANSITIONS, Order, OrderEvent, OrderStatus
from scheduler.generation import generate_due
from subscriptions.models import Subscription, SubscriptionEvent
from tests.factories import CourseFactory, CustomerFactory, ProductFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

CREATION = dt.date(2027, 1, 25)

ALL_PAIRS = list(itertools.product(OrderStatus.values, OrderStatus.values))
# Moves with side effects of their own are covered by their own tests below.
ROUTED = {(OrderStatus.ON_HOLD, OrderStatus.NEW)}


def _order(status: str, **fields) -> Order:
    customer = CustomerFactory()
    return Order.objects.create(
        customer=customer,
        status=status,
        creation_date=CREATION,
        ship_name="山田 花子",
        ship_postal_code="100-0001",
        ship_prefecture="東京都",
        ship_city="千代田区",
        ship_line1="千代田1-1",
        **fields,
    )


@pytest.mark.parametrize(("old", "new"), [p for p in ALL_PAIRS if p not in ROUTED])
def test_every_status_move_is_allowed_exactly_when_the_table_says_so(old: str, new: str) -> None:
    # given an order in status `old`
    order = _order(old)
    admin = UserFactory()

    if new in ORDER_TRANSITIONS[old]:
        # when an allowed move is made, then the status changes and one event records it
        services.order_set_status(order_id=order.pk, status=new, actor_user=admin, note="テスト")
        order.refresh_from_db()
        assert order.status == new
        event = OrderEvent.objects.get(order=order)
        assert (event.before["status"], event.after["status"], event.actor_id) == (old, new, admin.pk)
    else:
        # when a forbidden move is tried, then it is refused and nothing changes
        with pytest.raises(Conflict) as refused:
            services.order_set_status(order_id=order.pk, status=new, actor_user=admin)
        assert refused.value.code == "invalid_transition"
        order.refresh_from_db()
        assert order.status == old
        assert not OrderEvent.objects.filter(order=order).exists()


def test_shipping_and_completing_stamp_their_times() -> None:
    order = _order(OrderStatus.READY)
    services.order_set_status(order_id=order.pk, status=OrderStatus.SHIPPED)
    services.order_set_status(order_id=order.pk, status=OrderStatus.COMPLETED)
    order.refresh_from_db()
    assert order.shipped_at is not None and order.completed_at is not None


def _generated_order(policy, stock: int | None, *, blacklisted: bool = False) -> tuple[Order, object]:  # noqa: ANN001
    product = ProductFactory(stock=stock)
    sub = SubscriptionFactory(course=CourseFactory(setup=product))
    if blacklisted:
        type(sub.customer).objects.filter(pk=sub.customer_id).update(is_blacklisted=True)
    generate_due(run_date=CREATION)
    return Order.objects.get(subscription=sub), product


def test_releasing_a_hold_makes_the_order_new_and_records_the_reasons(policy) -> None:  # noqa: ANN001
    # given an order held because the customer is blacklisted
    order, product = _generated_order(policy, stock=5, blacklisted=True)
    assert order.status == OrderStatus.ON_HOLD

    # when an admin releases it
    admin = UserFactory()
    services.order_release_hold(order_id=order.pk, actor_user=admin)

    # then it is new (charging picks it up), its reasons are cleared and the event keeps them
    order.refresh_from_db()
    assert (order.status, order.hold_reasons) == (OrderStatus.NEW, [])
    event = OrderEvent.objects.get(order=order, kind="hold_released")
    assert event.before == {"status": "on_hold", "hold_reasons": ["blacklisted"]}
    product.refresh_from_db()
    assert product.stock == 4  # taken once, at generation


def test_releasing_a_stock_hold_takes_the_stock_then(policy) -> None:  # noqa: ANN001
    # given an order held for a shortfall, and stock that arrived since
    order, product = _generated_order(policy, stock=0)
    assert order.hold_reasons == ["stock_short"]
    type(product).objects.filter(pk=product.pk).update(stock=3)

    # when it is released through the status pipeline
    services.order_set_status(order_id=order.pk, status=OrderStatus.NEW)

    # then the stock is taken now
    product.refresh_from_db()
    assert product.stock == 2


def test_a_stock_hold_cannot_be_released_while_stock_is_still_short(policy) -> None:  # noqa: ANN001
    order, product = _generated_order(policy, stock=0)
    with pytest.raises(Conflict) as refused:
        services.order_release_hold(order_id=order.pk)
    assert refused.value.code == "stock_short"
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD


def test_cancelling_a_child_order_puts_stock_back_and_gives_the_cycle_back(policy) -> None:  # noqa: ANN001
    # given a generated order that took one unit
    order, product = _generated_order(policy, stock=5)
    sub = Subscription.objects.get(pk=order.subscription_id)
    assert (sub.cycle_count, sub.orders_created) == (1, 1)

    # when it is cancelled (through the pipeline, as the admin action does)
    services.order_set_status(order_id=order.pk, status=OrderStatus.CANCELLED, note="お客様都合")

    # then the unit is back, 定期回数 is given back, 定期内受注数 stays
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancelled_at is not None
    product.refresh_from_db()
    assert product.stock == 5
    sub.refresh_from_db()
    assert (sub.cycle_count, sub.orders_created) == (0, 1)
    assert SubscriptionEvent.objects.filter(subscription=sub, kind="cycle_given_back").exists()


def test_cancelling_a_stock_hold_puts_nothing_back(policy) -> None:  # noqa: ANN001
    order, product = _generated_order(policy, stock=0)
    services.order_cancel(order_id=order.pk)
    product.refresh_from_db()
    assert product.stock == 0


def test_a_cancelled_order_cannot_be_cancelled_again() -> None:
    order = _order(OrderStatus.CANCELLED)
    with pytest.raises(Conflict):
        services.order_cancel(order_id=order.pk)
