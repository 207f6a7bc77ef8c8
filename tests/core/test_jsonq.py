"""core.jsonq: "this JSON list holds that code", on PostgreSQL and as the SQLite demo asks it."""

from types import SimpleNamespace

import pytest

from core.jsonq import json_list_has
from orders.models import Order
from tests.backoffice.helpers import shop_order

pytestmark = pytest.mark.django_db

CASES = [
    (["stock_short"], "stock_short", True),
    (["address_invalid", "stock_short"], "stock_short", True),
    (["stock_short_soon"], "stock_short", False),  # a longer code holding it is not it
    (["x_stock_short"], "stock_short", False),
    ([], "stock_short", False),
]


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
@pytest.mark.parametrize(("reasons", "code", "found"), CASES)
def test_a_list_holds_the_code_only_as_a_whole_element(monkeypatch, vendor, reasons, code, found):
    order = shop_order()
    Order.objects.filter(pk=order.pk).update(hold_reasons=reasons)
    monkeypatch.setattr("core.jsonq.connection", SimpleNamespace(vendor=vendor))
    q = json_list_has("hold_reasons", code)  # the query itself runs on the test database as usual
    assert Order.objects.filter(q, pk=order.pk).exists() is found
