"""Bad input at the edge of the API: every answer is a 4xx {code, message}, never a 500 or an HTML page."""

from __future__ import annotations

import json

import pytest

from tests.billing.helpers import make_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "limit=9223372036854775808",
        "offset=9223372036854775808",
        "limit=9223372036854775808&offset=9223372036854775808",
        "limit=100000&offset=99999999999999999999999",
    ],
)
def test_huge_limits_and_offsets_give_a_page_not_a_500(api, subscription, query):
    # given a customer with an order
    make_order(subscription)
    # when a client asks for an absurd page
    response = api.get(f"/api/mypage/orders/?{query}")
    # then it gets a bounded page
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) <= 200


def test_the_limit_is_capped_at_200(api, subscription):
    # given more orders than the cap
    for sequence in range(1, 203):
        make_order(subscription, sequence=sequence)
    # when a client asks for all of them in one page
    response = api.get("/api/mypage/orders/?limit=9223372036854775808")
    # then it gets 200 and a link to the rest
    body = response.json()
    assert len(body["results"]) == 200
    assert "limit=200" in body["next"] and "offset=200" in body["next"]


def test_a_body_over_the_upload_limit_is_a_json_413(api, subscription, settings):
    # given a 5 MB JSON body
    body = json.dumps({"reason": "x" * (5 * 1024 * 1024)})
    # when it is posted to an action
    response = api.post(
        f"/api/mypage/subscriptions/{subscription.pk}/cancel/", data=body, content_type="application/json"
    )
    # then the answer is the API's error shape
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "request_too_large"
