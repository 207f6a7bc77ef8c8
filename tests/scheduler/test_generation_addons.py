"""ついで買い in the nightly run: on the next order only, priced with it, its stock taken, consumed once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from catalog.models import Product, ProductSalePrice
from orders.models import Order, OrderStatus
from scheduler.generation import generate_due
from subscriptions.actors import Actor
from subscriptions.models import ShopPolicy, SubscriptionAddon, SubscriptionEvent
from subscriptions.services import subscription_add_addon
from tests.factories import CourseFactory, ProductFactory, SubscriptionFactory

# SubscriptionFactory: monthly from Sunday 2027-01-31, its first order created Monday 2027-01-25.
CREATION = dt.date(2027, 1, 25)
BEFORE_DEADLINE = dt.datetime(2027, 1, 20, 10, tzinfo=ZoneInfo("Asia/Tokyo"))

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["copy", "orm"])
def writer(request, settings):  # noqa: ANN001, ANN201
    settings.NIGHTLY_WRITER = request.param
    return request.param


def _with_addon(product: Product, quantity: int, **subscription: object):  # noqa: ANN202
    sub = SubscriptionFactory(**subscription)
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        subscription_add_addon(
            subscription_id=sub.pk, product_id=product.pk, quantity=quantity, actor=Actor.customer(sub.customer.user)
        )  # fmt: skip
    return sub


def test_the_next_order_carries_the_add_on_once_and_takes_its_stock(policy, writer) -> None:  # noqa: ANN001
    # given a due subscription with 2 of an add-on on sale (list ¥1,500, sale ¥1,200) and 5 in stock
    vinegar = ProductFactory(name="黒酢", price=1500, tax_rate=8, stock=5, addon_available=True)
    ProductSalePrice.objects.create(product=vinegar, unit_price=1200, starts_on=dt.date(2027, 1, 1))
    sub = _with_addon(vinegar, 2)

    # when the night of its creation date runs
    result = generate_due(run_date=CREATION)

    # then its order has the course line and the add-on line at the one-off (sale) price
    assert result.orders_created == 1
    order = Order.objects.get(subscription=sub)
    lines = [(ln.product_id, ln.quantity, ln.unit_price, ln.line_total) for ln in order.lines.order_by("id")]
    assert lines == [(sub.items.get().product_id, 1, 980, 980), (vinegar.pk, 2, 1200, 2400)]
    assert order.items_subtotal == 980 + 2400
    # its stock is taken with the course items', and the add-on is now on the order
    vinegar.refresh_from_db()
    assert vinegar.stock == 3
    addon = SubscriptionAddon.objects.get()
    assert addon.order_id == order.pk
    event = SubscriptionEvent.objects.get(subscription=sub, kind="order_created")
    assert event.after["addons"] == {str(vinegar.pk): 2}

    # and a rerun of the night creates nothing and takes nothing
    again = generate_due(run_date=CREATION)
    assert (again.due, again.orders_created) == (0, 0)
    vinegar.refresh_from_db()
    assert vinegar.stock == 3 and Order.objects.count() == 1

    # and the order after it is the course alone
    sub.refresh_from_db()
    generate_due(run_date=sub.next_creation_date)
    second = Order.objects.get(subscription=sub, sequence=2)
    assert [ln.product_id for ln in second.lines.all()] == [sub.items.get().product_id]


def test_a_short_add_on_holds_the_order_like_a_short_course_item(policy, writer) -> None:  # noqa: ANN001
    # given an add-on with 2 in stock when added, sold out by night
    tea = ProductFactory(price=800, stock=2, addon_available=True)
    sub = _with_addon(tea, 2)
    Product.objects.filter(pk=tea.pk).update(stock=1)

    # when the night runs (shortfall policy: hold)
    generate_due(run_date=CREATION)

    # then the order is created on hold for the stock, with the add-on on it and no stock taken
    order = Order.objects.get(subscription=sub)
    assert (order.status, order.hold_reasons) == (OrderStatus.ON_HOLD, ["stock_short"])
    assert order.lines.count() == 2 and SubscriptionAddon.objects.get().order_id == order.pk
    tea.refresh_from_db()
    assert tea.stock == 1


def test_with_the_skip_policy_a_short_add_on_waits_for_the_next_order(policy, writer) -> None:  # noqa: ANN001
    ShopPolicy.objects.filter(pk=policy.pk).update(stock_shortfall="skip")
    tea = ProductFactory(price=800, stock=2, addon_available=True)
    sub = _with_addon(tea, 2)
    Product.objects.filter(pk=tea.pk).update(stock=0)
    result = generate_due(run_date=CREATION)
    assert result.skipped == 1 and not Order.objects.filter(subscription=sub).exists()
    assert SubscriptionAddon.objects.get().order_id is None


def test_add_ons_cost_no_query_per_order(policy, writer, django_assert_max_num_queries) -> None:  # noqa: ANN001
    # given 3 due subscriptions with add-ons, then 20 more
    shared = ProductFactory(price=500, stock=1000, addon_available=True)
    course = CourseFactory()
    for _ in range(3):
        _with_addon(shared, 1, course=course)
    with django_assert_max_num_queries(40) as small:
        generate_due(run_date=CREATION)
    for i in range(20):
        _with_addon(ProductFactory(price=600 + i, stock=50, addon_available=True), 2, course=course)
    with django_assert_max_num_queries(40) as large:
        generate_due(run_date=CREATION)
    assert len(large.captured_queries) <= len(small.captured_queries)
    assert SubscriptionAddon.objects.filter(order__isnull=True).count() == 0
    assert Order.objects.filter(lines__product=shared).count() == 3
