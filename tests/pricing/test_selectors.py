"""PricingBook: a batch priced from a fixed number of queries, with the catalogue's rules."""

import datetime as dt

import pytest

from catalog.models import BulkDiscount, CoursePrice, GroupPrice, ProductSalePrice, QuantityTier
from customers.models import CustomerGroup
from pricing.bulk import benefits_bulk_record
from pricing.models import (
    BillingPolicy,
    CodFee,
    Coupon,
    CouponRedemption,
    PointAccount,
    PointEntry,
    PrefectureShippingFee,
)
from pricing.selectors import PricingBook, PricingCatalog, subscription_next_order_price
from tests.factories import CourseFactory, CustomerFactory, ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
ON = dt.date(2027, 3, 10)


def _price(book, sub, *, sequence=1, items=None, payment_kind="card", prefecture="東京都", remote=False):
    if items is None:
        items = list(sub.items.values_list("product_id", "quantity"))
    return book.price_subscription_order(
        subscription=sub,
        items=items,
        price_sequence=sequence,
        payment_kind=payment_kind,
        address_prefecture=prefecture,
        remote_island=remote,
        gift_wrapping=False,
    )


def test_course_price_per_sequence_from_the_database():
    # given a course priced 1st ¥980, 2nd–3rd ¥2,980, 4th onward ¥3,480
    course = CourseFactory()
    product = course.items.get().product
    CoursePrice.objects.filter(course=course, from_sequence=2).update(unit_price=2980)
    CoursePrice.objects.create(course=course, product=product, from_sequence=4, unit_price=3480)
    sub = SubscriptionFactory(course=course)
    book = PricingBook.load(subscriptions=[sub], on=ON)
    # then
    assert [_price(book, sub, sequence=s).total for s in (1, 2, 3, 4, 9)] == [980, 2980, 2980, 3480, 3480]


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "unit"),
    [
        (dt.date(2027, 3, 1), dt.date(2027, 3, 31), 1500),
        (dt.date(2027, 3, 10), dt.date(2027, 3, 10), 1500),
        (dt.date(2027, 3, 11), None, 3980),
        (dt.date(2027, 2, 1), dt.date(2027, 3, 9), 3980),
        (dt.date(2027, 2, 1), None, 1500),
    ],
)
def test_sale_price_applies_inside_its_period_only(starts_on, ends_on, unit):
    sub = SubscriptionFactory()
    product = sub.items.get().product
    ProductSalePrice.objects.create(product=product, unit_price=1500, starts_on=starts_on, ends_on=ends_on)
    book = PricingBook.load(subscriptions=[sub], on=ON)
    assert _price(book, sub, sequence=5).lines[0].unit_price == unit


def test_quantity_tiers_group_prices_and_bulk_discounts():
    # given a gold customer, a ¥1,000 product with a 5-unit tier, a gold price and a bulk discount
    gold = CustomerGroup.objects.create(code="gold", name="ゴールド")
    product = ProductFactory(price=1000, tax_rate=10)
    course = CourseFactory(setup=product)
    CoursePrice.objects.filter(course=course).delete()
    QuantityTier.objects.create(product=product, min_quantity=5, unit_price=900)
    GroupPrice.objects.create(group=gold, product=product, unit_price=950)
    BulkDiscount.objects.create(min_quantity=6, kind="fixed", value=300)
    gold_sub = SubscriptionFactory(course=course, customer=CustomerFactory(group=gold))
    plain_sub = SubscriptionFactory(course=course)
    book = PricingBook.load(subscriptions=[gold_sub, plain_sub], on=ON)
    # then
    assert _price(book, plain_sub, items=[(product.pk, 1)]).total == 1000
    assert _price(book, gold_sub, items=[(product.pk, 1)]).total == 950
    assert _price(book, gold_sub, items=[(product.pk, 5)]).total == 4500
    six = _price(book, plain_sub, items=[(product.pk, 6)])
    assert (six.items_subtotal, six.discount_total, six.total) == (5400, 300, 5100)


def test_shipping_rules_and_cod_fee_come_from_the_policy():
    policy = BillingPolicy.current()
    policy.shipping_base_fee, policy.shipping_free_from, policy.remote_island_surcharge = 550, 5000, 1100
    policy.save()
    PrefectureShippingFee.objects.create(prefecture="北海道", fee=990)
    CodFee.objects.create(up_to_amount=9999, fee=330)
    CodFee.objects.create(up_to_amount=29999, fee=440)
    sub = SubscriptionFactory()
    book = PricingBook.load(subscriptions=[sub], on=ON)
    order = _price(book, sub, payment_kind="cod", prefecture="北海道", remote=True)
    assert (order.shipping_fee, order.cod_fee, order.total) == (990 + 1100, 330, 980 + 2090 + 330)


def test_points_reserved_are_capped_by_balance_and_total_and_members_only():
    rich = SubscriptionFactory(points_reservation="all")
    some = SubscriptionFactory(points_reservation="amount", points_reservation_amount=300)
    guest = SubscriptionFactory(points_reservation="all", customer=CustomerFactory(is_member=False))
    for sub, balance in ((rich, 5000), (some, 200), (guest, 500)):
        PointAccount.objects.create(customer=sub.customer, balance=balance)
    book = PricingBook.load(subscriptions=[rich, some, guest], on=ON)
    assert _price(book, rich).points_used == 980  # min(all = 5000, total 980)
    assert _price(book, some).points_used == 200  # min(300 reserved, balance 200)
    assert _price(book, guest).points_used == 0


def test_a_book_never_spends_the_same_points_twice():
    # given one customer with two subscriptions reserving all of a 1,000-point balance
    customer = CustomerFactory()
    first = SubscriptionFactory(customer=customer, points_reservation="all")
    second = SubscriptionFactory(customer=customer, points_reservation="all")
    PointAccount.objects.create(customer=customer, balance=1000)
    book = PricingBook.load(subscriptions=[first, second], on=ON)
    # then the second order only gets what the first left
    assert (_price(book, first).points_used, _price(book, second).points_used) == (980, 20)


def test_coupon_caps_in_a_batch():
    coupon = Coupon.objects.create(
        code="ONE", name="1名様", kind="fixed", value=100, applies_to="all", max_uses=1
    )
    a = SubscriptionFactory(coupon=coupon)
    b = SubscriptionFactory(coupon=coupon)
    book = PricingBook.load(subscriptions=[a, b], on=ON)
    first, second = _price(book, a), _price(book, b)
    assert (first.coupon_id, first.discount_total) == (coupon.pk, 100)
    assert (second.coupon_id, second.coupon_refusal, second.discount_total) == (None, "coupon_used_up", 0)


def test_load_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    # given 30 subscriptions over 3 courses, with coupons and points
    coupon = Coupon.objects.create(code="ALL", name="毎回", kind="percent", value=10, applies_to="all")
    courses = [CourseFactory() for _ in range(3)]
    subs = [
        SubscriptionFactory(course=courses[i % 3], coupon=coupon, points_reservation="all") for i in range(30)
    ]
    items = {s.pk: list(s.items.values_list("product_id", "quantity")) for s in subs}
    BillingPolicy.current()
    # when the whole batch is loaded and priced
    with django_assert_max_num_queries(14):
        book = PricingBook.load(subscriptions=subs, on=ON)
        for s in subs:
            _price(book, s, items=items[s.pk])


def test_record_benefits_writes_redemptions_and_point_uses(django_assert_max_num_queries):
    from orders.models import Order

    coupon = Coupon.objects.create(code="NEXT", name="次回", kind="fixed", value=100, applies_to="next")
    sub = SubscriptionFactory(coupon=coupon, points_reservation="all")
    PointAccount.objects.create(customer=sub.customer, balance=300)
    book = PricingBook.load(subscriptions=[sub], on=ON)
    priced = _price(book, sub)
    order = Order.objects.create(
        customer=sub.customer, subscription=sub, sequence=1, creation_date=ON, ship_name="x",
        ship_postal_code="1", ship_prefecture="東京都", ship_city="x", ship_line1="x", **priced.order_fields(),
    )  # fmt: skip
    with django_assert_max_num_queries(10):
        benefits_bulk_record(
            on=book.on, orders=[(order.pk, sub.customer_id, sub.pk, 1, priced.coupon_id, priced.points_used)]
        )
    assert CouponRedemption.objects.get().order == order
    entry = PointEntry.objects.get()
    assert (entry.kind, entry.amount, entry.order_id) == ("use", -300, order.pk)
    assert PointAccount.objects.get().balance == 0
    sub.refresh_from_db()
    assert sub.coupon_id is None  # a next-order-only coupon is spent
    event = sub.events.get(kind="coupon_changed")  # and the timeline says so, naming the order
    assert (event.actor_kind, event.before, event.after) == (
        "system",
        {"coupon_id": priced.coupon_id},
        {"coupon_id": None, "order_id": order.pk},
    )


def test_next_order_price_preview():
    sub = SubscriptionFactory()
    assert subscription_next_order_price(subscription=sub, on=ON, gift_wrapping=False).total == 980


def test_a_run_wide_catalogue_prices_like_a_batch_loaded_one_in_fewer_queries(django_assert_num_queries):
    # given subscriptions with course, sale, tier, group and bulk prices, and a catalogue loaded once
    gold = CustomerGroup.objects.create(code="gold", name="ゴールド")
    product = ProductFactory(price=1000, tax_rate=10)
    course = CourseFactory(setup=product)
    ProductSalePrice.objects.create(product=product, unit_price=970, starts_on=ON)
    QuantityTier.objects.create(product=product, min_quantity=5, unit_price=900)
    GroupPrice.objects.create(group=gold, product=product, unit_price=950)
    BulkDiscount.objects.create(course=course, min_quantity=6, kind="percent", value=5)
    subs = [SubscriptionFactory(course=course, customer=CustomerFactory(group=gold)), SubscriptionFactory()]
    items = {s.pk: list(s.items.values_list("product_id", "quantity")) for s in subs}
    customers = {s.customer_id: (s.customer.group_id, s.customer.is_member) for s in subs}
    catalog = PricingCatalog.load(on=ON)
    per_batch = PricingBook.load(subscriptions=subs, on=ON)

    # when a batch is loaded with it and its customers (no coupons, no points: nothing to read)
    with django_assert_num_queries(0):
        book = PricingBook.load(subscriptions=subs, on=ON, catalog=catalog, customers=customers)

    # then every order is priced as the batch-loaded book prices it
    for sub in subs:
        for sequence, quantity in ((1, 1), (2, 1), (2, 5), (3, 6)):
            lines = [(pid, quantity) for pid, _qty in items[sub.pk]]
            assert _price(book, sub, sequence=sequence, items=lines) == _price(
                per_batch, sub, sequence=sequence, items=lines
            )


def test_a_catalogue_is_for_one_business_date():
    sub = SubscriptionFactory()
    with pytest.raises(ValueError, match="2027-03-09"):
        PricingBook.load(
            subscriptions=[sub], on=ON, catalog=PricingCatalog.load(on=ON - dt.timedelta(days=1))
        )


def test_orders_priced_alike_still_count_coupon_caps_and_points_each():
    # given a one-use coupon and 1,000 points shared by two identical subscriptions of one customer
    coupon = Coupon.objects.create(
        code="ONCE", name="1回", kind="fixed", value=100, applies_to="all", max_uses=1
    )
    customer = CustomerFactory()
    course = CourseFactory()
    subs = [
        SubscriptionFactory(customer=customer, course=course, coupon=coupon, points_reservation="all")
        for _ in range(2)
    ]
    PointAccount.objects.create(customer=customer, balance=1000)
    catalog = PricingCatalog.load(on=ON)

    # when both are priced from one book on a shared catalogue (whose memo remembers priced orders)
    book = PricingBook.load(subscriptions=subs, on=ON, catalog=catalog)
    first, second = _price(book, subs[0]), _price(book, subs[1])

    # then the coupon goes to the first only, and the second gets the points the first left
    assert (first.coupon_id, first.points_used) == (coupon.pk, 880)
    assert (second.coupon_id, second.coupon_refusal, second.points_used) == (None, "coupon_used_up", 120)
    # and a later batch on the same catalogue with fresh counts is priced the same way again
    again = PricingBook.load(subscriptions=subs[:1], on=ON, catalog=catalog)
    assert _price(again, subs[0]) == first
