"""The nightly generation of child orders: what each due subscription becomes, exactly once."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.models import PaymentMethod
from orders.models import Order, OrderStatus
from scheduler.generation import generate_due
from subscriptions.models import ShopPolicy, Subscription, SubscriptionEvent, SubscriptionStatus
from tests.factories import CourseFactory, ProductFactory, SubscriptionFactory

# SubscriptionFactory: monthly from 2027-01-31 (a Sunday). With the default policy (lead 5 business
# days, closed Sat/Sun and holidays) its first order is created on Monday 2027-01-25.
CREATION = dt.date(2027, 1, 25)
DELIVERY = dt.date(2027, 1, 31)

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["copy", "orm"])
def writer(request, settings):  # noqa: ANN001, ANN201
    """Both writers behind write_batch must do the same thing."""
    settings.NIGHTLY_WRITER = request.param
    return request.param


def test_a_due_subscription_gets_one_priced_order_and_its_schedule_moves_on(policy, writer) -> None:
    # given a due subscription with a time slot and a card
    sub = SubscriptionFactory(delivery_time_slot="14-16")
    card = PaymentMethod.objects.create(customer=sub.customer, kind="card", last4="4242", brand="visa")
    Subscription.objects.filter(pk=sub.pk).update(payment_method=card)
    assert sub.next_creation_date == CREATION

    # when the night of its creation date runs
    result = generate_due(run_date=CREATION)

    # then one order copies the delivery, slot, address and card, priced for the first delivery
    assert (result.due, result.orders_created, result.held) == (1, 1, 0)
    order = Order.objects.get(subscription=sub)
    assert order.sequence == 1
    assert order.status == OrderStatus.NEW
    assert (order.creation_date, order.delivery_date, order.delivery_time_slot) == (
        CREATION,
        DELIVERY,
        "14-16",
    )
    assert order.ship_prefecture == "東京都" and order.ship_name == sub.shipping_address.recipient_name
    assert (order.payment_method_id, order.payment_kind) == (card.pk, "card")
    line = order.lines.get()
    assert (line.quantity, line.unit_price, line.line_total, line.tax_rate) == (1, 980, 980, 8)
    assert order.items_subtotal == 980
    assert order.total == order.items_subtotal - order.discount_total + order.shipping_fee + order.cod_fee
    # and the schedule, both counters and the timeline moved on in the same transaction
    sub.refresh_from_db()
    assert (sub.next_sequence, sub.next_delivery_date) == (2, dt.date(2027, 2, 28))
    assert sub.next_creation_date > CREATION
    assert (sub.orders_created, sub.cycle_count, sub.last_delivery_date) == (1, 1, DELIVERY)
    event = SubscriptionEvent.objects.get(subscription=sub, kind="order_created")
    assert event.actor_kind == "system"
    assert event.after["order_id"] == order.pk and event.after["sequence"] == 1


def test_the_price_keys_on_the_cycle_count_so_a_given_back_cycle_is_priced_again(policy, writer) -> None:
    # given two due subscriptions at the same sequence: one whose earlier order was given back
    regular = SubscriptionFactory(next_sequence=2, anchor_sequence=1, cycle_count=1, orders_created=1)
    given_back = SubscriptionFactory(next_sequence=2, anchor_sequence=1, cycle_count=0, orders_created=1)
    run_date = regular.next_creation_date

    # when they are generated
    generate_due(run_date=run_date)

    # then the regular one pays the second-delivery price and the given-back one the first
    assert Order.objects.get(subscription=regular).lines.get().unit_price == 3980
    assert Order.objects.get(subscription=given_back).lines.get().unit_price == 980
    given_back.refresh_from_db()
    assert (given_back.cycle_count, given_back.orders_created) == (1, 2)


def test_a_repeated_run_creates_nothing(policy, writer) -> None:
    SubscriptionFactory.create_batch(3)
    first = generate_due(run_date=CREATION)
    second = generate_due(run_date=CREATION)
    assert (first.orders_created, second.due, second.orders_created) == (3, 0, 0)
    assert Order.objects.count() == 3


def test_rows_that_are_not_due_or_not_active_are_left_alone(policy) -> None:
    later = SubscriptionFactory(anchor_date=dt.date(2027, 3, 31))
    paused = SubscriptionFactory(status=SubscriptionStatus.PAUSED)
    cancelled = SubscriptionFactory(status=SubscriptionStatus.CANCELLED)
    result = generate_due(run_date=CREATION)
    assert result.due == 0
    assert not Order.objects.filter(subscription__in=[later, paused, cancelled]).exists()


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda sub: sub.customer.__class__.objects.filter(pk=sub.customer_id).update(is_blacklisted=True), "blacklisted"),
        (lambda sub: sub.shipping_address.__class__.objects.filter(pk=sub.shipping_address_id).update(is_invalid=True), "bad_address"),
        (lambda sub: Subscription.objects.filter(pk=sub.pk).update(shipping_address=None), "bad_address"),
        (lambda sub: Subscription.objects.filter(pk=sub.pk).update(needs_attention=["payment_failed"]), "payment_failed"),
    ],
    ids=["blacklisted", "invalid-address", "no-address", "needs-attention"],
)  # fmt: skip
def test_needs_attention_rows_still_get_their_order_on_hold_with_the_reason(
    policy, writer, setup, reason
) -> None:
    # given a due subscription that needs attention
    sub = SubscriptionFactory()
    setup(sub)

    # when the night runs
    result = generate_due(run_date=CREATION)

    # then its order exists, on hold with the reason, and the schedule still moved on
    order = Order.objects.get(subscription=sub)
    assert order.status == OrderStatus.ON_HOLD
    assert reason in order.hold_reasons
    assert result.held == 1
    sub.refresh_from_db()
    assert sub.next_sequence == 2


def _two_subscriptions_sharing_stock(stock: int) -> tuple[Subscription, Subscription, object]:
    product = ProductFactory(stock=stock)
    course = CourseFactory(setup=product)
    first = SubscriptionFactory(course=course)
    second = SubscriptionFactory(course=course)
    return first, second, product


def test_hold_policy_holds_the_order_that_stock_cannot_cover(policy, writer) -> None:
    # given one unit in stock and two due subscriptions for it, shortfall policy "hold"
    first, second, product = _two_subscriptions_sharing_stock(stock=1)

    # when the night runs
    result = generate_due(run_date=CREATION)

    # then the first takes the unit; the second is created on hold and its subscription needs attention
    product.refresh_from_db()
    assert product.stock == 0
    assert Order.objects.get(subscription=first).status == OrderStatus.NEW
    held = Order.objects.get(subscription=second)
    assert (held.status, held.hold_reasons) == (OrderStatus.ON_HOLD, ["stock_short"])
    second.refresh_from_db()
    assert second.needs_attention == ["stock_short"]
    assert result.held == 1


def test_skip_policy_skips_the_delivery_and_tells_the_customer(
    policy, writer, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # noqa: E501
    # given one unit in stock, two due subscriptions, shortfall policy "skip"
    ShopPolicy.objects.filter(pk=policy.pk).update(stock_shortfall="skip")
    first, second, _product = _two_subscriptions_sharing_stock(stock=1)

    # when the night runs
    with django_capture_on_commit_callbacks(execute=True):
        result = generate_due(run_date=CREATION)

    # then the second gets no order, its sequence 1 is skipped, later dates keep their place
    assert result.skipped == 1 and result.orders_created == 1
    assert not Order.objects.filter(subscription=second).exists()
    second.refresh_from_db()
    assert second.skipped_sequences == [1]
    assert (second.next_sequence, second.next_delivery_date) == (2, dt.date(2027, 2, 28))
    assert (second.orders_created, second.cycle_count) == (0, 0)
    assert SubscriptionEvent.objects.filter(subscription=second, kind="sequence_skipped_stock_short").exists()
    # and the customer is told once
    assert [m.to for m in mailoutbox] == [[second.customer.user.email]]
    assert "お休み" in mailoutbox[0].subject


def test_a_missed_night_catches_up_once_and_moves_a_date_that_cannot_be_met(policy, writer) -> None:
    # given a subscription whose order should have been created on Monday 25th for Sunday 31st
    sub = SubscriptionFactory()

    # when the run only happens on Friday 29th (the earliest reachable delivery is then Fri Feb 5)
    result = generate_due(run_date=dt.date(2027, 1, 29))

    # then one order, delivered on the first date that can still be met, and the event says so
    order = Order.objects.get(subscription=sub)
    assert order.delivery_date == dt.date(2027, 2, 5)
    assert result.moved == 1
    event = SubscriptionEvent.objects.get(subscription=sub, kind="order_created")
    assert (event.after["moved_from"], event.after["moved_to"]) == ("2027-01-31", "2027-02-05")
    # and the schedule re-anchors there: later deliveries keep the monthly cycle from the new date
    sub.refresh_from_db()
    assert (sub.anchor_date, sub.anchor_sequence) == (dt.date(2027, 2, 5), 1)
    assert (sub.next_sequence, sub.next_delivery_date) == (2, dt.date(2027, 3, 5))


def test_a_row_due_for_many_past_dates_gets_one_order_in_one_run(policy, writer) -> None:
    # given a weekly subscription whose schedule stood still for two months
    sub = SubscriptionFactory(cycle_unit="week", anchor_date=dt.date(2027, 1, 4))
    run_date = dt.date(2027, 3, 1)

    # when the night runs, twice
    generate_due(run_date=run_date)
    generate_due(run_date=run_date)

    # then exactly one order, and the next one is due on a later night
    assert Order.objects.filter(subscription=sub).count() == 1
    sub.refresh_from_db()
    assert sub.next_creation_date > run_date


def test_two_deliveries_created_the_same_day_are_never_two_orders_in_one_run(policy, writer) -> None:
    # given a daily subscription: with weekends closed, Saturday's and Sunday's orders are both
    # created on the same Friday
    sub = SubscriptionFactory(cycle_unit="day", anchor_date=dt.date(2027, 2, 6))  # a Saturday
    run_date = sub.next_creation_date

    # when that night runs
    generate_due(run_date=run_date)

    # then only Saturday's order exists; Sunday's waits for the next night, though already due
    assert list(Order.objects.filter(subscription=sub).values_list("sequence", flat=True)) == [1]
    sub.refresh_from_db()
    assert sub.next_creation_date <= run_date


def test_an_order_that_already_exists_is_not_duplicated_and_the_schedule_moves_on(policy, writer) -> None:
    # given a due subscription whose order for this sequence was made by hand
    sub = SubscriptionFactory()
    address = sub.shipping_address
    Order.objects.create(
        customer=sub.customer,
        subscription=sub,
        sequence=1,
        creation_date=dt.date(2027, 1, 20),
        **address.snapshot(),
    )

    # when the night runs
    result = generate_due(run_date=CREATION)

    # then no second order; the schedule moves on and the timeline says why
    assert result.orders_created == 0
    assert Order.objects.filter(subscription=sub).count() == 1
    sub.refresh_from_db()
    assert sub.next_sequence == 2
    assert SubscriptionEvent.objects.filter(subscription=sub, kind="schedule_advanced").exists()


def test_a_batch_costs_no_more_queries_when_it_is_bigger(
    policy, writer, django_assert_max_num_queries
) -> None:  # noqa: E501
    # given 5 due subscriptions (35 queries a run, and 2 more since the run reads the shop's order
    # rules and whether any product is a pre-order, once per run)
    for _ in range(5):
        SubscriptionFactory()
    with django_assert_max_num_queries(37) as small:
        generate_due(run_date=CREATION)
    # and then 40 more, each with its own course, product and customer
    for _ in range(40):
        SubscriptionFactory()
    with django_assert_max_num_queries(37) as large:
        generate_due(run_date=CREATION)
    # (the first run may also create the shop's settings rows, so the second may be cheaper still)
    assert len(large.captured_queries) <= len(small.captured_queries)


def test_batches_split_the_work_and_each_row_is_done_once(policy, writer) -> None:
    subs = SubscriptionFactory.create_batch(7)
    seen = []
    result = generate_due(run_date=CREATION, batch_size=3, progress=lambda r: seen.append(r.due))
    assert seen == [3, 3, 1]
    assert result.orders_created == 7
    assert set(Order.objects.values_list("subscription_id", flat=True)) == {s.pk for s in subs}


def test_the_coupon_and_the_point_reservation_are_carried_over_and_recorded(policy, writer) -> None:  # noqa: ANN001
    # given a due subscription with a ¥300 coupon for every delivery and "use all my points" (500)
    from pricing.models import Coupon, CouponRedemption, PointAccount, PointEntry
    from pricing.services.points import points_adjust
    from subscriptions.actors import Actor

    sub = SubscriptionFactory(points_reservation="all")
    coupon = Coupon.objects.create(
        code="TEIKI300", name="定期300円引き", kind="fixed", value=300, applies_to="all"
    )
    Subscription.objects.filter(pk=sub.pk).update(coupon=coupon)
    points_adjust(customer_id=sub.customer_id, amount=500, note="付与", actor=Actor.system(), today=CREATION)

    # when the night runs
    generate_due(run_date=CREATION)

    # then the order carries both, and the redemption and the point use are written with it
    order = Order.objects.get(subscription=sub)
    assert (order.coupon_id, order.discount_total) == (coupon.pk, 300)
    assert order.points_used == min(500, 980 - 300 + order.shipping_fee + order.cod_fee)
    assert order.total == 980 - 300 + order.shipping_fee + order.cod_fee - order.points_used
    assert CouponRedemption.objects.filter(order=order, coupon=coupon, sequence=1).count() == 1
    assert PointEntry.objects.filter(order=order, amount=-order.points_used).count() == 1
    assert PointAccount.objects.get(customer_id=sub.customer_id).balance == 500 - order.points_used


def test_text_that_copy_must_escape_is_written_as_is(policy, writer) -> None:
    # given a product whose SKU and name hold a backslash, a tab and a newline
    product = ProductFactory(sku="AO\\JIRU\t1", name="青汁\n(旧\\新)\tお試し")
    sub = SubscriptionFactory(course=CourseFactory(setup=product))

    # when the night runs
    generate_due(run_date=CREATION)

    # then the line keeps them exactly
    line = Order.objects.get(subscription=sub).lines.get()
    assert (line.sku, line.product_name) == ("AO\\JIRU\t1", "青汁\n(旧\\新)\tお試し")


def test_subscriptions_priced_alike_still_get_their_own_lines(policy, writer) -> None:
    # given three subscriptions of one course, two alike and one with another quantity
    course = CourseFactory()
    alike = SubscriptionFactory.create_batch(2, course=course)
    other = SubscriptionFactory(course=course)
    other.items.update(quantity=3)

    # when the night runs
    generate_due(run_date=CREATION)

    # then each order has its own line, the alike ones priced the same
    orders = {o.subscription_id: o for o in Order.objects.prefetch_related("lines")}
    lines = {
        sub_id: list(o.lines.values_list("order_id", "quantity", "line_total"))
        for sub_id, o in orders.items()
    }
    for sub in alike:
        assert lines[sub.pk] == [(orders[sub.pk].pk, 1, 980)]
    assert lines[other.pk] == [(orders[other.pk].pk, 3, 2940)]
    assert orders[alike[0].pk].tax_summary == orders[alike[1].pk].tax_summary


def test_a_run_prices_with_the_catalogue_as_it_was_when_the_run_started(policy) -> None:
    # given two due subscriptions of one course, generated one per batch
    course = CourseFactory()
    SubscriptionFactory.create_batch(2, course=course)
    from catalog.models import CoursePrice

    def raise_the_price(_result) -> None:  # noqa: ANN001
        CoursePrice.objects.filter(course=course, from_sequence=1).update(unit_price=1280)

    # when the first-order price is raised between the run's batches
    generate_due(run_date=CREATION, batch_size=1, progress=raise_the_price)

    # then both orders of that run have the price of when it started; the next run the new one
    assert [o.lines.get().unit_price for o in Order.objects.order_by("id")] == [980, 980]
    third = SubscriptionFactory(course=course)
    generate_due(run_date=CREATION)
    assert Order.objects.get(subscription=third).lines.get().unit_price == 1280


def test_a_coupon_ended_between_batches_is_not_used_by_later_batches(policy) -> None:
    # given two due subscriptions with the same coupon, generated one per batch
    from pricing.models import Coupon

    coupon = Coupon.objects.create(code="ALL100", name="毎回100円", kind="fixed", value=100, applies_to="all")
    subs = SubscriptionFactory.create_batch(2)
    Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(coupon=coupon)

    def end_the_coupon(_result) -> None:  # noqa: ANN001
        Coupon.objects.filter(pk=coupon.pk).update(is_active=False)

    # when the coupon is ended after the first batch
    generate_due(run_date=CREATION, batch_size=1, progress=end_the_coupon)

    # then only the first order has it: coupons are read per batch, not per run
    assert list(Order.objects.order_by("id").values_list("coupon_id", "discount_total")) == [
        (coupon.pk, 100),
        (None, 0),
    ]


@pytest.mark.parametrize("bases", [{10: 1234, 8: 5678}, {8: 5}, {10: 0}, {}])
def test_the_copy_writers_tax_summary_text_is_what_json_dumps_writes(bases) -> None:
    import json

    from core.tax import tax_summary
    from scheduler.generation.writers import _tax_summary_json

    summary = tax_summary(bases)
    assert _tax_summary_json(summary) == json.dumps(summary)


def _blacklisted_person(**fields: str) -> object:
    from tests.factories import CustomerFactory

    bad = CustomerFactory(is_blacklisted=True, name_kana="タカハシ イチロウ", **fields)
    return bad


@pytest.mark.parametrize(
    ("profile", "held"),
    [
        # the blacklisted person under a new account: name in other widths/old forms + phone written differently
        ({"name": "髙橋　一郎", "phone": "０９０（５５５５）１２３４"}, True),
        ({"name": "高橋一郎", "email": "TAKA@EXAMPLE.JP"}, True),
        ({"name": "高橋一郎"}, False),  # a namesake: one key is not enough
        ({"phone": "090-5555-1234", "email": "someone-else@example.jp"}, False),
    ],
    ids=["name+phone", "name+email", "name-only", "phone-only"],
)
def test_an_order_whose_customer_looks_like_a_blacklisted_one_is_held(policy, writer, profile, held) -> None:
    # given a blacklisted customer, and a due subscription of a customer who may be the same person
    bad = _blacklisted_person(name="高橋 一郎", phone="090-5555-1234")
    bad.user.email = "taka@example.jp"
    bad.user.save()
    sub = SubscriptionFactory()
    customer = sub.customer
    for name, value in profile.items():
        if name == "email":
            customer.user.email = value
            customer.user.save()
        else:
            setattr(customer, name, value)
    customer.save()

    # when the night runs
    generate_due(run_date=CREATION)

    # then the order is held for the similarity exactly when two keys agree
    order = Order.objects.get(subscription=sub)
    assert (order.status == OrderStatus.ON_HOLD) is held
    assert ("similar_to_blacklisted" in order.hold_reasons) is held


def test_the_blacklist_check_costs_no_query_per_order(policy, writer, django_assert_max_num_queries) -> None:
    # given a blacklist and 30 due subscriptions whose customers all look like the blacklisted one
    _blacklisted_person(name="高橋 一郎", phone="090-5555-1234")
    subs = SubscriptionFactory.create_batch(30)
    from customers.models import Customer

    Customer.objects.filter(subscriptions__in=subs).update(
        name="ﾀｶﾊｼ", name_kana="高橋一郎", phone="09055551234"
    )
    # when the night runs, then the queries do not grow with the orders checked (38: a run's own
    # reads, as in test_a_batch_costs_no_more_queries_when_it_is_bigger, plus the blacklist's keys)
    with django_assert_max_num_queries(38):
        generate_due(run_date=CREATION)
    assert Order.objects.filter(hold_reasons__contains=["similar_to_blacklisted"]).count() == 30


@pytest.mark.parametrize(
    ("gift", "ship_name", "expected"),
    [
        ({"wrapping": True, "message": "お誕生日おめでとう"}, None, (True, True, "お誕生日おめでとう")),
        (None, "佐藤 一郎", (True, False, "")),  # the recipient is someone else
        (None, None, (False, False, "")),
    ],
    ids=["gift-subscription", "other-recipient", "own-order"],
)
def test_orders_inherit_the_gift_setting(policy, writer, gift, ship_name, expected) -> None:  # noqa: ANN001
    from orders.models import SubscriptionGift

    sub = SubscriptionFactory()
    if gift:
        SubscriptionGift.objects.create(subscription=sub, **gift)
    if ship_name:
        type(sub.shipping_address).objects.filter(pk=sub.shipping_address_id).update(recipient_name=ship_name)
    generate_due(run_date=CREATION)
    order = Order.objects.get(subscription=sub)
    assert (order.is_gift, order.gift_wrapping, order.gift_message) == expected


@pytest.mark.parametrize(
    ("address", "reason", "remote"),
    [
        ({"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区"}, None, False),
        ({"postal_code": "100-0001", "prefecture": "大阪府", "city": "千代田区"}, "address_mismatch", False),
        ({"postal_code": "000-0000", "prefecture": "東京都", "city": "千代田区"}, "address_mismatch", False),
        ({"postal_code": "952-0000", "prefecture": "新潟県", "city": "佐渡市"}, None, True),  # 離島, unticked
    ],
    ids=["agrees", "other-prefecture", "no-such-code", "remote-island"],
)
def test_the_address_is_checked_against_the_postal_data(policy, writer, address, reason, remote) -> None:  # noqa: ANN001
    sub = SubscriptionFactory()
    type(sub.shipping_address).objects.filter(pk=sub.shipping_address_id).update(**address)
    generate_due(run_date=CREATION)
    order = Order.objects.get(subscription=sub)
    assert (reason in order.hold_reasons) if reason else order.hold_reasons == []
    assert order.ship_remote_island is remote
