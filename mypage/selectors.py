"""The reads behind the my page and its API, always scoped to one customer.

Every lookup takes the customer and filters by it, so another customer's id is simply not found
(a 404), never a permission question that could be forgotten. Lists fetch their related rows in
a fixed number of queries (select_related / prefetch_related), whatever the number of rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404

from billing import selectors as billing_selectors
from billing.models import PaymentMethod
from catalog import selectors as catalog_selectors
from catalog.models import CourseCycle
from customers import selectors as customer_selectors
from customers.models import Address, Customer
from orders import selectors as order_selectors
from orders.models import Order
from pricing import selectors as pricing_selectors
from pricing.delivery_display import DeliveryShown, delivery_shown
from pricing.pricing import PricedOrder
from pricing.services.coupons import coupon_refusal_message
from subscriptions import schedule as subscription_schedule
from subscriptions import selectors as subscription_selectors
from subscriptions.actions import ACTION_PERMISSIONS, CUSTOMER_ACTIONS, needs_deadline
from subscriptions.cycles import delivery_date
from subscriptions.models import ShopPolicy, Subscription, SubscriptionEvent, SubscriptionStatus

UPCOMING_COUNT = 6
TIMELINE_LIMIT = 20
HOME_ORDER_LIMIT = 10


def customer_for_user(user: Any) -> Customer | None:
    """The customer profile of a signed-in user; None for staff accounts without one."""
    return customer_selectors.customer_for_user(user)


# The version keys of every _ProcessMemo, and the versions read for the current request (a page
# consults three memos: one Redis round trip instead of three, see versions_read_once).
_VERSION_KEYS: list[str] = []
_request_versions = threading.local()


@contextmanager
def versions_read_once() -> Iterator[None]:
    """Within (a view, as a decorator: `@versions_read_once()`), the memos' versions are read from
    the shared cache once, all together, on first use; the next request reads them again, so a
    change still shows on the next request."""
    previous = getattr(_request_versions, "values", None)
    _request_versions.values = {}
    try:
        yield
    finally:
        _request_versions.values = previous


def _memo_version(key: str) -> Any:
    values = getattr(_request_versions, "values", None)
    if values is None:
        return cache.get(key, 0)
    if not values:
        values.update(cache.get_many(_VERSION_KEYS))
        values.setdefault(None, True)  # read: a missing key stays 0, not another round trip
    return values.get(key, 0)


class _ProcessMemo:
    """Values each process keeps for data the admin changes rarely and every page reads.

    A value is dropped when the version in the shared cache (`version_key`) changes — `forget()`
    bumps it, so with a shared cache (Redis in production) every process reloads on its next
    request — or when it is older than the caller's `max_age`, which bounds how long a
    process-local cache (LocMem) or a write that sent no signal can lag. Keeps at most `size` keys.
    """

    def __init__(self, version_key: str, *, size: int = 1) -> None:
        self.version_key = version_key
        self.size = size
        self._values: dict[Any, tuple[object, float, Any]] = {}
        _VERSION_KEYS.append(version_key)

    def get(self, key: Any, *, max_age: float, load: Callable[[], Any]) -> Any:
        version = _memo_version(self.version_key)
        memo = self._values.get(key)
        now = time.monotonic()
        if memo is not None and memo[0] == version and now - memo[1] < max_age:
            return memo[2]
        value = load()
        if len(self._values) >= self.size:
            self._values.clear()
        self._values[key] = (version, now, value)
        return value

    def forget(self) -> None:
        self._values.clear()
        values = getattr(_request_versions, "values", None)
        if values:  # this request changed it: its own later reads see the new version
            values.clear()
        try:
            cache.incr(self.version_key)
        except ValueError:  # not set yet (or evicted): any new value differs from what processes hold
            cache.set(self.version_key, time.time_ns(), timeout=None)


# The shop policy (with its special days) is read by every page but changed a few times a year in
# the admin: two queries saved per request. Saves and deletes of the policy or a special day call
# policy_forget (mypage.signals). The page only shows what is allowed: the services re-read the
# policy under lock before changing anything.
POLICY_MAX_AGE = 30.0  # seconds
_policy_memo = _ProcessMemo("mypage:shop-policy-version")


def _load_policy() -> ShopPolicy:
    return subscription_selectors.shop_policy_with_special_days()


def policy_get() -> ShopPolicy:
    """The shop policy with its special days loaded, so building its calendar costs no extra query.

    Shared between the threads of a process: callers read it and never save it."""
    return _policy_memo.get(None, max_age=POLICY_MAX_AGE, load=_load_policy)


def policy_forget() -> None:
    """Make every process re-read the policy on its next request (called on policy changes)."""
    _policy_memo.forget()


# Prices, fees and discounts (billing's PricingCatalog) change in the admin, not per order: each
# process keeps the whole catalogue per business date, so pricing a page costs no catalogue query
# (it was 8 of the subscription page's 16). Saves and deletes of the rows it holds call
# pricing_forget (mypage.signals). Only what cannot be overspent lives here: coupons, their counts
# and point balances are still read per page.
PRICING_MAX_AGE = 60.0  # seconds
PRICING_DATES = 16  # catalogues kept per process (one per business date pages price on)
_catalog_memo = _ProcessMemo("mypage:pricing-catalog-version", size=PRICING_DATES)


def pricing_catalog(*, on: date) -> pricing_selectors.PricingCatalog:
    """The shop's pricing catalogue as of business date `on`, shared by the threads of a process
    (PricingCatalog is safe to share once loaded)."""
    return _catalog_memo.get(
        on, max_age=PRICING_MAX_AGE, load=lambda: pricing_selectors.PricingCatalog.load(on=on)
    )


def pricing_forget() -> None:
    """Make every process reload the pricing catalogue on its next request (prices changed)."""
    _catalog_memo.forget()


# The products offered for ついで買い, per process like the catalogue and forgotten with it (a
# Product save bumps the pricing version). Stock taken by orders (an UPDATE, no signal) shows
# within PRICING_MAX_AGE; the add-on service checks the stock itself, so a stale list never
# oversells, it can only offer a product that has just sold out.
_addon_products_memo = _ProcessMemo(_catalog_memo.version_key)


@dataclass(frozen=True, slots=True)
class AddonOffer:
    product: Any  # catalog.models.Product
    unit_price: int  # yen, tax included: its one-off price for one, for this customer, as of `on`


def addon_offers(*, customer: Customer, on: date | None = None) -> list[AddonOffer]:
    """The products the customer may add to a next delivery (catalog.selectors.addon_offered) with
    their one-off price for them: no query once the process holds the list and the catalogue."""
    on = on or subscription_selectors.today_in_shop()
    products = _addon_products_memo.get(
        None, max_age=PRICING_MAX_AGE, load=lambda: list(catalog_selectors.addon_products())
    )
    if not products:
        return []
    catalog = pricing_catalog(on=on)
    return [
        AddonOffer(
            product=product,
            unit_price=catalog.product_prices(
                product_id=product.pk, course_id=None, group_id=customer.group_id
            ).unit_price(sequence=1, quantity=1),
        )
        for product in products
    ]


def _subscription_queryset(customer: Customer | None = None) -> QuerySet[Subscription]:
    return subscription_selectors.customer_subscriptions(customer.pk if customer else None)


def _with_customer(subscriptions: list[Subscription], customer: Customer) -> list[Subscription]:
    """Set the (already loaded) customer on its subscriptions: pricing reads it without a query."""
    field = Subscription._meta.get_field("customer")
    for subscription in subscriptions:
        field.set_cached_value(subscription, customer)
    return subscriptions


def subscription_list(*, customer: Customer) -> list[Subscription]:
    return _with_customer(list(_subscription_queryset(customer).order_by("-id")), customer)


def subscription_get(*, customer: Customer, subscription_id: int) -> Subscription:
    """The customer's own subscription, or Http404 — also for another customer's id."""
    subscription = _subscription_queryset(customer).filter(pk=subscription_id).first()
    if subscription is None:
        raise Http404("subscription not found")
    return _with_customer([subscription], customer)[0]


def subscription_get_for_user(*, user: Any, subscription_id: int) -> Subscription:
    """The signed-in user's own subscription with its customer (and point account), course, coupon
    and items, or Http404 — also for another customer's id or a user without a customer profile.

    The shipping address and payment method are not joined: with them the query joined eight
    tables and PostgreSQL spent 2–3 ms planning it on every request (0.5 ms with five). The page
    sets them from the customer's lists (`customer_choices`); elsewhere they load by primary key
    when first read."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("subscription not found")
    subscription = subscription_selectors.user_subscription(user_id=user.pk, subscription_id=subscription_id)
    if subscription is None:
        raise Http404("subscription not found")
    return subscription


@dataclass(frozen=True, slots=True)
class CustomerChoices:
    addresses: list[Address]  # the customer's address book
    payment_methods: list[PaymentMethod]  # the customer's active payment methods


def customer_choices(*, subscription: Subscription) -> CustomerChoices:
    """The subscription's customer's addresses and active payment methods (two queries), also
    setting the subscription's shipping address and payment method from them, so neither costs a
    join or a query of its own."""
    customer_id = subscription.customer_id
    addresses = customer_selectors.address_list(customer_id=customer_id)
    methods = billing_selectors.payment_method_list(customer_id=customer_id)
    for field, rows in (("shipping_address", addresses), ("payment_method", methods)):
        cache = Subscription._meta.get_field(field)
        if cache.is_cached(subscription):
            continue
        wanted = getattr(subscription, cache.attname)
        found = next((row for row in rows if row.pk == wanted), None)
        if wanted is None or found is not None:  # otherwise (another customer's row?) it loads by id
            cache.set_cached_value(subscription, found)
    return CustomerChoices(addresses=addresses, payment_methods=[m for m in methods if m.is_active])


def order_list(*, customer: Customer, limit: int | None = None) -> list[Order] | QuerySet[Order]:
    orders = order_selectors.customer_orders_with_course(customer.pk)
    return list(orders[:limit]) if limit else orders


def order_get(*, customer: Customer, order_id: int) -> Order:
    order = order_selectors.customer_orders_with_course(customer.pk).filter(pk=order_id).first()
    if order is None:
        raise Http404("order not found")
    return order


def address_list(*, customer: Customer) -> list[Address]:
    return customer_selectors.address_list(customer_id=customer.pk)


def payment_method_choices(*, customer: Customer) -> list[PaymentMethod]:
    return billing_selectors.payment_method_list(customer_id=customer.pk, active_only=True)


def course_cycle_choices(*, subscription: Subscription) -> list[CourseCycle]:
    """The course's cycles, read now: what a change of cycle is validated against."""
    return catalog_selectors.course_cycle_list(course_id=subscription.course_id)


# The cycles a course offers change in the admin, not per request: the subscription page shows
# them from a per-process copy per course (one query fewer). Saves and deletes of a CourseCycle
# call course_cycles_forget (mypage.signals); the POST that changes a cycle reads them afresh.
COURSE_CYCLES_MAX_AGE = 60.0  # seconds
_course_cycles_memo = _ProcessMemo("mypage:course-cycles-version", size=256)


def course_cycles_shown(*, subscription: Subscription) -> list[CourseCycle]:
    """The course's cycles for display, shared by the threads of a process (read, never saved)."""
    return _course_cycles_memo.get(
        subscription.course_id,
        max_age=COURSE_CYCLES_MAX_AGE,
        load=lambda: catalog_selectors.course_cycle_list(course_id=subscription.course_id),
    )


def course_cycles_forget() -> None:
    """Make every process re-read the course cycles on its next request (called on cycle changes)."""
    _course_cycles_memo.forget()


def timeline(*, subscription: Subscription, limit: int = TIMELINE_LIMIT) -> list[SubscriptionEvent]:
    """The latest events, newest first; each has a `label` for people (SubscriptionEvent.label)."""
    return subscription_selectors.subscription_timeline(subscription_id=subscription.pk, limit=limit)


@dataclass(frozen=True, slots=True)
class DateWindow:
    """The dates a customer may pick as the next delivery date (inclusive)."""

    earliest: date
    latest: date

    def suggestions(self, count: int = 7) -> list[date]:
        days = (self.latest - self.earliest).days
        return [self.earliest + timedelta(days=i) for i in range(min(count, days + 1))]


def next_date_window(
    *, subscription: Subscription, policy: ShopPolicy, today: date | None = None
) -> DateWindow | None:
    """The dates the date-change service accepts from a customer; None when there is none.

    The earliest is the first date whose creation date lies at least `change_deadline_days` after
    today (so it could still be changed after choosing it) and after the last delivery; the
    latest is `date_change_max_days` after the current next delivery.
    """
    if subscription.next_delivery_date is None:
        return None
    today = today or subscription_selectors.today_in_shop()
    calendar = policy.business_calendar()
    earliest = calendar.earliest_delivery(
        subscription_schedule.first_changeable_creation(
            today, change_deadline_days=policy.change_deadline_days
        ),
        policy.lead_days,
    )
    if subscription.last_delivery_date and earliest <= subscription.last_delivery_date:
        earliest = subscription.last_delivery_date + timedelta(days=1)
    latest = subscription.next_delivery_date + timedelta(days=policy.date_change_max_days)
    if latest < earliest:
        return None
    return DateWindow(earliest=earliest, latest=latest)


@dataclass(frozen=True, slots=True)
class SkippedDelivery:
    sequence: int
    delivery_date: date


def undoable_skips(
    *, subscription: Subscription, policy: ShopPolicy, today: date | None = None
) -> list[SkippedDelivery]:
    """Skipped deliveries a customer may still restore: the same rule subscription_unskip applies."""
    if subscription.status != SubscriptionStatus.ACTIVE or not subscription.skipped_sequences:
        return []
    today = today or subscription_selectors.today_in_shop()
    calendar = policy.business_calendar()
    found = []
    for sequence in sorted(subscription.skipped):
        if sequence < subscription.anchor_sequence:
            continue
        delivery = delivery_date(
            subscription.cycle,
            anchor_date=subscription.anchor_date,
            anchor_sequence=subscription.anchor_sequence,
            sequence=sequence,
        )
        if subscription.last_delivery_date and delivery <= subscription.last_delivery_date:
            continue
        creation = calendar.creation_date(delivery, policy.lead_days)
        if today <= subscription_schedule.change_deadline_for(
            creation, change_deadline_days=policy.change_deadline_days
        ):
            found.append(SkippedDelivery(sequence=sequence, delivery_date=delivery))
    return found


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """What the subscription page shows beside the subscription itself."""

    deadline: date | None
    can_change: bool  # the next delivery can still be changed (before the deadline)
    permitted: frozenset[str]  # actions the shop allows and the status admits
    allowed: frozenset[str]  # permitted and, for deadline actions, before the deadline
    upcoming: list[Any]
    undoable_skips: list[SkippedDelivery]


def subscription_state(
    *, subscription: Subscription, policy: ShopPolicy, upcoming_count: int = UPCOMING_COUNT
) -> SubscriptionState:
    deadline = None
    if subscription.next_creation_date is not None:
        deadline = subscription_selectors.change_deadline(subscription, policy)
    can_change = subscription_selectors.can_customer_change(subscription, policy)
    permitted = frozenset(
        name
        for name in CUSTOMER_ACTIONS.get(subscription.status, frozenset())
        if getattr(policy, ACTION_PERMISSIONS[name])
    )
    allowed = frozenset(
        name for name in permitted if can_change or not needs_deadline(name, subscription.status)
    )
    upcoming: list[Any] = []
    if subscription.status == SubscriptionStatus.ACTIVE and subscription.next_delivery_date:
        upcoming = list(subscription_selectors.upcoming_deliveries(subscription, upcoming_count, policy))
    skips = undoable_skips(subscription=subscription, policy=policy) if "unskip" in permitted else []
    return SubscriptionState(
        deadline=deadline,
        can_change=can_change,
        permitted=permitted,
        allowed=allowed,
        upcoming=upcoming,
        undoable_skips=skips,
    )


def points_balance(*, customer: Customer) -> int | None:
    """The customer's point balance; None for guests, who neither earn nor use points."""
    if not customer.is_member:
        return None
    relation = Customer.point_account.related
    if relation.is_cached(customer):  # loaded with the subscription: no query
        account = relation.get_cached_value(customer)  # None: no account yet, a balance of 0
        return account.balance if account is not None else 0
    return pricing_selectors.points_balance(customer)


@dataclass(frozen=True, slots=True)
class NextOrderPrice:
    """What the next order will cost, priced by billing's PricingBook exactly as the nightly run does."""

    sequence: int  # the delivery number of the next order
    price_sequence: int  # 定期回数 the course prices and coupons key on (cycle_count + 1)
    priced_on: date  # the business date prices, sales and coupon windows were taken at
    priced: PricedOrder
    coupon_code: str | None  # the subscription's coupon, applied or not
    coupon_refusal: str | None  # why that coupon will not apply, in the customer's words
    # The delivery method it gets and why a cheaper one is not given; None: the shop has no methods.
    delivery: DeliveryShown | None = None
    addon_lines: int = 0  # the last lines are this many ついで買い (on this order only)


def next_order_prices(
    *, subscriptions: list[Subscription], today: date | None = None
) -> dict[int, NextOrderPrice]:
    """The next order's price for each active subscription with a next delivery, by id.

    One PricingBook for the whole list, so a page costs the same queries whatever the number of
    subscriptions. The book is taken at the earliest upcoming creation date (the day the nightly run
    prices that order; today once it has passed) and prices the orders in the order they will be
    created: as in the nightly run, points and capped coupon uses taken by an earlier order are not
    offered to a later one. Items and ついで買い come from the subscriptions' prefetched rows.
    """
    due = [s for s in subscriptions if s.status == SubscriptionStatus.ACTIVE and s.next_delivery_date]
    if not due:
        return {}
    today = today or subscription_selectors.today_in_shop()
    due.sort(key=lambda s: (s.next_creation_date or today, s.pk))
    priced_on = max(today, due[0].next_creation_date or today)
    customers = {
        s.customer_id: (s.customer.group_id, s.customer.is_member)
        for s in due
        if Subscription.customer.is_cached(s)
    }
    book = pricing_selectors.PricingBook.load(
        subscriptions=due,
        on=priced_on,
        catalog=pricing_catalog(on=priced_on),
        # The customers already loaded with the subscriptions: no customer query either.
        customers=customers if len(customers) == len({s.customer_id for s in due}) else None,
    )
    prices = {}
    # The wrapping flags matter only when wrapping costs something: no query otherwise.
    wrapped = (
        order_selectors.gift_wrapped_subscriptions(subscription_ids=[s.pk for s in due])
        if book.policy.gift_wrapping_fee
        else set()
    )
    for subscription in due:
        # The same arguments billing.selectors.subscription_next_order_price passes, from loaded rows.
        address, method = subscription.shipping_address, subscription.payment_method
        price_sequence = subscription_schedule.delivery_number(subscription.cycle_count)
        addons = pricing_selectors.pending_addon_items(subscription)
        priced = book.price_subscription_order(
            subscription=subscription,
            items=[(item.product_id, item.quantity) for item in subscription.items.all()],
            addons=addons,
            price_sequence=price_sequence,
            payment_kind=method.kind if method else "",
            address_prefecture=address.prefecture if address else "",
            remote_island=bool(address and address.is_remote_island),
            gift_wrapping=subscription.pk in wrapped,
        )
        coupon = subscription.coupon if subscription.coupon_id else None
        refusal = (
            coupon_refusal_message(priced.coupon_refusal, coupon, next_sequence=price_sequence)
            if priced.coupon_refusal
            else None
        )
        prices[subscription.pk] = NextOrderPrice(
            sequence=subscription.next_sequence,
            price_sequence=price_sequence,
            priced_on=priced_on,
            priced=priced,
            coupon_code=coupon.code if coupon else None,
            coupon_refusal=refusal,
            delivery=delivery_shown(
                catalog=book.catalog,
                priced=priced,
                prefecture=address.prefecture if address else "",
                remote_island=bool(address and address.is_remote_island),
            ),  # fmt: skip
            addon_lines=len(addons),
        )
    return prices
