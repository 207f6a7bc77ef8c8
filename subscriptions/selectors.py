"""Reads about subscriptions that several callers need (my page, admin, services, the scheduler)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from catalog.models import Course, CourseCycle

from .cycles import Cycle
from .models import ShopPolicy, Subscription, SubscriptionAddon, SubscriptionEvent, SubscriptionItem
from .preview import PreviewRow, preview_schedule
from .schedule import change_deadline_for


def today_in_shop() -> date:
    """Today in the shop's time zone: the business date every service and the scheduler use."""
    return timezone.localdate(timezone=ZoneInfo(settings.SHOP_TIMEZONE))


def shop_policy_with_special_days() -> ShopPolicy:
    """The shop policy with its special days loaded, so building its calendar costs no extra query."""
    policy = ShopPolicy.objects.prefetch_related("special_days").filter(pk=1).first()
    return policy or ShopPolicy.current()


def _items_prefetch() -> Prefetch:
    return Prefetch("items", queryset=SubscriptionItem.objects.select_related("product").order_by("id"))


def pending_addons_prefetch() -> Prefetch:
    """The ついで買い still waiting for the next order, as `subscription.pending_addons`."""
    return Prefetch(
        "addons",
        queryset=SubscriptionAddon.objects.filter(order__isnull=True)
        .select_related("product")
        .order_by("id"),
        to_attr="pending_addons",
    )


def pending_addons(subscription: Subscription) -> list[SubscriptionAddon]:
    """The subscription's pending add-ons with their products (prefetched, or one query)."""
    cached = getattr(subscription, "pending_addons", None)
    if cached is not None:
        return cached
    return list(pending_addons_prefetch().queryset.filter(subscription_id=subscription.pk))


def customer_subscriptions(customer_id: int | None = None) -> QuerySet[Subscription]:
    """Subscriptions (a customer's, given an id) with course, shipping address, payment method,
    coupon, items and pending add-ons (with products): the rows a page showing them reads, in three
    queries."""
    subscriptions = (
        Subscription.objects.all()
        if customer_id is None
        else Subscription.objects.filter(customer_id=customer_id)
    )
    return subscriptions.select_related(
        "course", "shipping_address", "payment_method", "coupon"
    ).prefetch_related(_items_prefetch(), pending_addons_prefetch())


def user_subscription(*, user_id: int, subscription_id: int) -> Subscription | None:
    """The user's customer's subscription with its customer (and point account), course, coupon,
    items and pending add-ons, in three queries; None for another customer's id or a user without a
    customer.

    The shipping address and payment method are not joined: with them the query joined eight
    tables and PostgreSQL spent 2–3 ms planning it on every request (0.5 ms with five)."""
    return (
        Subscription.objects.select_related("course", "coupon", "customer__point_account")
        .prefetch_related(_items_prefetch(), pending_addons_prefetch())
        .filter(customer__user_id=user_id, pk=subscription_id)
        .first()
    )


def subscription_timeline(*, subscription_id: int, limit: int) -> list[SubscriptionEvent]:
    """The subscription's latest `limit` events, newest first."""
    return list(SubscriptionEvent.objects.filter(subscription_id=subscription_id)[:limit])


def change_deadline(subscription: Subscription, policy: ShopPolicy) -> date | None:
    """The last day a customer may change the next delivery (inclusive); None without a next date."""
    if subscription.next_creation_date is None:
        return None
    return change_deadline_for(
        subscription.next_creation_date, change_deadline_days=policy.change_deadline_days
    )


def can_customer_change(subscription: Subscription, policy: ShopPolicy, today: date | None = None) -> bool:
    """True while a customer may still change the next delivery (on the deadline day itself too)."""
    deadline = change_deadline(subscription, policy)
    return deadline is not None and (today or today_in_shop()) <= deadline


def upcoming_deliveries(
    subscription: Subscription, count: int = 6, policy: ShopPolicy | None = None
) -> list[PreviewRow]:
    """The next `count` deliveries from the next sequence, skipped ones included and marked."""
    policy = policy or ShopPolicy.current()
    return preview_schedule(
        subscription.cycle,
        anchor_date=subscription.anchor_date,
        anchor_sequence=subscription.anchor_sequence,
        start_sequence=max(subscription.next_sequence, subscription.anchor_sequence),
        count=count,
        calendar=policy.business_calendar(),
        lead_days=policy.lead_days,
        skipped=subscription.skipped,
    )


def course_cycle_to_cycle(course_cycle: CourseCycle) -> Cycle:
    """The Cycle value a CourseCycle row offers (day_of_month None: the first delivery's day)."""
    return Cycle(
        unit=course_cycle.unit,
        interval=course_cycle.interval,
        day_of_month=course_cycle.day_of_month,
        nth_week=course_cycle.nth_week,
        weekday=course_cycle.weekday,
    )


def course_allows_cycle(course: Course, cycle: Cycle) -> bool:
    """Whether one of the course's CourseCycle rows offers `cycle`.

    A row without day_of_month allows any day (the customer picks the first delivery date).
    """
    for offered in course.cycles.all():
        if (offered.unit, offered.interval, offered.nth_week, offered.weekday) != (
            cycle.unit,
            cycle.interval,
            cycle.nth_week,
            cycle.weekday,
        ):
            continue
        if offered.day_of_month is None or offered.day_of_month == cycle.day_of_month:
            return True
    return False


def first_creation_date(policy: ShopPolicy, today: date) -> date:
    """The earliest creation date a change can still aim at: today, unless today's nightly run has
    already created today's orders, then tomorrow (a delivery whose order should have been created
    today can no longer be met by the lead time)."""
    if policy.last_nightly_run_date is not None and policy.last_nightly_run_date >= today:
        return today + timedelta(days=1)
    return today
