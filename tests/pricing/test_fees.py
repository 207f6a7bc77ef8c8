"""Delivery-method fees and the gift-wrapping fee in price_order (issues 11 and 12): tables."""

import pytest

from catalog.packaging import MethodTerms, Package
from pricing.delivery import MethodOption, delivery_terms
from pricing.pricing import NO_METHOD, CouponTerms, DeliveryTerms, ProductPrices, ShippingTerms, price_order

SHIPPING = ShippingTerms(
    base_fee=550,
    free_from=5000,
    prefecture_fees={"北海道": 990, "沖縄県": 1320},
    remote_island_surcharge=1100,
    cod_fees=((9999, 330), (29999, 440), (99999, 660)),
)
PARCEL = DeliveryTerms(1, "parcel", None)  # 宅配便: the shop's table
MAIL_BIN = DeliveryTerms(2, "mail_bin", 220)  # メール便: 全国一律 ¥220
NEVER_FREE = ShippingTerms(base_fee=550, remote_island_surcharge=1100)


def product(pid=1, *, rate=10, price=3980):
    return ProductPrices(product_id=pid, sku=f"SKU-{pid}", name=f"商品{pid}", tax_rate=rate, list_price=price)


def price(items, *, shipping=SHIPPING, prefecture="東京都", **kw):
    return price_order(items=items, sequence=1, shipping=shipping, prefecture=prefecture, **kw)


def assert_adds_up(order):
    assert order.total == (
        order.items_subtotal
        - order.discount_total
        + order.shipping_fee
        + order.wrapping_fee
        + order.cod_fee
        - order.points_used
    )
    assert sum(r["base"] for r in order.tax_summary.values()) == order.total


@pytest.mark.parametrize(
    ("unit", "prefecture", "remote", "delivery", "shipping", "fee"),
    [
        (3980, "東京都", False, NO_METHOD, SHIPPING, 550),  # no method: the table, as before
        (3980, "北海道", False, NO_METHOD, SHIPPING, 990),
        (3980, "東京都", False, PARCEL, SHIPPING, 550),  # a table method: the same table
        (3980, "北海道", False, PARCEL, SHIPPING, 990),
        (3980, "沖縄県", True, PARCEL, SHIPPING, 1320 + 1100),
        (6000, "沖縄県", True, PARCEL, SHIPPING, 1100),  # free shipping keeps the island surcharge
        (3980, "東京都", False, MAIL_BIN, SHIPPING, 220),  # a flat method: its fee
        (3980, "北海道", False, MAIL_BIN, SHIPPING, 220),  # … in place of the prefecture's fee
        (3980, "沖縄県", True, MAIL_BIN, SHIPPING, 220),  # … and without the island surcharge
        (5000, "東京都", False, MAIL_BIN, SHIPPING, 0),  # the free-shipping threshold waives it too
        (6000, "沖縄県", True, MAIL_BIN, SHIPPING, 0),
        (99999, "東京都", False, MAIL_BIN, NEVER_FREE, 220),  # a shop without a threshold
    ],
)
def test_method_fee_against_the_shop_table(unit, prefecture, remote, delivery, shipping, fee):
    order = price(
        [(product(price=unit), 1)],
        shipping=shipping,
        prefecture=prefecture,
        remote_island=remote,
        delivery=delivery,
    )
    assert order.shipping_fee == fee
    assert order.delivery == delivery
    assert order.order_fields()["delivery_method_id"] == delivery.method_id
    assert_adds_up(order)


def test_the_threshold_is_on_goods_after_the_coupon_for_a_flat_method_too():
    coupon = CouponTerms(id=1, kind="fixed", value=500)
    order = price([(product(price=5000), 1)], delivery=MAIL_BIN, coupon=coupon)
    assert (order.shipping_fee, order.total) == (220, 4500 + 220)


@pytest.mark.parametrize(
    ("items", "kw", "expected"),
    [
        # wrapping alone: its own amount, at 10 % beside an 8 % item; 330*10/110 = 30
        (
            [(product(rate=8, price=3980), 1)],
            {"shipping": ShippingTerms(), "wrapping_fee": 330},
            {
                "wrapping_fee": 330,
                "total": 4310,
                "tax": {"10": {"base": 330, "tax": 30}, "8": {"base": 3980, "tax": 294}},
            },
        ),
        # with shipping: one 10 % base of 550 + 330, taxed once: 880*10/110 = 80
        (
            [(product(rate=8, price=3980), 1)],
            {"wrapping_fee": 330},
            {
                "shipping_fee": 550,
                "total": 4860,
                "tax": {"10": {"base": 880, "tax": 80}, "8": {"base": 3980, "tax": 294}},
            },
        ),
        # wrapping does not count towards free shipping (goods 4800 < 5000)
        ([(product(price=4800), 1)], {"wrapping_fee": 330}, {"shipping_fee": 550, "total": 5680}),
        # the coupon discounts the goods only, never the wrapping or the shipping
        (
            [(product(price=3980), 1)],
            {"wrapping_fee": 330, "coupon": CouponTerms(id=1, kind="percent", value=100)},
            {"discount_total": 3980, "shipping_fee": 550, "total": 880},
        ),
        # points pay the wrapping too, split over both rates: 1000 × 3000/3330 → 901 (the leftover
        # yen to the larger base), 99 from the 10 % base; 2099*8/108 = 155.4, 231*10/110 = 21
        (
            [(product(rate=8, price=3000), 1)],
            {"shipping": ShippingTerms(), "wrapping_fee": 330, "points_requested": 1000},
            {
                "points_used": 1000,
                "total": 2330,
                "tax": {"10": {"base": 231, "tax": 21}, "8": {"base": 2099, "tax": 155}},
            },
        ),
        (
            [(product(rate=8, price=1000), 1)],
            {"shipping": ShippingTerms(), "wrapping_fee": 330, "points_requested": 99999},
            {
                "points_used": 1330,
                "total": 0,
                "tax": {"10": {"base": 0, "tax": 0}, "8": {"base": 0, "tax": 0}},
            },
        ),
        # cash on delivery collects the wrapping too: 9500 (free shipping) + 550 = 10,050 → ¥440
        (
            [(product(price=9500), 1)],
            {"wrapping_fee": 550, "payment_kind": "cod"},
            {"cod_fee": 440, "total": 10490},
        ),
        ([(product(price=9500), 1)], {"payment_kind": "cod"}, {"cod_fee": 330, "total": 9830}),
        # tax once per rate, not per line: 1005 + 555 + 335 = 1895 → 172 (per line 91 + 50 + 30 = 171)
        (
            [(product(price=1005), 1)],
            {"wrapping_fee": 335, "delivery": DeliveryTerms(2, "mail_bin", 555)},
            {"shipping_fee": 555, "total": 1895, "tax": {"10": {"base": 1895, "tax": 172}}},
        ),
        # mail-bin fee and wrapping together, to a remote island
        (
            [(product(rate=8, price=2000), 1)],
            {"wrapping_fee": 330, "delivery": MAIL_BIN, "prefecture": "沖縄県", "remote_island": True},
            {
                "shipping_fee": 220,
                "total": 2550,
                "tax": {"10": {"base": 550, "tax": 50}, "8": {"base": 2000, "tax": 148}},
            },
        ),
        # no wrapping, no line
        ([(product(price=3980), 1)], {}, {"wrapping_fee": 0, "total": 4530}),
        # an order without items costs nothing, wrapping included
        (
            [],
            {"wrapping_fee": 330, "delivery": MAIL_BIN},
            {"wrapping_fee": 0, "shipping_fee": 0, "total": 0, "tax": {}},
        ),
    ],
)
def test_gift_wrapping_is_its_own_standard_rate_line(items, kw, expected):
    order = price(items, **kw)
    got = {
        "wrapping_fee": order.wrapping_fee,
        "shipping_fee": order.shipping_fee,
        "cod_fee": order.cod_fee,
        "discount_total": order.discount_total,
        "points_used": order.points_used,
        "total": order.total,
        "tax": order.tax_summary,
    }
    assert {k: got[k] for k in expected} == expected
    assert order.order_fields()["wrapping_fee"] == order.wrapping_fee
    assert_adds_up(order)


# Methods as a shop sets them up: 宅配便 by the table (the default), メール便 ¥220 assigned
# automatically up to 20 mm and 1 kg, ネコポス ¥385 up to 30 mm only when asked for.
PARCEL_OPTION = MethodOption(1, "宅配便", MethodTerms("parcel", 0, is_default=True), None)
MAIL_OPTION = MethodOption(
    2,
    "メール便",
    MethodTerms(
        "mail_bin", 0, max_length_mm=340, max_width_mm=250, max_thickness_mm=20, max_weight_g=1000,
        allows_time_slot=False, allows_cod=False, auto_assign=True,
    ),
    220,
)  # fmt: skip
NEKOPOS_OPTION = MethodOption(
    3,
    "ネコポス",
    MethodTerms(
        "nekopos", 0, max_length_mm=312, max_width_mm=228, max_thickness_mm=30, max_weight_g=1000,
        allows_time_slot=False, allows_cod=False,
    ),
    385,
)  # fmt: skip
METHODS = (PARCEL_OPTION, MAIL_OPTION, NEKOPOS_OPTION)
THIN = Package(200, 150, 10, 200)
THICK = Package(200, 150, 25, 300)
CHEAP_TOKYO = ShippingTerms(base_fee=550, prefecture_fees={"東京都": 150}, remote_island_surcharge=1100)


@pytest.mark.parametrize(
    ("packages", "kw", "method", "offered", "misfits"),
    [
        ([(THIN, 1)], {}, "mail_bin", (), {}),
        ([(THIN, 2)], {}, "mail_bin", (), {}),  # 20 mm stacked: still fits
        ([(THIN, 3)], {}, "parcel", ("nekopos",), {"mail_bin": ["too_thick"]}),  # 30 mm
        ([(THICK, 1)], {}, "parcel", ("nekopos",), {"mail_bin": ["too_thick"]}),
        (
            [(THIN, 1)],
            {"time_slot": True},
            "parcel",
            (),
            {"mail_bin": ["no_time_slot"], "nekopos": ["no_time_slot"]},
        ),
        ([(THIN, 1)], {"cod": True}, "parcel", (), {"mail_bin": ["no_cod"], "nekopos": ["no_cod"]}),
        ([(Package(), 1)], {}, "parcel", (), {"mail_bin": ["unmeasured"], "nekopos": ["unmeasured"]}),
        # compared on the fee to this address: Tokyo's table fee (¥150) beats mail-bin's ¥220 …
        ([(THIN, 1)], {"shipping": CHEAP_TOKYO}, "parcel", (), {}),
        # … Hokkaido's (the base ¥550) does not, nor an island's surcharge on Tokyo's fee
        ([(THIN, 1)], {"shipping": CHEAP_TOKYO, "prefecture": "北海道"}, "mail_bin", (), {}),
        ([(THIN, 1)], {"shipping": CHEAP_TOKYO, "remote_island": True}, "mail_bin", (), {}),
        # the customer's request is honoured when it fits, refused (with the reason) when not
        ([(THIN, 1)], {"requested": "nekopos"}, "nekopos", ("mail_bin",), {}),
        (
            [(THICK, 2)],
            {"requested": "nekopos"},
            "parcel",
            (),
            {"mail_bin": ["too_thick"], "nekopos": ["too_thick"]},
        ),
    ],
)
def test_the_method_is_decided_on_each_method_fee_to_the_address(packages, kw, method, offered, misfits):
    args = {
        "shipping": SHIPPING,
        "prefecture": "東京都",
        "remote_island": False,
        "time_slot": False,
        "cod": False,
    }
    terms = delivery_terms(METHODS, packages, **{**args, **kw})
    assert terms.code == method
    assert terms.decision.offered == offered
    assert {code: [m.code for m in found] for code, found in terms.decision.misfits.items()} == misfits
    assert terms.flat_fee == {"parcel": None, "mail_bin": 220, "nekopos": 385}[method]
    assert terms.method_id == {"parcel": 1, "mail_bin": 2, "nekopos": 3}[method]


def test_without_methods_or_a_fitting_one_the_shop_table_applies():
    args = {
        "shipping": SHIPPING,
        "prefecture": "北海道",
        "remote_island": False,
        "time_slot": False,
        "cod": False,
    }
    assert delivery_terms((), [(THIN, 1)], **args) == NO_METHOD
    only_mail_bin = delivery_terms((MAIL_OPTION,), [(Package(), 1)], **args)
    assert (only_mail_bin.method_id, only_mail_bin.flat_fee) == (None, None)
    assert [m.code for m in only_mail_bin.decision.misfits["mail_bin"]] == ["unmeasured"]
    order = price([(product(), 1)], prefecture="北海道", delivery=only_mail_bin)
    assert order.shipping_fee == 990


def test_decided_method_priced_end_to_end():
    args = {
        "shipping": SHIPPING,
        "prefecture": "沖縄県",
        "remote_island": True,
        "time_slot": False,
        "cod": False,
    }
    thin = delivery_terms(METHODS, [(THIN, 1)], **args)
    thick = delivery_terms(METHODS, [(THICK, 2)], **args)
    assert price([(product(), 1)], delivery=thin, prefecture="沖縄県", remote_island=True).shipping_fee == 220
    assert (
        price([(product(), 2)], delivery=thick, prefecture="沖縄県", remote_island=True).shipping_fee == 1100
    )
