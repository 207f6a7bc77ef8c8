"""The headless checkout API: same service, Idempotency-Key, every refusal a 4xx {code, message}."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import Order
from subscriptions.models import Subscription
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

BODY = {
    "course": "aojiru", "email": "api@example.com", "name": "API 花子", "postal_code": "060-0001",
    "line1": "北1条西1-1", "payment_kind": "bank_transfer", "utm_source": "partner",
}  # fmt: skip


def test_courses_list_and_detail(client, course, django_assert_max_num_queries) -> None:  # noqa: ANN001
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with django_assert_max_num_queries(22):
        data = client.get("/api/courses/").json()
    (first,) = data
    assert (first["code"], first["first"]["total"], first["later"]["total"], first["min_total"]) == (
        "aojiru", 1530, 4530, 10590,
    )  # fmt: skip
    assert [c["interval"] for c in first["cycles"]] == [1, 2]
    assert first["first_delivery_earliest"] == "2027-01-20"
    assert client.get("/api/courses/aojiru/").json()["course_version"] == first["course_version"]
    # a fixed number of queries however many courses there are
    with CaptureQueriesContext(connection) as one:
        client.get("/api/courses/")
    CourseFactory(code="second")
    with CaptureQueriesContext(connection) as two:
        assert len(client.get("/api/courses/").json()) == 2
    assert len(two) == len(one), "\n".join(q["sql"][:150] for q in two.captured_queries)
    missing = client.get("/api/courses/nope/")
    assert missing.status_code == 404 and set(missing.json()) >= {"code", "message"}


def test_quote_then_checkout_then_replay(client, course) -> None:  # noqa: ANN001
    quote = client.post("/api/checkout/quote/", BODY, content_type="application/json").json()
    assert [s["id"] for s in quote["sections"]][:3] == ["quantity", "first", "later"]
    body = {**BODY, "confirmed_terms_version": quote["terms_version"]}
    placed = client.post(
        "/api/checkout/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="api-key-0001"
    )
    assert placed.status_code == 201, placed.json()
    data = placed.json()
    assert data["order"]["sequence"] == 1 and data["order"]["total"] == quote["first"]["total"]
    assert data["order"]["payment_status"] == "awaiting_offline"
    assert data["subscription"]["next_sequence"] == 2
    again = client.post(
        "/api/checkout/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="api-key-0001"
    )
    assert again.status_code == 201 and again.json() == data and again["Idempotent-Replayed"] == "true"
    other = client.post(
        "/api/checkout/",
        {**body, "quantity": 2},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="api-key-0001",
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert Subscription.objects.count() == 1 and Order.objects.count() == 1
    assert Subscription.objects.get().utm_source == "partner"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (BODY, {}, 400, "idempotency_key_required"),
        (BODY, {"HTTP_IDEMPOTENCY_KEY": "short"}, 400, "idempotency_key_invalid"),
        (
            {**BODY, "postal_code": "9999999"},
            {"HTTP_IDEMPOTENCY_KEY": "api-bad-0001"},
            400,
            "postal_code_unknown",
        ),
        ({**BODY, "payment_kind": "gold"}, {"HTTP_IDEMPOTENCY_KEY": "api-bad-0002"}, 400, "invalid"),
        ({**BODY, "course": "nope"}, {"HTTP_IDEMPOTENCY_KEY": "api-bad-0003"}, 404, "course_not_found"),
        ({**BODY, "email": ""}, {"HTTP_IDEMPOTENCY_KEY": "api-bad-0004"}, 400, "email_required"),
        ({**BODY, "payment_kind": "card"}, {"HTTP_IDEMPOTENCY_KEY": "api-bad-0005"}, 400, "card_required"),
        (
            {**BODY, "confirmed_terms_version": "0" * 64},
            {"HTTP_IDEMPOTENCY_KEY": "api-bad-0006"},
            409,
            "terms_changed",
        ),
        ({**BODY, "quantity": 99}, {"HTTP_IDEMPOTENCY_KEY": "api-bad-0007"}, 400, "invalid"),
    ],
)
def test_every_refusal_is_a_4xx_with_code_and_message(client, course, body, headers, status, code) -> None:  # noqa: ANN001
    response = client.post("/api/checkout/", body, content_type="application/json", **headers)
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code and response.json()["message"]
    assert not Subscription.objects.exists()


def test_the_schema_documents_the_checkout(client, admin_user) -> None:  # noqa: ANN001
    client.force_login(admin_user)
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    post = schema["paths"]["/api/checkout/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in post["parameters"])
    examples = post["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) == 2
    assert "/api/courses/" in schema["paths"] and "/api/checkout/quote/" in schema["paths"]
