"""The my-page API: reads, actions and their {code, message} errors, under session auth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from rest_framework.test import APIClient

from subscriptions.models import ShopPolicy, SubscriptionStatus
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def _url(subscription, action=""):
    base = f"/api/mypage/subscriptions/{subscription.pk}/"
    return f"{base}{action}/" if action else base


def test_anonymous_is_refused(client, subscription):
    response = client.get("/api/mypage/subscriptions/")
    assert response.status_code == 403
    assert set(response.json()) >= {"code", "message"}


def test_list_has_items_next_delivery_deadline_actions_upcoming(
    api, customer, subscription, django_assert_max_num_queries
):
    for _ in range(3):
        SubscriptionFactory(customer=customer, anchor_date=subscription.anchor_date)
    api.get("/api/mypage/subscriptions/")  # the first view loads the shop policy into the process
    # subscriptions + items + pending add-ons (ついで買い) …; pricing from the process's cached catalogue
    with django_assert_max_num_queries(6):
        response = api.get("/api/mypage/subscriptions/")
    data = response.json()
    assert response.status_code == 200 and len(data) == 4
    row = next(r for r in data if r["id"] == subscription.pk)
    assert row["items"][0]["quantity"] == 1
    assert row["next_delivery_date"] == subscription.next_delivery_date.isoformat()
    assert row["change_deadline"] and row["can_change"] is True
    assert {"skip", "change-date", "cancel"} <= set(row["allowed_actions"])
    assert len(row["upcoming"]) == 6


def test_skip_unskip_and_change_date(api, subscription, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(_url(subscription, "skip"), format="json")
    assert response.status_code == 200 and response.json()["next_sequence"] == 2
    assert len(mail.outbox) == 1

    response = api.post(_url(subscription, "unskip"), {"sequence": 1}, format="json")
    assert response.json()["next_sequence"] == 1

    new_date = subscription.next_delivery_date + timedelta(days=5)
    response = api.post(_url(subscription, "change-date"), {"new_date": new_date.isoformat()}, format="json")
    assert response.json()["next_delivery_date"] == new_date.isoformat()


def test_change_cycle_time_slot_quantities_points(api, subscription):
    bimonthly = subscription.course.cycles.get(interval=2)
    product_id = subscription.items.get().product_id
    assert (
        api.post(_url(subscription, "change-cycle"), {"course_cycle_id": bimonthly.pk}, format="json").json()[
            "cycle"
        ]["interval"]
        == 2
    )
    assert (
        api.post(_url(subscription, "time-slot"), {"time_slot": "08-12"}, format="json").json()[
            "delivery_time_slot"
        ]
        == "08-12"
    )
    data = api.post(
        _url(subscription, "quantities"),
        {"items": [{"product_id": product_id, "quantity": 2}]},
        format="json",
    ).json()
    assert data["items"][0]["quantity"] == 2
    data = api.post(_url(subscription, "points"), {"mode": "all"}, format="json").json()
    assert data["points_reservation"] == "all"


def test_pause_resume_cancel_restart(api, subscription):
    assert api.post(_url(subscription, "pause"), {}, format="json").json()["status"] == "paused"
    assert api.post(_url(subscription, "resume"), format="json").json()["status"] == "active"
    response = api.post(_url(subscription, "cancel"), {"reason": "other", "note": "引っ越し"}, format="json")
    assert response.json()["status"] == "cancelled"
    assert response.json()["allowed_actions"] == ["restart"]
    assert (
        api.post(_url(subscription, "restart"), format="json").json()["status"] == SubscriptionStatus.ACTIVE
    )


def test_cancel_without_reason_is_invalid(api, subscription):
    response = api.post(_url(subscription, "cancel"), {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_deadline_passed_is_a_domain_error(api, customer, today):
    late = SubscriptionFactory(customer=customer, anchor_date=today + timedelta(days=2))
    response = api.post(_url(late, "skip"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "deadline_passed"


def test_forbidden_by_policy(api, subscription):
    ShopPolicy.objects.filter(pk=1).update(allow_pause=False)
    response = api.post(_url(subscription, "pause"), {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_csrf_is_enforced_for_session_clients(customer, subscription):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(customer.user)
    response = client.post(_url(subscription, "skip"), format="json")
    assert response.status_code == 403


def test_addresses_list_and_create(api, customer, subscription, django_assert_max_num_queries):
    payload = {
        "recipient_name": "山田",
        "postal_code": "1500001",
        "prefecture": "東京都",
        "city": "渋谷区",
        "line1": "1-1",
    }
    created = api.post("/api/mypage/addresses/", payload, format="json")
    assert created.status_code == 201 and created.json()["postal_code"] == "150-0001"
    with django_assert_max_num_queries(4):
        listed = api.get("/api/mypage/addresses/").json()
    assert {a["id"] for a in listed} == set(customer.addresses.values_list("id", flat=True))

    response = api.post(_url(subscription, "address"), {"address_id": created.json()["id"]}, format="json")
    assert response.json()["shipping_address_id"] == created.json()["id"]


def test_orders_list_and_points(api, customer, subscription, django_assert_max_num_queries):
    from tests.mypage.test_pages import _order

    for sequence in range(1, 6):
        _order(customer, subscription, sequence, tracking_number=f"T{sequence}")
    with django_assert_max_num_queries(6):
        data = api.get("/api/mypage/orders/").json()
    assert data["count"] == 5 and data["results"][0]["lines"][0]["quantity"] == 1
    order_id = data["results"][0]["id"]
    assert api.get(f"/api/mypage/orders/{order_id}/").json()["tracking_number"] == "T5"
    assert api.get("/api/mypage/points/").status_code == 200


def test_schema_describes_the_actions(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/mypage/subscriptions/{subscription_id}/change-date/" in paths
    assert "/api/mypage/subscriptions/{subscription_id}/cancel/" in paths
