"""Orders as the back office meets them: with a line, a customer who has an email, a status."""

from __future__ import annotations

import datetime as dt

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
