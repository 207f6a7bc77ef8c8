"""Export subscriptions in any import format, streamed in pk order a batch at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from core.textio import write_csv
from subscriptions.cycles import Cycle
from subscriptions.models import Subscription, SubscriptionItem

from .formats import get_format
from .record import SourceSubscription
from .schedule import future_skipped_dates, with_day_of_month

BATCH = 2000


def shop_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment, ZoneInfo(settings.SHOP_TIMEZONE)).date() if moment else None


# One flat query per batch (no model instances: building them cost most of an export's time).
_FIELDS = (
    "pk", "customer__user__email", "customer__name", "customer__name_kana", "customer__phone",
    "customer__group__code", "customer__is_blacklisted", "customer__stripe_customer_id",
    "shipping_address__recipient_name", "shipping_address__postal_code", "shipping_address__prefecture",
    "shipping_address__city", "shipping_address__line1", "shipping_address__line2", "shipping_address__phone",
    "shipping_address__is_remote_island", "shipping_address__is_invalid", "course__code", "status",
    "cycle_unit", "cycle_interval", "cycle_day_of_month", "cycle_nth_week", "cycle_weekday",
    "anchor_date", "anchor_sequence", "skipped_sequences", "next_sequence", "next_delivery_date",
    "cycle_count", "orders_created", "delivery_time_slot", "payment_method__kind",
    "payment_method__stripe_payment_method_id", "paused_until", "cancelled_at", "cancel_reason",
    "suspended_reason", "points_reservation", "points_reservation_amount", "needs_attention", "remarks",
    "imported_record__handle",
)  # fmt: skip


def _record(v: dict, items: list[tuple[str, int]]) -> SourceSubscription:
    cycle = Cycle(
        v["cycle_unit"], v["cycle_interval"], v["cycle_day_of_month"], v["cycle_nth_week"], v["cycle_weekday"]
    )
    has_address = v["shipping_address__postal_code"] is not None
    card_id = v["payment_method__stripe_payment_method_id"] or ""
    return SourceSubscription(
        handle=v["imported_record__handle"] or f"teiki-{v['pk']}",
        email=v["customer__user__email"],
        name=v["customer__name"],
        name_kana=v["customer__name_kana"],
        phone=v["customer__phone"],
        customer_group=v["customer__group__code"] or "",
        blacklisted=v["customer__is_blacklisted"],
        recipient_name=v["shipping_address__recipient_name"] if has_address else v["customer__name"],
        postal_code=v["shipping_address__postal_code"] or "",
        prefecture=v["shipping_address__prefecture"] or "",
        city=v["shipping_address__city"] or "",
        line1=v["shipping_address__line1"] or "",
        line2=v["shipping_address__line2"] or "",
        address_phone=v["shipping_address__phone"] or "",
        remote_island=bool(v["shipping_address__is_remote_island"]),
        address_invalid=bool(v["shipping_address__is_invalid"]),
        course_code=v["course__code"],
        items=items,
        status=v["status"],
        **_cycle_fields(with_day_of_month(cycle, v["anchor_date"])),
        next_delivery_date=v["next_delivery_date"],
        next_sequence=v["next_sequence"],
        delivery_count=v["cycle_count"],
        orders_created=v["orders_created"],
        skipped_dates=future_skipped_dates(
            cycle,
            anchor_date=v["anchor_date"],
            anchor_sequence=v["anchor_sequence"],
            next_sequence=v["next_sequence"],
            skipped=frozenset(int(s) for s in v["skipped_sequences"]),
        ),
        time_slot=v["delivery_time_slot"],
        payment_kind=v["payment_method__kind"] or "",
        stripe_customer_id=v["customer__stripe_customer_id"] if card_id else "",
        stripe_payment_method_id=card_id,
        paused_until=v["paused_until"],
        cancelled_on=shop_date(v["cancelled_at"]),
        cancel_reason=v["cancel_reason"],
        suspended_reason=v["suspended_reason"],
        points_reservation=v["points_reservation"],
        points_reservation_amount=v["points_reservation_amount"],
        needs_attention=list(v["needs_attention"]),
        remarks=v["remarks"],
    )


def _cycle_fields(cycle: Cycle) -> dict:
    return {
        "cycle_unit": cycle.unit,
        "cycle_interval": cycle.interval,
        "cycle_day_of_month": cycle.day_of_month,
        "cycle_nth_week": cycle.nth_week,
        "cycle_weekday": cycle.weekday,
    }


def export_records() -> Iterator[SourceSubscription]:
    last = 0
    while True:
        batch = list(Subscription.objects.filter(pk__gt=last).order_by("pk").values(*_FIELDS)[:BATCH])
        if not batch:
            return
        items: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for subscription_id, sku, quantity in (
            SubscriptionItem.objects.filter(subscription_id__in=[v["pk"] for v in batch])
            .order_by("id")
            .values_list("subscription_id", "product__sku", "quantity")
        ):
            items[subscription_id].append((sku, quantity))
        for values in batch:
            yield _record(values, items[values["pk"]])
        last = batch[-1]["pk"]


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
