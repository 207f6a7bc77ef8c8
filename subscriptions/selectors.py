"""Reads about subscriptions that several callers need (my page, admin, services, the scheduler)."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from catalog.models import Course, CourseCycle, Product
from core import sqlrows
from core.sqlrows import ModelColumns
from customers.models import Customer

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


class _Reads:
    """The hand-written reads' columns and SQL, built once per process on first use (the coupon and
    point account models belong to an app above this one: reached through the relations)."""

    def __init__(self) -> None:
        coupon_model = Subscription._meta.get_field("coupon").related_model
        account_model = Customer._meta.get_field("point_account").related_model
        sub, customer = ModelColumns(Subscription, "s"), ModelColumns(Customer, "c")
        course, coupon = ModelColumns(Course, "co"), ModelColumns(coupon_model, "cp")
        account = ModelColumns(account_model, "pa")
        self.joined = (sub, customer, course, coupon, account)
        self.subscription_sql = (
            f"SELECT {sub.sql}, {customer.sql}, {course.sql}, {coupon.sql}, {account.sql} "
            f"FROM {sub.table} "
            f"INNER JOIN {customer.table} ON {customer.column('id')} = {sub.column('customer')} "
            f"INNER JOIN {course.table} ON {course.column('id')} = {sub.column('course')} "
            f"LEFT OUTER JOIN {coupon.table} ON {coupon.column('id')} = {sub.column('coupon')} "
            f"LEFT OUTER JOIN {account.table} ON {account.column('customer')} = {customer.column('id')} "
            f"WHERE {customer.column('user')} = %s AND {sub.column('id')} = %s"
        )
        # The items and the pending add-ons (ついで買い), each with its product, in one statement: the
        # first column says which; the add-on columns are NULL on item rows and the other way round.
        item, addon = ModelColumns(SubscriptionItem, "i"), ModelColumns(SubscriptionAddon, "a")
        product = ModelColumns(Product, "p")
        self.item, self.addon, self.product = item, addon, product
        item_id = 2 + item.attnames.index("id")  # 1-based output positions, after the tag
        addon_id = 2 + item.width + addon.attnames.index("id")
        self.children_sql = (
            f"SELECT 0, {item.sql}, {', '.join(['NULL'] * addon.width)}, {product.sql} "
            f"FROM {item.table} INNER JOIN {product.table} ON {product.column('id')} = {item.column('product')} "
            f"WHERE {item.column('subscription')} = %s "
            f"UNION ALL SELECT 1, {', '.join(['NULL'] * item.width)}, {addon.sql}, {product.sql} "
            f"FROM {addon.table} INNER JOIN {product.table} ON {product.column('id')} = {addon.column('product')} "
            f"WHERE {addon.column('subscription')} = %s AND {addon.column('order')} IS NULL "
            f"ORDER BY 1, {item_id}, {addon_id}"
        )
        self.event = event = ModelColumns(SubscriptionEvent, "e")
        self.timeline_sql = (
            f"SELECT {event.sql} FROM {event.table} WHERE {event.column('subscription')} = %s "
            f"ORDER BY {event.order_by()} LIMIT %s"
        )


@functools.cache
def _reads() -> _Reads:
    return _Reads()


def user_subscription(*, user_id: int, subscription_id: int) -> Subscription | None:
    """The user's customer's subscription with its customer (and point account), course, coupon,
    items and pending add-ons (with their products), in two queries; None for another customer's id
    or a user without a customer.

    Hand-written (core.sqlrows): the page reads it on every request, and compiling the equivalent
    querysets (select_related of four tables, two prefetches) cost more CPU than the rest of the
    page's reads together. The instances are the ones the ORM would build, with the same caches set,
    so `subscription.items.all()`, `.customer.point_account` and `pending_addons()` read no further.
    The shipping address and payment method are not joined: the page sets them from the customer's
    lists (eight joined tables cost PostgreSQL 2–3 ms of planning per request)."""
    reads = _reads()
    rows = sqlrows.fetch(reads.subscription_sql, [user_id, subscription_id])
    if not rows:
        return None
    row, built, offset = rows[0], [], 0
    for columns in reads.joined:
        # A LEFT JOIN that found nothing (no coupon, no point account yet) reads NULL as its id.
        built.append(columns.build(row, offset) if row[offset] is not None else None)
        offset += columns.width
    subscription, customer, course, coupon, account = built
    if account is not None:
        type(account).customer.field.set_cached_value(account, customer)
    Customer.point_account.related.set_cached_value(customer, account)
    Subscription.customer.field.set_cached_value(subscription, customer)
    Subscription.course.field.set_cached_value(subscription, course)
    Subscription.coupon.field.set_cached_value(subscription, coupon)
    _set_items_and_addons(subscription)
    return subscription


def _set_items_and_addons(subscription: Subscription) -> None:
    """Read the items and pending add-ons and cache them as the two prefetches would."""
    reads = _reads()
    items: list[SubscriptionItem] = []
    addons: list[SubscriptionAddon] = []
    product_at = 1 + reads.item.width + reads.addon.width
    for row in sqlrows.fetch(reads.children_sql, [subscription.pk, subscription.pk]):
        if row[0] == 0:
            child, found = reads.item.build(row, 1), items
        else:
            child, found = reads.addon.build(row, 1 + reads.item.width), addons
        type(child).product.field.set_cached_value(child, reads.product.build(row, product_at))
        type(child).subscription.field.set_cached_value(child, subscription)
        found.append(child)
    queryset = subscription.items.get_queryset()  # filtered to this subscription, as a prefetch's
    queryset._result_cache = items
    queryset._prefetch_done = True
    cache_name = SubscriptionItem.subscription.field.remote_field.cache_name
    subscription._prefetched_objects_cache = {cache_name: queryset}
    subscription.pending_addons = addons


def subscription_timeline(*, subscription_id: int, limit: int) -> list[SubscriptionEvent]:
    """The subscription's latest `limit` events, newest first (hand-written: the page reads it on
    every request)."""
    reads = _reads()
    return [reads.event.build(row) for row in sqlrows.fetch(reads.timeline_sql, [subscription_id, limit])]


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
