"""The order-rule editor, its simulation (which writes nothing) and the pre-order list."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse

from notifications.models import Notification
from orders.models import Order, OrderEvent, OrderStatus, PaymentStatus
from orders.rules.models import OrderRule
from orders.rules.services import order_rule_save
from subscriptions.models import Subscription
from tests.backoffice.helpers import shop_order
from tests.factories import ProductFactory, SubscriptionFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

STRAIGHT = [
    [
        {"field": "payment_kind", "op": "eq", "value": "card"},
        {"field": "has_comment", "op": "is", "value": False},
    ]
]
TO_READY = [{"type": "set_status", "value": "ready"}]


def _post(client, url, **fields):  # noqa: ANN001, ANN202
    data = {
        "name": "カード・コメントなし",
        "position": 10,
        "is_active": "on",
        "conditions": json.dumps(STRAIGHT),
        "actions": json.dumps(TO_READY),
        "days": 7,
        "sources": ["past"],
        **fields,
    }
    return client.post(url, data)


def _login(client, user):  # noqa: ANN001, ANN202
    return staff_login(client, user)  # inside the travelled time, so the session is fresh then


def _snapshot() -> tuple:
    return (
        sorted(Order.objects.values_list("pk", "status", "tags", "hold_reasons", "rules_applied_at")),
        OrderEvent.objects.count(),
        Notification.objects.count(),
        sorted(Subscription.objects.values_list("pk", "next_sequence")),
    )


@time_machine.travel(dt.datetime(2027, 3, 12, 1, 0, tzinfo=dt.UTC), tick=False)
def test_simulation_counts_and_shows_examples_and_writes_nothing(client, admin_user):
    admin_client = _login(client, admin_user)
    paid = shop_order(status=OrderStatus.NEW, payment_status=PaymentStatus.PAID)
    shop_order(status=OrderStatus.NEW, payment_status=PaymentStatus.PAID, customer_comment="よろしく")
    shop_order(status=OrderStatus.NEW, payment_status=PaymentStatus.PAID, creation_date=dt.date(2027, 1, 1))
    before = _snapshot()

    response = _post(admin_client, reverse("backoffice:rule_add"), simulate="1")

    assert response.status_code == 200
    report = response.context["reports"][0]
    assert report["orders"] == 2  # the January order is outside the last 7 days
    draft = report["rules"][1]
    assert (draft["name"], draft["matched"], draft["changed"]) == ("カード・コメントなし", 1, 1)
    assert draft["examples"][0]["order_id"] == paid.pk
    assert draft["examples"][0]["after"] == [("受注状態", "出荷準備中")]
    assert report["untouched"] == 1
    assert _snapshot() == before
    assert not OrderRule.objects.exists()


@time_machine.travel(dt.datetime(2027, 1, 20, 1, 0, tzinfo=dt.UTC), tick=False)
def test_simulation_on_the_orders_the_next_nights_would_create_writes_nothing(client, admin_user, policy):
    admin_client = _login(client, admin_user)
    subs = SubscriptionFactory.create_batch(3)  # first orders created 2027-01-25 (see the factory)
    assert {s.next_creation_date for s in subs} == {dt.date(2027, 1, 25)}
    before = _snapshot()

    response = _post(admin_client, reverse("backoffice:rule_add"), simulate="1", sources=["forecast"])

    report = response.context["reports"][0]
    assert report["source"] == "forecast"
    assert report["orders"] == 3
    # subscriptions have no payment method here: not card, so the draft matches none
    assert report["rules"][1]["matched"] == 0 and report["untouched"] == 3
    assert _snapshot() == before
    assert Order.objects.count() == 0


def test_save_validates_and_the_list_flags_a_shadowed_rule(admin_client, django_assert_max_num_queries):
    bad = _post(
        admin_client,
        reverse("backoffice:rule_add"),
        save="1",
        conditions='[[{"field": "colour", "op": "eq", "value": 1}]]',
    )
    assert bad.status_code == 200
    assert "不明な条件項目です: colour" in bad.content.decode()
    broken = _post(admin_client, reverse("backoffice:rule_add"), save="1", actions="[{")
    assert "JSON" in broken.content.decode()
    assert not OrderRule.objects.exists()

    order_rule_save(
        name="全部止める",
        conditions=[],
        actions=[{"type": "add_tags", "value": "x"}],
        stop_after_match=True,
        position=1,
    )
    saved = _post(admin_client, reverse("backoffice:rule_add"), save="1")
    assert saved.status_code == 302
    rule = OrderRule.objects.get(name="カード・コメントなし")
    assert (rule.conditions, rule.actions, rule.position) == (STRAIGHT, TO_READY, 10)

    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("backoffice:rules"))
    assert "必ず先に一致するため" in page.content.decode()

    edit = admin_client.get(reverse("backoffice:rule_edit", args=[rule.pk]))
    assert json.loads(edit.context["form"].initial["conditions"]) == STRAIGHT
    assert admin_client.get(reverse("backoffice:rule_edit", args=[999999])).status_code == 404


def test_english_page(admin_client):
    response = admin_client.get(reverse("backoffice:rules"), HTTP_ACCEPT_LANGUAGE="en")
    admin_client.cookies["django_language"] = "en"
    response = admin_client.get(reverse("backoffice:rules"))
    assert "Order rules" in response.content.decode()


def test_preorder_list_sums_open_orders_per_sku(admin_client):
    product = ProductFactory(sku="PRE-1", is_preorder=True, release_date=dt.date(2027, 4, 1))
    shop_order(status=OrderStatus.ON_HOLD, product=product)
    shop_order(status=OrderStatus.NEW, product=product)
    shop_order(status=OrderStatus.SHIPPED, product=product)

    response = admin_client.get(reverse("backoffice:preorders"))

    (row,) = response.context["rows"]
    assert (row.sku, row.quantity, row.orders) == ("PRE-1", 2, 2)
    assert row.shippable_on == dt.date(2027, 4, 1)


def test_staff_without_permission_are_refused(client, django_user_model):
    user = django_user_model.objects.create_user(
        "staff", email="staff@example.com", password="x", is_staff=True
    )
    staff_login(client, user)
    assert client.get(reverse("backoffice:rules")).status_code == 403
