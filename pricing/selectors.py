"""Pricing reads shared by the nightly run, the my page and the admin.

`PricingBook` loads everything pricing needs for a batch of subscriptions in a fixed number of
queries, then prices each order in memory with billing.pricing.price_order. Inside a transaction it
locks the rows whose counts it relies on (capped coupons, point accounts) so that two batches or a
batch and a my-page action can never spend the same coupon use or the same points; the caller
records what it used with `pricing.bulk.benefits_bulk_record` before committing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from catalog.models import (
    BulkDiscount,
    CourseItem,
    CoursePrice,
    DeliveryMethod,
    GroupPrice,
    Product,
    ProductSalePrice,
    QuantityTier,
)
from catalog.packaging import MethodTerms, Package
from customers.models import Customer
from subscriptions.models import SubscriptionItem
from subscriptions.schedule import delivery_number
from subscriptions.selectors import pending_addons

from .delivery import MethodOption, delivery_terms
from .models import (
    BillingPolicy,
    CodFee,
    Coupon,
    CouponRedemption,
    PointAccount,
    PrefectureShippingFee,
)
from .pricing import (
    COD,
    NO_METHOD,
    BulkDiscountRule,
    CouponTerms,
    DeliveryTerms,
    PricedOrder,
    ProductPrices,
    ShippingTerms,
    price_order,
)

# (order_id, customer_id, subscription_id, sequence, coupon_id or None, points_used)


def shop_date(moment: datetime) -> date:
    """The business date of an aware timestamp in the shop's time zone."""
    return moment.astimezone(ZoneInfo(settings.SHOP_TIMEZONE)).date()


def coupon_window_refusal(coupon: Coupon, on: date) -> str | None:
    """Why the coupon cannot be used on business date `on` (inactive or outside its window), if so."""
    if not coupon.is_active:
        return "coupon_not_found"
    if coupon.valid_from is not None and shop_date(coupon.valid_from) > on:
        return "coupon_not_started"
    if coupon.valid_until is not None and shop_date(coupon.valid_until) < on:
        return "coupon_expired"
    return None


def coupon_terms(coupon: Coupon, *, refusal: str | None = None) -> CouponTerms:
    return CouponTerms(
        id=coupon.pk,
        kind=coupon.kind,
        value=coupon.value,
        applies_to=coupon.applies_to,
        sequences=frozenset(int(s) for s in coupon.sequences or ()),
        min_subtotal=coupon.min_subtotal,
        refusal=refusal,
    )


def shipping_terms(policy: BillingPolicy | None = None) -> ShippingTerms:
    policy = policy or BillingPolicy.current()
    return ShippingTerms(
        base_fee=policy.shipping_base_fee,
        free_from=policy.shipping_free_from,
        prefecture_fees=dict(PrefectureShippingFee.objects.values_list("prefecture", "fee")),
        remote_island_surcharge=policy.remote_island_surcharge,
        cod_fees=tuple(CodFee.objects.order_by("up_to_amount").values_list("up_to_amount", "fee")),
    )


def delivery_options() -> tuple[MethodOption, ...]:
    """The shop's active delivery methods as pricing.delivery reads them: one query."""
    return tuple(
        MethodOption(
            id=m.pk,
            name=m.name,
            terms=MethodTerms(
                code=m.code,
                fee=m.fee or 0,
                max_length_mm=m.max_length_mm,
                max_width_mm=m.max_width_mm,
                max_thickness_mm=m.max_thickness_mm,
                max_weight_g=m.max_weight_g,
                allows_time_slot=m.allows_time_slot,
                allows_cod=m.allows_cod,
                auto_assign=m.auto_assign,
                is_default=m.is_default,
            ),  # fmt: skip
            flat_fee=m.fee,
        )
        for m in DeliveryMethod.objects.filter(is_active=True).order_by("sort_order", "id")
    )


def points_balance(customer: Customer | int) -> int:
    """The customer's point balance: 0 for guests (points are for members only) and newcomers."""
    row = (
        PointAccount.objects.filter(customer_id=getattr(customer, "pk", customer), customer__is_member=True)
        .values_list("balance", flat=True)
        .first()
    )
    return row or 0


@dataclass(slots=True)
class _CouponState:
    coupon: Coupon
    refusal: str | None
    remaining: int | None  # total uses left; None: no cap


class PricingCatalog:
    """The rarely-changing part of pricing: the billing policy, shipping and COD fees, the delivery
    methods, products with their packages and their course, sale, tier and group prices, and the
    bulk discounts.

    `PricingCatalog.load(on=…)` reads all of it, for every product, course and group, in a fixed
    number of queries. The nightly run loads one per run (per lane step under Celery) and gives it
    to every batch's `PricingBook.load(…, catalog=…)`: the run prices with the catalogue as it was
    when the run started, so a price, fee or discount edited during the run applies from the next
    run. What may change between batches and must not be overspent (customers, coupons and their
    counts, point balances) is still read per batch, under lock.

    Once loaded only its memos change (ProductPrices and priced orders, both pure functions of
    the catalogue and their key), so lanes in threads may share one.
    """

    # Priced orders remembered per catalogue; beyond this many distinct inputs the memo starts
    # afresh, so memory stays flat whatever the number of subscriptions.
    MEMO_LIMIT = 10_000

    def __init__(self, *, on: date, policy: BillingPolicy, group_ids: set[int] | None) -> None:
        self.on = on
        self.policy = policy
        self.shipping = shipping_terms(policy)
        self.rounding = policy.tax_rounding
        self.methods = delivery_options()
        # None: every group's prices are loaded (a run-wide catalogue); else only these groups'.
        self.group_ids = group_ids
        # product id -> (sku, name, tax_rate, list price)
        self.products: dict[int, tuple[str, str, int, int]] = {}
        self.packages: dict[int, Package] = {}
        self.course_prices: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
        self.sale: dict[int, int] = {}
        self.tiers: dict[int, tuple[tuple[int, int], ...]] = {}
        self.group_prices: dict[tuple[int, int], int] = {}
        self.bulk: dict[int | None, list[BulkDiscountRule]] = defaultdict(list)
        self._bulk_for: dict[int, tuple[BulkDiscountRule, ...]] = {}
        self._prices: dict[tuple[int, int, int | None], ProductPrices] = {}
        self.priced: dict[tuple, PricedOrder] = {}
        self._deliveries: dict[tuple, DeliveryTerms] = {}

    @classmethod
    def load(cls, *, on: date) -> PricingCatalog:
        """The whole catalogue as of business date `on`: eight queries whatever its size."""
        catalog = cls(on=on, policy=BillingPolicy.current(), group_ids=None)
        catalog._load_products(None)
        catalog._load_course_prices(CoursePrice.objects.all())
        catalog._load_bulk(BulkDiscount.objects.filter(is_active=True))
        return catalog

    @classmethod
    def for_batch(
        cls, *, on: date, product_filter: Q, course_ids: set[int], group_ids: set[int]
    ) -> PricingCatalog:
        """Only what one batch of subscriptions needs (a my-page list, an admin preview)."""
        catalog = cls(on=on, policy=BillingPolicy.current(), group_ids=group_ids)
        catalog._load_products(product_filter)
        catalog._load_course_prices(CoursePrice.objects.filter(course_id__in=course_ids))
        catalog._load_bulk(
            BulkDiscount.objects.filter(Q(course__isnull=True) | Q(course_id__in=course_ids), is_active=True)
        )
        return catalog

    def _load_products(self, product_filter: Q | None) -> None:
        products = Product.objects.all() if product_filter is None else Product.objects.filter(product_filter)
        loaded = {}
        for pk, sku, name, tax_rate, price, *package in products.distinct().values_list(
            "pk", "sku", "name", "tax_rate", "price",
            "package_length_mm", "package_width_mm", "package_thickness_mm", "package_weight_g",
        ):  # fmt: skip
            loaded[pk] = (sku, name, tax_rate, price)
            self.packages[pk] = Package(*package)
        if not loaded:
            return
        self.products.update(loaded)
        scoped = product_filter is not None
        product_ids = list(loaded)

        def of_products(qs):  # noqa: ANN001, ANN202
            return qs.filter(product_id__in=product_ids) if scoped else qs

        active_sales = of_products(ProductSalePrice.objects.filter(starts_on__lte=self.on)).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=self.on)
        )
        for product_id, unit_price in active_sales.values_list("product_id", "unit_price"):
            self.sale[product_id] = min(unit_price, self.sale.get(product_id, unit_price))
        for product_id, min_quantity, unit_price in (
            of_products(QuantityTier.objects.all())
            .order_by("min_quantity")
            .values_list("product_id", "min_quantity", "unit_price")
        ):
            self.tiers[product_id] = (*self.tiers.get(product_id, ()), (min_quantity, unit_price))
        if self.group_ids is not None and not self.group_ids:
            return
        group_prices = of_products(GroupPrice.objects.all())
        if self.group_ids is not None:
            group_prices = group_prices.filter(group_id__in=self.group_ids)
        for group_id, product_id, unit_price in group_prices.values_list(
            "group_id", "product_id", "unit_price"
        ):
            self.group_prices[(group_id, product_id)] = unit_price

    def _load_course_prices(self, qs) -> None:  # noqa: ANN001
        for course_id, product_id, from_sequence, unit_price in qs.order_by("from_sequence").values_list(
            "course_id", "product_id", "from_sequence", "unit_price"
        ):
            key = (course_id, product_id)
            self.course_prices[key] = (*self.course_prices.get(key, ()), (from_sequence, unit_price))

    def _load_bulk(self, qs) -> None:  # noqa: ANN001
        for course_id, min_quantity, kind, value in qs.values_list(
            "course_id", "min_quantity", "kind", "value"
        ):
            self.bulk[course_id].append(BulkDiscountRule(min_quantity, kind, value))

    def bulk_rules(self, course_id: int) -> tuple[BulkDiscountRule, ...]:
        rules = self._bulk_for.get(course_id)
        if rules is None:
            rules = self._bulk_for[course_id] = (*self.bulk.get(None, ()), *self.bulk.get(course_id, ()))
        return rules

    def product_prices(
        self, *, product_id: int, course_id: int | None, group_id: int | None
    ) -> ProductPrices:
        """One product's prices in the course (course_id None: bought on its own, at the one-off price)."""
        key = (product_id, course_id, group_id)
        cached = self._prices.get(key)
        if cached is not None:
            return cached
        if product_id not in self.products:
            # An item outside the subscription and its course (e.g. an admin adding a product), or a
            # product created after a run-wide catalogue was loaded: one extra lookup rather than a
            # wrong price. (Idempotent, so harmless even when two threads do it at once.)
            self._load_products(Q(pk=product_id))
        sku, name, tax_rate, list_price = self.products[product_id]
        prices = ProductPrices(
            product_id=product_id,
            sku=sku,
            name=name,
            tax_rate=tax_rate,
            list_price=list_price,
            course_prices=self.course_prices.get((course_id, product_id), ()),
            sale_price=self.sale.get(product_id),
            tiers=self.tiers.get(product_id, ()),
            group_price=self.group_prices.get((group_id, product_id)) if group_id else None,
        )
        self._prices[key] = prices
        return prices

    def delivery(
        self,
        *,
        items: list[tuple[int, int]],
        payment_kind: str,
        prefecture: str,
        remote_island: bool,
        time_slot: bool,
    ) -> DeliveryTerms:
        """The delivery method the order gets (pricing.delivery, catalog.packaging): what every
        price of an order is charged with, and what the my page and checkout explain."""
        if not self.methods:
            return NO_METHOD
        cod = payment_kind == COD
        key = (tuple(items), cod, prefecture, remote_island, time_slot)
        decided = self._deliveries.get(key)
        if decided is not None:
            return decided
        for pid, _qty in items:
            if pid not in self.packages:
                self._load_products(Q(pk=pid))
        decided = delivery_terms(
            self.methods, [(self.packages[pid], qty) for pid, qty in items], shipping=self.shipping,
            prefecture=prefecture, remote_island=remote_island, time_slot=time_slot, cod=cod,
        )  # fmt: skip
        if len(self._deliveries) >= self.MEMO_LIMIT:
            self._deliveries.clear()
        self._deliveries[key] = decided
        return decided

    def price(
        self,
        *,
        items: list[tuple[int, int]],
        course_id: int,
        group_id: int | None,
        sequence: int,
        payment_kind: str,
        prefecture: str,
        remote_island: bool,
        coupon: CouponTerms | None,
        points_requested: int,
        time_slot: bool,
        gift_wrapping: bool,
        addons: list[tuple[int, int]] | tuple[tuple[int, int], ...] = (),
    ) -> PricedOrder:
        """price_order on this catalogue, remembered: price_order is pure and, given the catalogue,
        these arguments are all it depends on, so subscriptions of the same course, items, sequence,
        group, prefecture, payment kind, time slot (asked or not), wrapping and add-ons share one
        PricedOrder (frozen; treat its tax_summary as read-only too).

        `addons` (ついで買い, one-off items on this order only) are priced after the items at the
        product's one-off price: its list price lowered by the same sale, tier and group prices, never
        the course's price per delivery. Their lines come last, in the order given, and they are
        packed with the items when the delivery method is chosen."""
        key = (
            tuple(items), course_id, group_id, sequence, payment_kind, prefecture, remote_island, coupon,
            points_requested, time_slot, gift_wrapping, tuple(addons),
        )  # fmt: skip
        priced = self.priced.get(key)
        if priced is not None:
            return priced
        delivery = self.delivery(
            items=[*items, *addons], payment_kind=payment_kind, prefecture=prefecture,
            remote_island=remote_island, time_slot=time_slot,
        )  # fmt: skip
        priced = price_order(
            items=[
                (self.product_prices(product_id=pid, course_id=course_id, group_id=group_id), qty)
                for pid, qty in items
            ]
            + [
                (self.product_prices(product_id=pid, course_id=None, group_id=group_id), qty)
                for pid, qty in addons
            ],
            sequence=sequence,
            shipping=self.shipping,
            prefecture=prefecture,
            remote_island=remote_island,
            payment_kind=payment_kind,
            bulk_rules=self.bulk_rules(course_id),
            coupon=coupon,
            points_requested=points_requested,
            rounding=self.rounding,
            delivery=delivery,
            wrapping_fee=self.policy.gift_wrapping_fee if gift_wrapping else 0,
        )
        if len(self.priced) >= self.MEMO_LIMIT:
            self.priced.clear()
        self.priced[key] = priced
        return priced


class PricingBook:
    """Prices for a batch of subscriptions as of business date `on`. Not shared between threads."""

    def __init__(self) -> None:
        self.on: date
        self.catalog: PricingCatalog
        self._customers: dict[int, tuple[int | None, bool]] = {}
        self._coupons: dict[int, _CouponState] = {}
        self._customer_uses: dict[tuple[int, int], int] = {}
        self._points: dict[int, int] = {}
        self._coupon_terms: dict[tuple[int, str | None], CouponTerms] = {}

    @property
    def policy(self) -> BillingPolicy:
        return self.catalog.policy

    @property
    def shipping(self) -> ShippingTerms:
        return self.catalog.shipping

    @classmethod
    def load(
        cls,
        *,
        subscriptions: Sequence,
        on: date,
        catalog: PricingCatalog | None = None,
        customers: Mapping[int, tuple[int | None, bool]] | None = None,
    ) -> PricingBook:
        """Everything the batch needs, in a fixed number of queries whatever the batch size.

        `catalog`: a run-wide PricingCatalog loaded for the same date, reused instead of reading the
        batch's products and prices again (its prices are those of when it was loaded).
        `customers`: customer id -> (group id, is member) when the caller has just read them in the
        same transaction (the nightly claim joins them), saving the customer query.
        """
        if catalog is not None and catalog.on != on:
            raise ValueError(f"the catalogue was loaded for {catalog.on}, not {on}")
        book = cls()
        book.on = on
        customer_ids = {s.customer_id for s in subscriptions}
        if customers is not None:
            book._customers = {pk: customers[pk] for pk in customer_ids}
        else:
            book._customers = {
                pk: (group_id, is_member)
                for pk, group_id, is_member in Customer.objects.filter(pk__in=customer_ids).values_list(
                    "pk", "group_id", "is_member"
                )
            }
        if catalog is None:
            course_ids = {s.course_id for s in subscriptions}
            # Two indexed subqueries: one OR across both joins made PostgreSQL scan every subscription
            # item per batch (h3, measured with bench/nightly.py: 17 ms at 12k rows, growing with N).
            product_filter = Q(
                pk__in=SubscriptionItem.objects.filter(
                    subscription_id__in=[s.pk for s in subscriptions]
                ).values("product_id")
            ) | Q(pk__in=CourseItem.objects.filter(course_id__in=course_ids).values("product_id"))
            catalog = PricingCatalog.for_batch(
                on=on,
                product_filter=product_filter,
                course_ids=course_ids,
                group_ids={group_id for group_id, _member in book._customers.values() if group_id},
            )
        book.catalog = catalog
        book._load_coupons([s for s in subscriptions if s.coupon_id], on)
        book._load_points(subscriptions)
        return book

    def _load_coupons(self, with_coupon: Sequence, on: date) -> None:
        coupon_ids = sorted({s.coupon_id for s in with_coupon})
        if not coupon_ids:
            return
        coupons = Coupon.objects.filter(pk__in=coupon_ids).order_by("pk")
        if transaction.get_connection().in_atomic_block:
            # Held until the caller commits its redemptions: counts below stay true for this batch.
            coupons = coupons.select_for_update(of=("self",))
        totals = dict(
            CouponRedemption.objects.filter(coupon_id__in=coupon_ids)
            .values("coupon_id")
            .annotate(n=Count("id"))
            .values_list("coupon_id", "n")
        )
        customer_ids = {s.customer_id for s in with_coupon}
        for coupon_id, customer_id, n in (
            CouponRedemption.objects.filter(coupon_id__in=coupon_ids, customer_id__in=customer_ids)
            .values("coupon_id", "customer_id")
            .annotate(n=Count("id"))
            .values_list("coupon_id", "customer_id", "n")
        ):
            self._customer_uses[(coupon_id, customer_id)] = n
        for coupon in coupons:
            remaining = None if coupon.max_uses is None else coupon.max_uses - totals.get(coupon.pk, 0)
            self._coupons[coupon.pk] = _CouponState(coupon, coupon_window_refusal(coupon, on), remaining)

    def _load_points(self, subscriptions: Sequence) -> None:
        spenders = sorted(
            {
                s.customer_id
                for s in subscriptions
                if s.points_reservation != "none" and self._customers.get(s.customer_id, (None, False))[1]
            }
        )
        if not spenders:
            return
        accounts = PointAccount.objects.filter(customer_id__in=spenders).order_by("customer_id")
        if transaction.get_connection().in_atomic_block:
            # Two batches (or a batch and an admin adjustment) can never spend the same points.
            accounts = accounts.select_for_update()
        self._points = dict(accounts.values_list("customer_id", "balance"))

    def product_prices(self, *, product_id: int, course_id: int, group_id: int | None) -> ProductPrices:
        return self.catalog.product_prices(product_id=product_id, course_id=course_id, group_id=group_id)

    def _coupon_for(self, subscription) -> CouponTerms | None:  # noqa: ANN001
        state = self._coupons.get(subscription.coupon_id) if subscription.coupon_id else None
        if state is None:
            return None
        coupon = state.coupon
        refusal = state.refusal
        used_by_customer = self._customer_uses.get((coupon.pk, subscription.customer_id), 0)
        if refusal is None and state.remaining is not None and state.remaining <= 0:
            refusal = "coupon_used_up"
        limit = coupon.max_uses_per_customer
        if refusal is None and limit is not None and used_by_customer >= limit:
            refusal = "coupon_limit_reached"
        key = (coupon.pk, refusal)
        terms = self._coupon_terms.get(key)
        if terms is None:
            terms = self._coupon_terms[key] = coupon_terms(coupon, refusal=refusal)
        return terms

    def _points_requested(self, subscription) -> int:  # noqa: ANN001
        reservation = subscription.points_reservation
        if reservation == "none" or not self._customers.get(subscription.customer_id, (None, False))[1]:
            return 0
        balance = self._points.get(subscription.customer_id, 0)
        if reservation == "all":
            return balance
        return min(subscription.points_reservation_amount, balance)

    def price_subscription_order(
        self,
        *,
        subscription,  # noqa: ANN001 - a subscriptions.models.Subscription
        items: list[tuple[int, int]],
        price_sequence: int,
        payment_kind: str,
        address_prefecture: str,
        remote_island: bool,
        gift_wrapping: bool,
        addons: list[tuple[int, int]] | tuple[tuple[int, int], ...] = (),
    ) -> PricedOrder:
        """Price one order of the batch (`addons`: its ついで買い, see PricingCatalog.price). Coupon
        uses and points it takes are held back from later orders of the same book, so a batch never
        promises more than the caps or balances allow. The time slot (which rules メール便 out) is
        the subscription's; `gift_wrapping`: the order is sent gift-wrapped (orders.SubscriptionGift),
        which adds the shop's wrapping fee."""
        priced = self.catalog.price(
            items=items,
            addons=addons,
            course_id=subscription.course_id,
            group_id=self._customers.get(subscription.customer_id, (None, False))[0],
            sequence=price_sequence,
            payment_kind=payment_kind,
            prefecture=address_prefecture,
            remote_island=remote_island,
            coupon=self._coupon_for(subscription),
            points_requested=self._points_requested(subscription),
            time_slot=bool(subscription.delivery_time_slot),
            gift_wrapping=gift_wrapping,
        )
        if priced.coupon_id is not None:
            state = self._coupons[priced.coupon_id]
            if state.remaining is not None:
                state.remaining -= 1
            key = (priced.coupon_id, subscription.customer_id)
            self._customer_uses[key] = self._customer_uses.get(key, 0) + 1
        if priced.points_used:
            self._points[subscription.customer_id] -= priced.points_used
        return priced


def pending_addon_items(subscription) -> list[tuple[int, int]]:  # noqa: ANN001
    """The subscription's pending ついで買い as (product id, quantity), in the order added (the
    nightly run prices them in that order too): prefetched by the caller, or one query."""
    return [(a.product_id, a.quantity) for a in pending_addons(subscription)]


def subscription_next_order_price(*, subscription, on: date, gift_wrapping: bool) -> PricedOrder:  # noqa: ANN001
    """What the subscription's next order will cost as of `on` (my page and admin preview).
    `gift_wrapping`: the subscription's gift setting (orders.SubscriptionGift) wraps its orders."""
    book = PricingBook.load(subscriptions=[subscription], on=on)
    address = subscription.shipping_address
    method = subscription.payment_method
    return book.price_subscription_order(
        subscription=subscription,
        items=list(subscription.items.values_list("product_id", "quantity")),
        addons=pending_addon_items(subscription),
        price_sequence=delivery_number(subscription.cycle_count),
        payment_kind=method.kind if method else "",
        address_prefecture=address.prefecture if address else "",
        remote_island=bool(address and address.is_remote_island),
        gift_wrapping=gift_wrapping,
    )
