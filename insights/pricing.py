"""The one door from insights to pricing: everything the forecast needs from pricing/ comes through here.

The forecast prices with the same `PricingCatalog` (and so the same `price_order`) the
nightly run loads for each run date.

What this module adds is `BenefitLedger`: the coupon caps and point balances carried forward night
after night. The nightly run judges them per batch in pricing.selectors.PricingBook (which also
locks rows and reads the counts afresh for every batch); the forecast cannot re-read tomorrow's
counts, so it keeps them here. Shared rule, kept in step with PricingBook._coupon_for,
PricingBook._points_requested and pricing.bulk (coupon redemptions): a coupon is refused when
outside its window (coupon_window_refusal, called, not copied), used up in total, or used up by this
customer; a "next order only" coupon leaves the subscription once redeemed; reserved points are
min(reservation, balance) for members, "all" meaning the whole balance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q

from catalog.models import ProductSalePrice
from pricing.models import Coupon, CouponAppliesTo, CouponRedemption, PointAccount
from pricing.pricing import CouponTerms, PricedOrder
from pricing.selectors import PricingCatalog, coupon_terms, coupon_window_refusal

__all__ = ["BenefitLedger", "CatalogByNight", "PricedOrder", "PricingCatalog"]


class CatalogByNight:
    """The PricingCatalog each forecast night prices with, loaded once per distinct set of active sales.

    A catalogue depends on its date only through the sale prices active on it (course prices, tiers,
    group prices, fees and bulk discounts are undated), so nights with the same active sales share
    one catalogue, and with it the memo of priced orders.
    """

    def __init__(self) -> None:
        self._sales = list(ProductSalePrice.objects.values_list("id", "starts_on", "ends_on"))
        self._by_key: dict[frozenset[int], PricingCatalog] = {}
        self._by_night: dict[date, PricingCatalog] = {}

    def on(self, night: date) -> PricingCatalog:
        catalog = self._by_night.get(night)
        if catalog is not None:
            return catalog
        key = frozenset(
            sale_id
            for sale_id, starts, ends in self._sales
            if starts <= night and (ends is None or ends >= night)
        )
        catalog = self._by_key.get(key)
        if catalog is None:
            catalog = self._by_key[key] = PricingCatalog.load(on=night)
        self._by_night[night] = catalog
        return catalog


@dataclass(slots=True)
class _CouponState:
    coupon: Coupon
    remaining: int | None  # total uses left; None: no cap


class BenefitLedger:
    """Coupon uses and point balances as the forecast spends them, night after night."""

    def __init__(self, *, coupon_ids: Iterable[int], customer_ids: Iterable[int]) -> None:
        coupon_ids = sorted(set(coupon_ids))
        customer_ids = sorted(set(customer_ids))
        self._coupons: dict[int, _CouponState] = {}
        self._uses: dict[tuple[int, int], int] = {}
        self._terms: dict[tuple[int, str | None], CouponTerms] = {}
        self.points: dict[int, int] = {}
        if coupon_ids:
            totals = dict(
                CouponRedemption.objects.filter(coupon_id__in=coupon_ids)
                .values("coupon_id")
                .annotate(n=Count("id"))
                .values_list("coupon_id", "n")
            )
            for coupon in Coupon.objects.filter(pk__in=coupon_ids):
                left = None if coupon.max_uses is None else coupon.max_uses - totals.get(coupon.pk, 0)
                self._coupons[coupon.pk] = _CouponState(coupon, left)
            for coupon_id, customer_id, n in (
                CouponRedemption.objects.filter(coupon_id__in=coupon_ids)
                .filter(Q(customer_id__in=customer_ids))
                .values("coupon_id", "customer_id")
                .annotate(n=Count("id"))
                .values_list("coupon_id", "customer_id", "n")
            ):
                self._uses[(coupon_id, customer_id)] = n
        if customer_ids:
            self.points = dict(
                PointAccount.objects.filter(customer_id__in=customer_ids).values_list(
                    "customer_id", "balance"
                )
            )

    def coupon(self, coupon_id: int | None, customer_id: int, night: date) -> CouponTerms | None:
        state = self._coupons.get(coupon_id) if coupon_id else None
        if state is None:
            return None
        coupon = state.coupon
        refusal = coupon_window_refusal(coupon, night)
        if refusal is None and state.remaining is not None and state.remaining <= 0:
            refusal = "coupon_used_up"
        limit = coupon.max_uses_per_customer
        if refusal is None and limit is not None and self._uses.get((coupon.pk, customer_id), 0) >= limit:
            refusal = "coupon_limit_reached"
        key = (coupon.pk, refusal)
        terms = self._terms.get(key)
        if terms is None:
            terms = self._terms[key] = coupon_terms(coupon, refusal=refusal)
        return terms

    def points_requested(self, *, reservation: str, amount: int, customer_id: int, is_member: bool) -> int:
        if reservation == "none" or not is_member:
            return 0
        balance = self.points.get(customer_id, 0)
        return balance if reservation == "all" else min(amount, balance)

    def spend(self, priced: PricedOrder, customer_id: int) -> bool:
        """Take what `priced` used; True when its coupon was a "next order only" one (now spent)."""
        if priced.points_used:
            self.points[customer_id] = self.points.get(customer_id, 0) - priced.points_used
        if priced.coupon_id is None:
            return False
        state = self._coupons[priced.coupon_id]
        if state.remaining is not None:
            state.remaining -= 1
        key = (priced.coupon_id, customer_id)
        self._uses[key] = self._uses.get(key, 0) + 1
        return state.coupon.applies_to == CouponAppliesTo.NEXT
