"""Small builders for billing tests: an order row as the nightly run would write it."""

import datetime as dt

from orders.models import Order


def make_order(subscription, *, sequence=1, priced=None, **fields):
    values = {
        "customer": subscription.customer,
        "subscription": subscription,
        "sequence": sequence,
        "creation_date": dt.date(2027, 3, 10),
        "delivery_date": dt.date(2027, 3, 15),
        "ship_name": subscription.customer.name,
        "ship_postal_code": "100-0001",
        "ship_prefecture": "東京都",
        "ship_city": "千代田区",
        "ship_line1": "千代田1-1",
    }
    if priced is not None:
        values.update(priced.order_fields())
    values.update(fields)
    return Order.objects.create(**values)
