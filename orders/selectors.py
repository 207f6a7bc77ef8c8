"""Reads about orders that several callers need (admin, my page, the nightly report)."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import Order, OrderLine, OrderStatus, SubscriptionGift


def order_with_lines(order_id: int) -> Order | None:
    """One order with its lines and customer, in two queries."""
    return (
        Order.objects.select_related("customer__user", "subscription")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .filter(pk=order_id)
        .first()
    )


def held_orders() -> QuerySet[Order]:
    """Orders on hold (要対応) waiting for an admin, oldest delivery first."""
    return (
        Order.objects.filter(status=OrderStatus.ON_HOLD)
        .select_related("customer__user", "subscription")
        .order_by("delivery_date", "id")
    )


def customer_orders(customer_id: int) -> QuerySet[Order]:
    """A customer's orders, newest first, lines prefetched (order_customer_idx serves it)."""
    return (
        Order.objects.filter(customer_id=customer_id)
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("-id")
    )


def customer_orders_with_course(customer_id: int) -> QuerySet[Order]:
    """A customer's orders with lines, subscription and course (the my page's lists), newest first."""
    return customer_orders(customer_id).select_related("subscription__course", "delivery_method")


def orders_created_on(run_date: date) -> dict[str, int]:
    """Child orders created on a business date: {"orders": n, "held": n} (one query)."""
    return Order.objects.filter(creation_date=run_date, subscription__isnull=False).aggregate(
        orders=Count("id"), held=Count("id", filter=Q(status=OrderStatus.ON_HOLD))
    )


def gift_wrapped_subscriptions(*, subscription_ids: list[int]) -> set[int]:
    """Which of these subscriptions send their orders gift-wrapped (SubscriptionGift.wrapping): one query."""
    if not subscription_ids:
        return set()
    return set(
        SubscriptionGift.objects.filter(subscription_id__in=subscription_ids, wrapping=True).values_list(
            "subscription_id", flat=True
        )
    )
