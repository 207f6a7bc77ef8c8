"""The OpenAPI schema says what the endpoints fixed in issue 16 really answer."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.billing.helpers import make_order

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema, ref):
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _ok_body(schema, path, method="get"):
    response = schema["paths"][path][method]["responses"]["200"]
    return _resolve(schema, response["content"]["application/json"]["schema"]["$ref"])


def test_the_orders_list_is_documented_as_the_envelope_it_returns(schema, api, subscription):
    # given the documented 200 of the orders list
    documented = _ok_body(schema, "/api/mypage/orders/")
    # when the list is fetched
    body = api.get("/api/mypage/orders/").json()
    # then both are the pagination envelope with the same keys
    assert documented["type"] == "object"
    assert set(documented["properties"]) == {"count", "next", "previous", "results"} == set(body)
    assert documented["properties"]["results"]["type"] == "array"


def test_payment_methods_are_documented_as_the_envelope_they_return(schema, api, subscription):
    documented = _ok_body(schema, "/api/payment-methods/")
    body = api.get("/api/payment-methods/").json()
    assert documented["type"] == "object"
    assert set(documented["properties"]) == {"results"} == set(body)
    assert documented["properties"]["results"]["type"] == "array"


@pytest.mark.parametrize("status", ["400", "403", "404", "409", "413"])
def test_every_operation_documents_the_error_answers(schema, status):
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 30
    undocumented = [
        f"{method.upper()} {path}"
        for path, method, operation in operations
        if operation["responses"].get(status, {}).get("content", {}).get("application/json", {}).get("schema")
        != {"$ref": ERROR_REF}
    ]
    assert undocumented == []
    assert _resolve(schema, ERROR_REF)["required"] == ["code", "message"]


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/nothing-here/",
        "/api/mypage/subscriptions/not-a-number/",
        "/api/mypage/orders/-1/",
        "/api/",
        "/api/courses/%0Aline%C2%8F/",  # a newline in the path (schemathesis found it)
    ],
)
def test_unknown_api_addresses_answer_a_json_404(api, customer, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"code", "message"}
    assert response.json()["code"] == "not_found"


def test_an_api_address_without_its_slash_still_redirects(api, customer):
    response = api.get("/api/mypage/orders?limit=5")
    assert response.status_code == 301
    assert response["Location"] == "/api/mypage/orders/?limit=5"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=%EF%BC%95", "limit"),  # full-width ５
        ("offset=abc", "offset"),
        ("offset=-1", "offset"),
        ("offset=1e3", "offset"),
    ],
)
def test_a_limit_or_offset_that_is_not_a_number_is_a_400(api, subscription, query, field):
    response = api.get(f"/api/mypage/orders/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_pagination"
    assert response.json()["field"] == field
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("query", "count"), [("", 3), ("limit=1", 1), ("limit=2&offset=2", 1), ("offset=0", 3)]
)
def test_good_limits_and_offsets_still_page(api, subscription, query, count):
    for sequence in (1, 2, 3):
        make_order(subscription, sequence=sequence)
    response = api.get(f"/api/mypage/orders/?{query}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == count
