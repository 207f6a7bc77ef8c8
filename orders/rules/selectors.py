"""Reads about pre-orders (予約) that the back office shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Sum

from ..models import OrderLine, OrderStatus

# Orders whose items are still to be sent.
OPEN_STATUSES = (OrderStatus.NEW, OrderStatus.ON_HOLD, OrderStatus.AWAITING_PAYMENT, OrderStatus.READY)


@dataclass(frozen=True, slots=True)
class PreorderRow:
    sku: str
    name: str
    release_date: date | None
    quantity: int
    orders: int
    # The first day the items can ship: the release date, or today when it has passed.
    shippable_on: date | None
    released: bool


def preorder_quantities(*, today: date) -> list[PreorderRow]:
    """Per pre-order product: how many are on order in every open order (subscriptions and one-off
    orders alike), in one grouped query."""
    rows = (
        OrderLine.objects.filter(product__is_preorder=True, order__status__in=OPEN_STATUSES)
        .values("product__sku", "product__name", "product__release_date")
        .annotate(quantity=Sum("quantity"), orders=Count("order_id", distinct=True))
        .order_by("product__release_date", "product__sku")
    )
    result = []
    for row in rows:
        release = row["product__release_date"]
        released = release is not None and release <= today
        result.append(
            PreorderRow(
                sku=row["product__sku"],
                name=row["product__name"],
                release_date=release,
                quantity=row["quantity"],
                orders=row["orders"],
                shippable_on=(today if released else release),
                released=released,
            )
        )
    return result
