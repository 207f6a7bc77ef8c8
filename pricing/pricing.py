"""The one pricing function: an order's lines and totals from its inputs.

Pure: no Django import. The nightly run (through billing.selectors.PricingBook), the my page and
the admin all call `price_order`, so a price shown to a customer is the price they are charged.

Order of operations (each step is on tax-inclusive yen):
1. unit price per line: the course price for the sequence (else the list price), lowered by an
   active sale price, a quantity tier or the customer's group price — the customer gets the lowest;
2. bulk discount on the total quantity, then the coupon on what remains;
3. shipping on the goods after discounts, by the delivery method the order gets (decided before,
   pricing.delivery): a flat-fee method (全国一律, e.g. メール便) costs its fee, the shop's table
   otherwise (per prefecture, plus a remote-island surcharge that even free shipping keeps); from
   the free-shipping threshold every method's fee is waived. Then the gift-wrapping fee (its own
   line, standard rate) and the cash-on-delivery fee on what is collected;
4. points: min(requested, order total) — the caller already capped the request by the balance;
5. tax per rate: discounts are split over the item rates in proportion, shipping, wrapping and fees
   are standard-rate, points are split over everything, then the tax is rounded once per rate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from catalog.packaging import DeliveryDecision
from core.money import Rounding, allocate, percent_of
from core.tax import STANDARD_RATE, tax_summary

FIXED = "fixed"
PERCENT = "percent"
APPLIES_NEXT = "next"
APPLIES_ALL = "all"
APPLIES_SEQUENCES = "sequences"
COD = "cod"


@dataclass(frozen=True, slots=True)
class ProductPrices:
    """Everything that decides one product's unit price for one subscription, loaded in bulk."""

    product_id: int
    sku: str
    name: str
    tax_rate: int
    list_price: int
    # (from_sequence, unit_price), ascending: the row with the greatest from_sequence <= s applies.
    course_prices: tuple[tuple[int, int], ...] = ()
    # The sale price active on the pricing date, if any.
    sale_price: int | None = None
    # (min_quantity, unit_price), ascending: the row with the greatest min_quantity <= quantity.
    tiers: tuple[tuple[int, int], ...] = ()
    # The price for the customer's group (会員ランク価格), if the group has one.
    group_price: int | None = None

    def unit_price(self, *, sequence: int, quantity: int) -> int:
        base = self.list_price
        for from_sequence, price in self.course_prices:
            if from_sequence > sequence:
                break
            base = price
        best = base
        if self.sale_price is not None and self.sale_price < best:
            best = self.sale_price
        for min_quantity, price in self.tiers:
            if min_quantity > quantity:
                break
            if price < best:
                best = price
        if self.group_price is not None and self.group_price < best:
            best = self.group_price
        return best


@dataclass(frozen=True, slots=True)
class BulkDiscountRule:
    """A discount on the item subtotal once the order holds at least `min_quantity` items in all."""

    min_quantity: int
    kind: str  # FIXED (yen) or PERCENT (whole percent)
    value: int


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """A coupon as pricing needs it. Window, active flag and caps are judged by the caller (they
    depend on the clock and on counts), which passes the outcome as `refusal`."""

    id: int
    kind: str  # FIXED or PERCENT
    value: int
    applies_to: str = APPLIES_NEXT
    sequences: frozenset[int] = frozenset()
    min_subtotal: int = 0
    refusal: str | None = None

    def covers(self, sequence: int) -> bool:
        return coupon_covers(applies_to=self.applies_to, sequences=self.sequences, delivery_number=sequence)


def coupon_covers(*, applies_to: str, sequences: Collection[int], delivery_number: int) -> bool:
    """Whether a coupon applies to the order priced as `delivery_number` (定期回数): one for listed
    deliveries only to those, the others to any (a next-only coupon is then spent by that order)."""
    return applies_to != APPLIES_SEQUENCES or delivery_number in sequences


@dataclass(frozen=True, slots=True)
class ShippingTerms:
    """The shop's shipping fee rule and cash-on-delivery fee table (all tax-inclusive yen)."""

    base_fee: int = 0
    # Goods after discounts at or above this amount ship free; None: never free.
    free_from: int | None = None
    prefecture_fees: Mapping[str, int] = field(default_factory=dict)
    remote_island_surcharge: int = 0
    # (up_to_amount, fee) ascending by amount; amounts above the last row use the last fee.
    cod_fees: tuple[tuple[int, int], ...] = ()

    def shipping_fee(
        self, *, goods: int, prefecture: str, remote_island: bool, flat_fee: int | None = None
    ) -> int:
        """What the order pays for shipping. `flat_fee`: the delivery method's 全国一律 fee, which
        replaces the table (prefecture fees and the remote-island surcharge); None: the table."""
        free = self.free_from is not None and goods >= self.free_from
        if flat_fee is not None:
            return 0 if free else flat_fee
        surcharge = self.remote_island_surcharge if remote_island else 0
        return surcharge if free else self.table_fee(prefecture=prefecture) + surcharge

    def table_fee(self, *, prefecture: str) -> int:
        return self.prefecture_fees.get(prefecture, self.base_fee)

    def method_fee(self, *, flat_fee: int | None, prefecture: str, remote_island: bool) -> int:
        """A method's fee to this address before the free-shipping threshold: what methods are
        compared on when the order's method is decided (pricing.delivery)."""
        if flat_fee is not None:
            return flat_fee
        surcharge = self.remote_island_surcharge if remote_island else 0
        return self.table_fee(prefecture=prefecture) + surcharge

    def cod_fee(self, amount: int) -> int:
        for up_to, fee in self.cod_fees:
            if amount <= up_to:
                return fee
        return self.cod_fees[-1][1] if self.cod_fees else 0


@dataclass(frozen=True, slots=True)
class DeliveryTerms:
    """The delivery method decided for the order (pricing.delivery.delivery_terms), as pricing needs it.

    The default DeliveryTerms() is "no method" (the shop has none, or none fits): the shop's table.
    """

    method_id: int | None = None
    code: str = ""
    # 全国一律: this fee, whatever the prefecture or island; None: the shop's shipping table.
    flat_fee: int | None = None
    # How it was decided (the offered cheaper methods, the misfits and why), for the customer.
    decision: DeliveryDecision | None = field(default=None, compare=False)


NO_METHOD = DeliveryTerms()


@dataclass(frozen=True, slots=True)
class PricedLine:
    product_id: int
    sku: str
    product_name: str
    quantity: int
    unit_price: int
    tax_rate: int
    line_total: int


@dataclass(frozen=True, slots=True)
class PricedOrder:
    """An order's lines and totals; total = items_subtotal - discount_total + shipping_fee
    + wrapping_fee + cod_fee - points_used."""

    lines: tuple[PricedLine, ...]
    items_subtotal: int
    discount_total: int
    shipping_fee: int
    cod_fee: int
    points_used: int
    total: int
    # {"10": {"base": …, "tax": …}, "8": {…}}: tax-inclusive base per rate after discounts and points.
    tax_summary: dict[str, dict[str, int]]
    coupon_id: int | None = None
    # Why the subscription's coupon was not applied (a DomainError code), None when applied or absent.
    coupon_refusal: str | None = None
    bulk_discount: int = 0
    coupon_discount: int = 0
    # ギフト包装料 (tax included, standard rate): its own line, 0 without wrapping.
    wrapping_fee: int = 0
    delivery: DeliveryTerms = NO_METHOD

    def order_fields(self) -> dict[str, object]:
        """The Order model fields this pricing fills, ready for Order(**fields) or bulk updates."""
        return {
            "items_subtotal": self.items_subtotal,
            "discount_total": self.discount_total,
            "shipping_fee": self.shipping_fee,
            "cod_fee": self.cod_fee,
            "wrapping_fee": self.wrapping_fee,
            "delivery_method_id": self.delivery.method_id,
            "points_used": self.points_used,
            "total": self.total,
            "tax_summary": self.tax_summary,
            "coupon_id": self.coupon_id,
        }


def _discount(kind: str, value: int, amount: int) -> int:
    off = percent_of(amount, min(value, 100)) if kind == PERCENT else value
    return min(off, amount)


def _coupon_discount(
    coupon: CouponTerms | None, sequence: int, subtotal: int, remaining: int
) -> tuple[int, str | None]:
    if coupon is None:
        return 0, None
    if coupon.refusal:
        return 0, coupon.refusal
    if not coupon.covers(sequence):
        return 0, "coupon_not_applicable"
    if subtotal < coupon.min_subtotal:
        return 0, "coupon_min_subtotal"
    return _discount(coupon.kind, coupon.value, remaining), None


def price_order(
    *,
    items: list[tuple[ProductPrices, int]] | tuple[tuple[ProductPrices, int], ...],
    sequence: int,
    shipping: ShippingTerms,
    prefecture: str,
    remote_island: bool = False,
    payment_kind: str = "",
    bulk_rules: tuple[BulkDiscountRule, ...] = (),
    coupon: CouponTerms | None = None,
    points_requested: int = 0,
    rounding: Rounding | str = Rounding.FLOOR,
    delivery: DeliveryTerms = NO_METHOD,
    wrapping_fee: int = 0,
) -> PricedOrder:
    """Price one order: `items` are (product prices, quantity); returns lines, totals and tax per rate.

    `delivery`: the method the order gets (decided by pricing.delivery); `wrapping_fee`: the shop's
    gift-wrapping fee when the order is wrapped, else 0."""
    lines = []
    item_bases: dict[int, int] = {}
    total_quantity = 0
    for prices, quantity in items:
        unit = prices.unit_price(sequence=sequence, quantity=quantity)
        line_total = unit * quantity
        lines.append(
            PricedLine(
                prices.product_id, prices.sku, prices.name, quantity, unit, prices.tax_rate, line_total
            )
        )
        item_bases[prices.tax_rate] = item_bases.get(prices.tax_rate, 0) + line_total
        total_quantity += quantity
    subtotal = sum(item_bases.values())

    bulk = 0
    for rule in bulk_rules:
        if total_quantity >= rule.min_quantity:
            bulk = max(bulk, _discount(rule.kind, rule.value, subtotal))
    coupon_off, refusal = _coupon_discount(coupon, sequence, subtotal, subtotal - bulk)
    discount_total = bulk + coupon_off
    goods = subtotal - discount_total

    shipping_fee = (
        shipping.shipping_fee(
            goods=goods, prefecture=prefecture, remote_island=remote_island, flat_fee=delivery.flat_fee
        )
        if lines
        else 0
    )
    wrapping = wrapping_fee if lines else 0
    cod_fee = shipping.cod_fee(goods + shipping_fee + wrapping) if payment_kind == COD and lines else 0
    before_points = goods + shipping_fee + wrapping + cod_fee
    points_used = max(0, min(points_requested, before_points))

    bases = item_bases.copy()
    for rate, share in allocate(discount_total, item_bases).items():
        bases[rate] -= share
    if shipping_fee or wrapping or cod_fee:
        bases[STANDARD_RATE] = bases.get(STANDARD_RATE, 0) + shipping_fee + wrapping + cod_fee
    for rate, share in allocate(points_used, bases).items():
        bases[rate] -= share

    applied = coupon is not None and refusal is None
    return PricedOrder(
        lines=tuple(lines),
        items_subtotal=subtotal,
        discount_total=discount_total,
        shipping_fee=shipping_fee,
        cod_fee=cod_fee,
        points_used=points_used,
        total=before_points - points_used,
        tax_summary=tax_summary(bases, rounding),
        coupon_id=coupon.id if applied else None,
        coupon_refusal=refusal,
        bulk_discount=bulk,
        coupon_discount=coupon_off,
        wrapping_fee=wrapping,
        delivery=delivery if lines else NO_METHOD,
    )
