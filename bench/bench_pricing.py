"""How fast the pure pricing function is per order (no database): prints orders/s.

.venv/bin/python bench/bench_pricing.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.packaging import MethodTerms, Package
from pricing.delivery import MethodOption, delivery_terms
from pricing.pricing import BulkDiscountRule, CouponTerms, ProductPrices, ShippingTerms, price_order

ITEMS = [
    (
        ProductPrices(
            1,
            "A",
            "青汁",
            8,
            3980,
            course_prices=((1, 980), (2, 2980), (4, 3480)),
            tiers=((1, 3980), (5, 3500)),
        ),
        2,
    ),
    (ProductPrices(2, "B", "プロテイン", 10, 2980, sale_price=2500, group_price=2700), 1),
]
SHIPPING = ShippingTerms(550, 5000, {"北海道": 990}, 1100, ((9999, 330), (29999, 440)))
RULES = (BulkDiscountRule(3, "percent", 5),)
COUPON = CouponTerms(id=1, kind="percent", value=10, applies_to="all")
# 宅配便 by the table, メール便 ¥220 automatic, ネコポス ¥385 on request (issue 12).
METHODS = (
    MethodOption(1, "宅配便", MethodTerms("parcel", 0, is_default=True), None),
    MethodOption(
        2, "メール便", MethodTerms("mail_bin", 0, 340, 250, 20, 1000, False, False, auto_assign=True), 220
    ),
    MethodOption(3, "ネコポス", MethodTerms("nekopos", 0, 312, 228, 30, 1000, False, False), 385),
)
PACKAGES = [(Package(200, 150, 8, 150), 2), (Package(200, 150, 5, 100), 1)]


def main(n: int = 100_000) -> None:
    started = time.perf_counter()
    for i in range(n):
        price_order(
            items=ITEMS, sequence=i % 6 + 1, shipping=SHIPPING, prefecture="北海道", remote_island=i % 7 == 0,
            payment_kind="cod" if i % 3 == 0 else "card", bulk_rules=RULES, coupon=COUPON, points_requested=300,
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    print(
        f"price_order: {n} orders in {elapsed:.2f}s = {n / elapsed:,.0f} orders/s ({elapsed / n * 1e6:.1f} µs each)"
    )
    started = time.perf_counter()
    for i in range(n):
        delivery = delivery_terms(
            METHODS, PACKAGES, shipping=SHIPPING, prefecture="北海道", remote_island=i % 7 == 0,
            time_slot=i % 5 == 0, cod=i % 3 == 0,
        )  # fmt: skip
        price_order(
            items=ITEMS, sequence=i % 6 + 1, shipping=SHIPPING, prefecture="北海道", remote_island=i % 7 == 0,
            payment_kind="cod" if i % 3 == 0 else "card", bulk_rules=RULES, coupon=COUPON, points_requested=300,
            delivery=delivery, wrapping_fee=330 if i % 2 else 0,
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    print(
        f"method decision + price_order with wrapping: {n} orders in {elapsed:.2f}s = {n / elapsed:,.0f} orders/s "
        f"({elapsed / n * 1e6:.1f} µs each; the nightly run decides once per distinct input, PricingCatalog.price)"
    )


if __name__ == "__main__":
    main()
