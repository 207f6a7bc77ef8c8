"""The one pricing function: tables of orders and what they cost, per rate."""

import pytest

from pricing.pricing import BulkDiscountRule, CouponTerms, ProductPrices, ShippingTerms, price_order

COURSE = ((1, 980), (2, 2980), (4, 3480))  # 1st ¥980, 2nd–3rd ¥2,980, 4th onward ¥3,480
NO_SHIPPING = ShippingTerms()


def product(pid=1, *, rate=10, price=3980, **kw):
    return ProductPrices(
        product_id=pid, sku=f"SKU-{pid}", name=f"商品{pid}", tax_rate=rate, list_price=price, **kw
    )


def price(items, *, sequence=1, shipping=NO_SHIPPING, prefecture="東京都", **kw):
    return price_order(items=items, sequence=sequence, shipping=shipping, prefecture=prefecture, **kw)


def assert_adds_up(order):
    assert order.total == (
        order.items_subtotal - order.discount_total + order.shipping_fee + order.cod_fee - order.points_used
    )
    assert sum(r["base"] for r in order.tax_summary.values()) == order.total
    assert sum(line.line_total for line in order.lines) == order.items_subtotal


@pytest.mark.parametrize(
    ("sequence", "unit"), [(1, 980), (2, 2980), (3, 2980), (4, 3480), (5, 3480), (12, 3480)]
)
def test_course_price_per_sequence(sequence, unit):
    order = price([(product(course_prices=COURSE), 1)], sequence=sequence)
    assert order.lines[0].unit_price == unit
    assert order.total == unit
    assert_adds_up(order)


def test_without_course_price_the_list_price_applies():
    order = price([(product(price=1500), 2)])
    assert (order.lines[0].unit_price, order.items_subtotal) == (1500, 3000)


@pytest.mark.parametrize(
    ("kw", "sequence", "quantity", "unit"),
    [
        ({"sale_price": 2500}, 1, 1, 2500),  # a sale price active on the pricing date
        ({"sale_price": 5000}, 1, 1, 3980),  # a sale never raises the price
        ({"tiers": ((1, 3980), (10, 3000))}, 1, 9, 3980),
        ({"tiers": ((1, 3980), (10, 3000))}, 1, 10, 3000),
        ({"tiers": ((1, 3980), (10, 3000), (20, 2800))}, 1, 25, 2800),
        ({"group_price": 3500}, 1, 1, 3500),
        ({"group_price": 3500, "sale_price": 3000}, 1, 1, 3000),
        ({"course_prices": COURSE, "sale_price": 3000}, 1, 1, 980),  # the course's first price is lower
        ({"course_prices": COURSE, "sale_price": 3000}, 4, 1, 3000),
        ({"course_prices": COURSE, "tiers": ((1, 3980), (2, 3200))}, 4, 2, 3200),
    ],
)
def test_the_customer_pays_the_lowest_applicable_unit_price(kw, sequence, quantity, unit):
    order = price([(product(**kw), quantity)], sequence=sequence)
    assert order.lines[0].unit_price == unit
    assert order.items_subtotal == unit * quantity


MIXED = [(product(1, rate=10, price=3000), 1), (product(2, rate=8, price=1000), 2)]  # ¥3,000 @10%, ¥2,000 @8%


@pytest.mark.parametrize(
    ("kw", "discount", "summary"),
    [
        # no discount: 3000*10/110 = 272.7 → 272; 2000*8/108 = 148.1 → 148
        ({}, 0, {"10": {"base": 3000, "tax": 272}, "8": {"base": 2000, "tax": 148}}),
        # ¥500 fixed coupon split 3:2 → 300 / 200
        (
            {"coupon": CouponTerms(id=7, kind="fixed", value=500)},
            500,
            {"10": {"base": 2700, "tax": 245}, "8": {"base": 1800, "tax": 133}},
        ),
        # 10 % coupon = ¥500 too
        (
            {"coupon": CouponTerms(id=7, kind="percent", value=10)},
            500,
            {"10": {"base": 2700, "tax": 245}, "8": {"base": 1800, "tax": 133}},
        ),
        # ¥333: 199.8 → 199 and 133.2 → 133, the leftover yen goes to the larger (10 %) base
        (
            {"coupon": CouponTerms(id=7, kind="fixed", value=333)},
            333,
            {"10": {"base": 2800, "tax": 254}, "8": {"base": 1867, "tax": 138}},
        ),
        # a coupon larger than the goods takes them to zero, never below
        (
            {"coupon": CouponTerms(id=7, kind="fixed", value=9000)},
            5000,
            {"10": {"base": 0, "tax": 0}, "8": {"base": 0, "tax": 0}},
        ),
        # points split over both rates the same way
        ({"points_requested": 1000}, 0, {"10": {"base": 2400, "tax": 218}, "8": {"base": 1600, "tax": 118}}),
        # half-up rounding per rate: 272.7 → 273, 148.1 → 148
        ({"rounding": "half_up"}, 0, {"10": {"base": 3000, "tax": 273}, "8": {"base": 2000, "tax": 148}}),
        ({"rounding": "ceil"}, 0, {"10": {"base": 3000, "tax": 273}, "8": {"base": 2000, "tax": 149}}),
    ],
)
def test_discounts_and_points_are_allocated_across_mixed_rates(kw, discount, summary):
    order = price(MIXED, **kw)
    assert order.items_subtotal == 5000
    assert order.discount_total == discount
    assert order.tax_summary == summary
    assert_adds_up(order)


@pytest.mark.parametrize(
    ("coupon", "sequence", "subtotal_items", "applied", "refusal"),
    [
        (CouponTerms(id=1, kind="fixed", value=500, applies_to="next"), 5, 1, True, None),
        (CouponTerms(id=1, kind="fixed", value=500, applies_to="all"), 9, 1, True, None),
        (
            CouponTerms(
                id=1, kind="fixed", value=500, applies_to="sequences", sequences=frozenset({2, 3, 4})
            ),
            3,
            1,
            True,
            None,
        ),
        (
            CouponTerms(
                id=1, kind="fixed", value=500, applies_to="sequences", sequences=frozenset({2, 3, 4})
            ),
            5,
            1,
            False,
            "coupon_not_applicable",
        ),
        (CouponTerms(id=1, kind="fixed", value=500, min_subtotal=5000), 1, 1, False, "coupon_min_subtotal"),
        (CouponTerms(id=1, kind="fixed", value=500, min_subtotal=5000), 1, 2, True, None),
        (CouponTerms(id=1, kind="fixed", value=500, refusal="coupon_used_up"), 1, 1, False, "coupon_used_up"),
    ],
)
def test_coupon_applies_only_where_its_terms_allow(coupon, sequence, subtotal_items, applied, refusal):
    order = price([(product(price=3980), subtotal_items)], sequence=sequence, coupon=coupon)
    assert (order.coupon_id is not None) is applied
    assert order.coupon_refusal == refusal
    assert order.discount_total == (500 if applied else 0)


@pytest.mark.parametrize(
    ("quantity", "rules", "discount"),
    [
        (2, (BulkDiscountRule(3, "percent", 10),), 0),
        (3, (BulkDiscountRule(3, "percent", 10),), 300),
        # the largest matching rule wins; rules never add up
        (6, (BulkDiscountRule(3, "percent", 10), BulkDiscountRule(6, "fixed", 1000)), 1000),
        (6, (BulkDiscountRule(3, "percent", 20), BulkDiscountRule(6, "fixed", 500)), 1200),
    ],
)
def test_bulk_discount_on_total_quantity(quantity, rules, discount):
    order = price([(product(price=1000), quantity)], bulk_rules=rules)
    assert order.bulk_discount == discount
    assert order.discount_total == discount
    assert_adds_up(order)


def test_coupon_percent_applies_after_the_bulk_discount():
    rules = (BulkDiscountRule(3, "percent", 10),)
    order = price(
        [(product(price=1000), 3)], bulk_rules=rules, coupon=CouponTerms(id=1, kind="percent", value=10)
    )
    # 3000 - 300 = 2700; 10 % of 2700 = 270
    assert (order.bulk_discount, order.coupon_discount, order.total) == (300, 270, 2430)


SHIPPING = ShippingTerms(
    base_fee=550,
    free_from=5000,
    prefecture_fees={"北海道": 990, "沖縄県": 1320},
    remote_island_surcharge=1100,
    cod_fees=((9999, 330), (29999, 440), (99999, 660)),
)


@pytest.mark.parametrize(
    ("unit", "prefecture", "remote", "fee"),
    [
        (3980, "東京都", False, 550),
        (5000, "東京都", False, 0),  # free from ¥5,000
        (3980, "北海道", False, 990),
        (3980, "沖縄県", True, 1320 + 1100),
        (6000, "沖縄県", True, 1100),  # free shipping keeps the remote-island surcharge
        (6000, "北海道", False, 0),
    ],
)
def test_shipping_fee(unit, prefecture, remote, fee):
    order = price([(product(price=unit), 1)], shipping=SHIPPING, prefecture=prefecture, remote_island=remote)
    assert order.shipping_fee == fee
    assert_adds_up(order)


def test_free_shipping_threshold_is_on_goods_after_discounts():
    order = price(
        [(product(price=5000), 1)], shipping=SHIPPING, coupon=CouponTerms(id=1, kind="fixed", value=500)
    )
    assert order.shipping_fee == 550
    assert order.total == 4500 + 550


@pytest.mark.parametrize(
    ("unit", "payment_kind", "cod_fee"),
    [
        (3980, "cod", 330),  # 3980 + 550 shipping = 4530 to collect
        (9450, "cod", 330),  # free shipping from ¥5,000: 9450 to collect
        (10000, "cod", 440),
        (29999, "cod", 440),
        (150000, "cod", 660),  # above the last row: its fee
        (3980, "card", 0),
    ],
)
def test_cash_on_delivery_fee(unit, payment_kind, cod_fee):
    order = price([(product(price=unit), 1)], shipping=SHIPPING, payment_kind=payment_kind)
    assert order.cod_fee == cod_fee
    assert_adds_up(order)


def test_shipping_and_cod_fee_are_taxed_at_the_standard_rate():
    order = price([(product(rate=8, price=3980), 1)], shipping=SHIPPING, payment_kind="cod")
    assert order.tax_summary == {
        "10": {"base": 880, "tax": 80},
        "8": {"base": 3980, "tax": 294},
    }


@pytest.mark.parametrize(
    ("requested", "used", "total"),
    [(0, 0, 3980), (500, 500, 3480), (3980, 3980, 0), (99999, 3980, 0)],
)
def test_points_used_are_at_most_the_order_total(requested, used, total):
    order = price([(product(price=3980), 1)], points_requested=requested)
    assert (order.points_used, order.total) == (used, total)
    assert_adds_up(order)


def test_points_can_pay_shipping_too():
    order = price([(product(rate=8, price=1000), 1)], shipping=SHIPPING, points_requested=1550)
    assert order.points_used == 1550
    assert order.tax_summary == {"10": {"base": 0, "tax": 0}, "8": {"base": 0, "tax": 0}}


def test_everything_at_once_adds_up():
    items = [
        (product(1, rate=10, price=1980, course_prices=((1, 980), (2, 1780))), 2),
        (product(2, rate=8, price=777, tiers=((1, 777), (3, 700))), 3),
        (product(3, rate=8, price=129), 7),
    ]
    order = price(
        items,
        sequence=2,
        shipping=SHIPPING,
        prefecture="北海道",
        payment_kind="cod",
        bulk_rules=(BulkDiscountRule(10, "percent", 5),),
        coupon=CouponTerms(id=3, kind="percent", value=15),
        points_requested=1234,
    )
    # 3560 + 2100 + 903 = 6563; bulk 5 % = 328; coupon 15 % of 6235 = 935
    assert (order.items_subtotal, order.bulk_discount, order.coupon_discount) == (6563, 328, 935)
    # goods 5300 ≥ 5000: free shipping; collect 5300 → COD ¥330
    assert (order.shipping_fee, order.cod_fee, order.points_used, order.total) == (0, 330, 1234, 4396)
    assert_adds_up(order)


def test_an_order_without_items_costs_nothing():
    order = price([], shipping=SHIPPING, payment_kind="cod", points_requested=100)
    assert (order.total, order.shipping_fee, order.cod_fee, order.tax_summary) == (0, 0, 0, {})
