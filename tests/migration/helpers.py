"""Shared by the migration tests: an empty shop (catalogue and policy kept) and a state snapshot."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection

from billing.models import PaymentMethod
from customers.models import Address, Customer
from migration.models import ImportedRecord
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionItem


def empty_shop() -> None:
    """Delete every customer and subscription (and what hangs off them), keeping products, courses,
    policy and staff. Plain SQL: Django's delete() collects 10,000 rows one object at a time."""
    tables = [
        ImportedRecord, SubscriptionEvent, SubscriptionItem, Subscription, PaymentMethod, Address,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
        cursor.execute(
            f"DELETE FROM {EmailAddress._meta.db_table} WHERE user_id IN (SELECT user_id FROM {Customer._meta.db_table})"
        )
        cursor.execute(f"CREATE TEMP TABLE gone_users AS SELECT user_id FROM {Customer._meta.db_table}")
        cursor.execute(f"DELETE FROM {Customer._meta.db_table}")
        user_table = get_user_model()._meta.db_table
        cursor.execute(
            f"DELETE FROM {user_table} WHERE id IN (SELECT user_id FROM gone_users) AND NOT is_staff"
        )
        cursor.execute("DROP TABLE gone_users")


def subscription_state(subscription: Subscription, catalog, calendar, lead_days: int) -> dict:  # noqa: ANN001
    """What a customer and the nightly run see of a subscription: the next twelve deliveries (date,
    order-creation date, price), and every piece of state that decides them."""
    from subscriptions.cycles import delivery_date
    from subscriptions.schedule import next_sequence

    customer, address, method = (
        subscription.customer,
        subscription.shipping_address,
        subscription.payment_method,
    )
    items = sorted((item.product_id, item.quantity) for item in subscription.items.all())
    deliveries, sequence = [], subscription.next_sequence
    for k in range(12):
        sequence = next_sequence(
            from_sequence=sequence, anchor_sequence=subscription.anchor_sequence, skipped=subscription.skipped
        )
        day = delivery_date(
            subscription.cycle,
            anchor_date=subscription.anchor_date,
            anchor_sequence=subscription.anchor_sequence,
            sequence=sequence,
        )
        priced = catalog.price(
            items=items,
            course_id=subscription.course_id,
            group_id=customer.group_id,
            sequence=subscription.cycle_count + 1 + k,
            payment_kind=method.kind if method else "",
            prefecture=address.prefecture if address else "",
            remote_island=bool(address and address.is_remote_island),
            coupon=None,
            points_requested=0,
            time_slot=bool(subscription.delivery_time_slot),
            gift_wrapping=False,
        )
        deliveries.append((day, calendar.creation_date(day, lead_days), priced.total, priced.items_subtotal))
        sequence += 1
    return {
        "deliveries": deliveries,
        "status": subscription.status,
        "course": subscription.course_id,
        "items": items,
        "time_slot": subscription.delivery_time_slot,
        "counters": (subscription.cycle_count, subscription.orders_created),
        "attention": list(subscription.needs_attention),
        "paused_until": subscription.paused_until,
        "cancelled": (subscription.cancelled_at is not None, subscription.cancel_reason),
        "suspended_reason": subscription.suspended_reason,
        "points": (subscription.points_reservation, subscription.points_reservation_amount),
        "customer": (customer.user.email, customer.name, customer.name_kana, customer.phone, customer.group_id,
                     customer.is_blacklisted),
        "address": address and (address.recipient_name, address.postal_code, address.prefecture, address.city,
                                address.line1, address.line2, address.phone, address.is_remote_island,
                                address.is_invalid),
        "payment": method and (method.kind, method.stripe_payment_method_id, method.last4),
        "remarks": subscription.remarks,
    }  # fmt: skip


def shop_state() -> dict[str, dict]:
    """subscription_state of every subscription, keyed by the handle an export gives it."""
    from django.db.models import Prefetch

    from pricing.selectors import PricingCatalog
    from subscriptions.models import ShopPolicy
    from subscriptions.selectors import today_in_shop

    policy = ShopPolicy.current()
    calendar = policy.business_calendar()
    catalog = PricingCatalog.load(on=today_in_shop())
    subscriptions = Subscription.objects.select_related(
        "customer__user", "shipping_address", "payment_method", "imported_record"
    ).prefetch_related(Prefetch("items", SubscriptionItem.objects.all()))
    states = {}
    for subscription in subscriptions.iterator(chunk_size=2000):
        record = getattr(subscription, "imported_record", None)
        handle = record.handle if record else f"teiki-{subscription.pk}"
        states[handle] = subscription_state(subscription, catalog, calendar, policy.lead_days)
    return states
