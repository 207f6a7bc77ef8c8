"""Export subscriptions in any import format, streamed in pk order a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from subscriptions.models import Subscription, SubscriptionItem

from .formats import get_format
from .record import SourceSubscription
from .schedule import future_skipped_dates, with_day_of_month
from .textio import write_csv

BATCH = 2000


def shop_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment, ZoneInfo(settings.SHOP_TIMEZONE)).date() if moment else None


def _record(subscription: Subscription) -> SourceSubscription:
    customer = subscription.customer
    address = subscription.shipping_address
    method = subscription.payment_method
    imported = getattr(subscription, "imported_record", None)
    cycle = with_day_of_month(subscription.cycle, subscription.anchor_date)
    return SourceSubscription(
        handle=imported.handle if imported else f"teiki-{subscription.pk}",
        email=customer.user.email,
        name=customer.name,
        name_kana=customer.name_kana,
        phone=customer.phone,
        customer_group=customer.group.code if customer.group else "",
        blacklisted=customer.is_blacklisted,
        recipient_name=address.recipient_name if address else customer.name,
        postal_code=address.postal_code if address else "",
        prefecture=address.prefecture if address else "",
        city=address.city if address else "",
        line1=address.line1 if address else "",
        line2=address.line2 if address else "",
        address_phone=address.phone if address else "",
        remote_island=bool(address and address.is_remote_island),
        address_invalid=bool(address and address.is_invalid),
        course_code=subscription.course.code,
        items=[(item.product.sku, item.quantity) for item in subscription.items.all()],
        status=subscription.status,
        cycle_unit=cycle.unit,
        cycle_interval=cycle.interval,
        cycle_day_of_month=cycle.day_of_month,
        cycle_nth_week=cycle.nth_week,
        cycle_weekday=cycle.weekday,
        next_delivery_date=subscription.next_delivery_date,
        next_sequence=subscription.next_sequence,
        delivery_count=subscription.cycle_count,
        orders_created=subscription.orders_created,
        skipped_dates=future_skipped_dates(
            subscription.cycle,
            anchor_date=subscription.anchor_date,
            anchor_sequence=subscription.anchor_sequence,
            next_sequence=subscription.next_sequence,
            skipped=subscription.skipped,
        ),
        time_slot=subscription.delivery_time_slot,
        payment_kind=method.kind if method else "",
        stripe_customer_id=customer.stripe_customer_id if method and method.stripe_payment_method_id else "",
        stripe_payment_method_id=method.stripe_payment_method_id if method else "",
        paused_until=subscription.paused_until,
        cancelled_on=shop_date(subscription.cancelled_at),
        cancel_reason=subscription.cancel_reason,
        suspended_reason=subscription.suspended_reason,
        points_reservation=subscription.points_reservation,
        points_reservation_amount=subscription.points_reservation_amount,
        needs_attention=list(subscription.needs_attention),
        remarks=subscription.remarks,
    )


def _queryset() -> QuerySet[Subscription]:
    return Subscription.objects.select_related(
        "customer__user", "customer__group", "course", "shipping_address", "payment_method", "imported_record"
    ).prefetch_related(Prefetch("items", SubscriptionItem.objects.select_related("product").order_by("id")))


def export_records() -> Iterator[SourceSubscription]:
    last = 0
    while True:
        batch = list(_queryset().filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        for subscription in batch:
            yield _record(subscription)
        last = batch[-1].pk


def subscriptions_export(*, out: BinaryIO, format: str, encoding: str = "utf-8") -> int:
    """Write every subscription to `out`; returns the number of subscriptions written."""
    module = get_format(format)
    count = 0

    def rows() -> Iterator[list[str]]:
        nonlocal count
        for record in export_records():
            count += 1
            yield from module.write(record)

    write_csv(out, module.header(), rows(), encoding=encoding)
    return count
