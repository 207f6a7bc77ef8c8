"""Orders as the back office meets them: with a line, a customer who has an email, a status."""

from __future__ import annotations

import datetime as dt

import pytest

from orders.models import Order, OrderLine, OrderStatus
from tests.factories import CustomerFactory, ProductFactory


def shop_order(*, status: str = OrderStatus.READY, customer=None, product=None, **fields) -> Order:  # noqa: ANN001
    customer = customer or CustomerFactory()
    product = product or ProductFactory()
    values = {
        "customer": customer,
        "status": status,
        "creation_date": dt.date(2027, 3, 10),
        "delivery_date": dt.date(2027, 3, 15),
        "delivery_time_slot": "14-16",
        "ship_name": customer.name,
        "ship_postal_code": "100-0001",
        "ship_prefecture": "東京都",
        "ship_city": "千代田区",
        "ship_line1": "千代田1-1",
        "ship_phone": customer.phone,
        "payment_kind": "card",
        "items_subtotal": 3980,
        "shipping_fee": 500,
        "total": 4480,
    }
    values.update(fields)
    order = Order.objects.create(**values)
    OrderLine.objects.create(
        order=order,
        product=product,
        sku=product.sku,
        product_name=product.name,
        quantity=1,
        unit_price=3980,
        tax_rate=8,
        line_total=3980,
    )
    return order


@pytest.fixture(autouse=True)
def shop_defaults(request):  # noqa: ANN001, ANN201
    """The mail templates and carriers the migrations install, again: a transactional test before
    this one (the browser tests) flushed them."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from notifications.services import mail_templates_install_defaults
    from orders.services import carriers_install_defaults

    request.getfixturevalue("_django_db_helper")
    mail_templates_install_defaults()
    carriers_install_defaults()
