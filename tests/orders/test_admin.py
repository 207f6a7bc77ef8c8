"""Orders in admin: the list costs a fixed number of queries; actions go through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from orders.models import Order, OrderStatus
from scheduler.generation import generate_due
from tests.factories import SubscriptionFactory, UserFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

CREATION = dt.date(2027, 1, 25)


@pytest.fixture
def admin_client(client):  # noqa: ANN001, ANN201
    staff_login(client, UserFactory(is_staff=True, is_superuser=True))  # password and TOTP
    return client


def test_the_order_list_costs_the_same_queries_for_many_orders(
    policy, admin_client, django_assert_max_num_queries
) -> None:  # noqa: ANN001, E501
    for _ in range(3):
        SubscriptionFactory()
    generate_due(run_date=CREATION)
    # 12 for the list, plus one each for the choices of the product, course, carrier, prefecture and
    # payment-method filters: fixed, whatever the number of orders.
    with django_assert_max_num_queries(17) as few:
        assert admin_client.get(reverse("admin:orders_order_changelist")).status_code == 200
    for _ in range(12):
        SubscriptionFactory()
    generate_due(run_date=CREATION)
    with django_assert_max_num_queries(17) as many:
        response = admin_client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_an_order_page_shows_its_lines_and_events(policy, admin_client) -> None:  # noqa: ANN001
    sub = SubscriptionFactory()
    generate_due(run_date=CREATION)
    order = Order.objects.get(subscription=sub)
    response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    assert order.lines.get().product_name in response.content.decode()


def test_the_release_action_releases_held_orders_through_the_service(policy, admin_client) -> None:  # noqa: ANN001
    # given a held order (blacklisted customer)
    sub = SubscriptionFactory()
    type(sub.customer).objects.filter(pk=sub.customer_id).update(is_blacklisted=True)
    generate_due(run_date=CREATION)
    order = Order.objects.get(subscription=sub)

    # when the admin runs the release action on it
    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "release_hold", "_selected_action": [order.pk]},
        follow=True,
    )

    # then it is released and the event names the admin
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW
    assert order.events.get(kind="hold_released").actor.is_staff


def test_a_refused_action_says_why(policy, admin_client) -> None:  # noqa: ANN001
    sub = SubscriptionFactory()
    generate_due(run_date=CREATION)
    order = Order.objects.get(subscription=sub)
    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "mark_shipped", "_selected_action": [order.pk]},
        follow=True,
    )
    assert "変更することはできません" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW
