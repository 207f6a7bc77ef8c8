"""Bad input to the my-page API and pages answers a 4xx with {code, message}, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Customer

pytestmark = pytest.mark.django_db

HUGE = 10**20

BAD_API_INPUTS = [
    ("unskip", {"sequence": -1}),
    ("unskip", {"sequence": "abc"}),
    ("unskip", {"sequence": HUGE}),
    ("unskip", {"sequence": 2**40}),
    ("change-date", {"new_date": "1900-01-01"}),
    ("change-date", {"new_date": "9999-12-31"}),
    ("change-date", {"new_date": "x"}),
    ("change-cycle", {"course_cycle_id": HUGE}),
    ("change-cycle", {"course_cycle_id": 2**40}),
    ("change-cycle", {"course_cycle_id": "abc"}),
    ("change-cycle", {"course_cycle_id": -1}),
    ("time-slot", {"time_slot": "midnight"}),
    ("quantities", {"items": [{"product_id": 1, "quantity": -1}]}),
    ("quantities", {"items": [{"product_id": HUGE, "quantity": 1}]}),
    ("quantities", {"items": [{"product_id": 2**40, "quantity": 1}]}),
    ("quantities", {"items": "abc"}),
    ("quantities", {"items": []}),
    ("address", {"address_id": HUGE}),
    ("address", {"address_id": 2**40}),
    ("address", {"address_id": "abc"}),
    ("payment-method", {"payment_method_id": HUGE}),
    ("payment-method", {"payment_method_id": 2**40}),
    ("points", {"mode": "amount", "amount": HUGE}),
    ("points", {"mode": "amount", "amount": 2**40}),
    ("points", {"mode": "amount", "amount": -5}),
    ("points", {"mode": "lots"}),
    ("coupon-apply", {"code": ""}),
    ("coupon-apply", {"code": "   "}),
    ("coupon-apply", {"code": "x" * 500}),
    ("pause", {"resume_on": "1900-01-01"}),
    ("cancel", {"reason": "nope"}),
]


@pytest.mark.parametrize(("action", "payload"), BAD_API_INPUTS)
def test_bad_api_input_is_a_4xx_with_code_and_message(api, subscription, action, payload):
    response = api.post(f"/api/mypage/subscriptions/{subscription.pk}/{action}/", payload, format="json")
    assert 400 <= response.status_code < 500, response.content
    assert {"code", "message"} <= set(response.json())


BAD_PAGE_INPUTS = [(a, p) for a, p in BAD_API_INPUTS if a != "quantities"] + [
    ("quantities", {"qty_1": -1}),
]


@pytest.mark.parametrize(("action", "payload"), BAD_PAGE_INPUTS)
def test_bad_page_input_redirects_with_a_message(logged_in, subscription, action, payload):
    url = reverse("mypage:action", kwargs={"subscription_id": subscription.pk, "action_name": action})
    response = logged_in.post(url, {k: str(v) for k, v in payload.items()})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"postal_code": "abc", "prefecture": "東京都", "city": "x", "line1": "y", "recipient_name": "z"},
        {
            "postal_code": "1000001",
            "prefecture": "Atlantis",
            "city": "x",
            "line1": "y",
            "recipient_name": "z",
        },
        {
            "postal_code": "1000001",
            "prefecture": "東京都",
            "city": "x" * 5000,
            "line1": "y",
            "recipient_name": "z",
        },
    ],
)
def test_bad_address_is_a_400(api, subscription, payload):
    response = api.post("/api/mypage/addresses/", payload, format="json")
    assert response.status_code == 400
    assert {"code", "message"} <= set(response.json())


@pytest.mark.parametrize(
    "query", ["?limit=abc", "?offset=-1", f"?offset={HUGE}", f"?limit={HUGE}", "?limit=0&offset=abc"]
)
def test_bad_order_paging_is_not_a_500(api, subscription, query):
    response = api.get(f"/api/mypage/orders/{query}")
    assert response.status_code < 500


def test_unknown_action_and_huge_ids_are_404(api, logged_in, subscription):
    assert (
        api.post(f"/api/mypage/subscriptions/{subscription.pk}/explode/", {}, format="json").status_code
        == 404
    )
    assert api.get(f"/api/mypage/subscriptions/{HUGE}/").status_code == 404
    assert api.get(f"/api/mypage/orders/{HUGE}/").status_code == 404
    assert logged_in.get(f"/mypage/orders/{HUGE}/invoice.pdf").status_code == 404
    assert logged_in.get(f"/mypage/orders/{HUGE}/").status_code == 404
    assert logged_in.get(f"/mypage/subscriptions/{HUGE}/").status_code == 404


def test_user_without_customer_profile_gets_404_not_500(client, subscription):
    from tests.factories import UserFactory

    user = UserFactory()
    assert not Customer.objects.filter(user=user).exists()
    client.force_login(user)
    assert client.get(f"/mypage/subscriptions/{subscription.pk}/").status_code == 404
    assert client.get("/api/mypage/orders/").status_code == 404
    assert client.get("/mypage/orders/").status_code == 404
