"""Points: earn on completion, use at generation, revert on cancel, adjust, expire; never negative."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from core.errors import DomainError
from pricing.bulk import benefits_bulk_record
from pricing.models import BillingPolicy, PointAccount, PointEntry
from pricing.selectors import PricingBook, points_balance
from pricing.services.points import (
    points_adjust,
    points_earn_for_order,
    points_expire,
    points_revert_for_order,
)
from subscriptions.actors import Actor
from tests.billing.helpers import make_order
from tests.factories import CustomerFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2027, 3, 10)
ADMIN = Actor.admin(None)


def ledger_sum(customer):
    return PointEntry.objects.filter(customer=customer).aggregate(s=Sum("amount"))["s"] or 0


def assert_consistent(customer):
    assert PointAccount.objects.get(customer=customer).balance == ledger_sum(customer) >= 0


def price_and_record(sub, *, on=TODAY):
    book = PricingBook.load(subscriptions=[sub], on=on)
    priced = book.price_subscription_order(
        subscription=sub, items=list(sub.items.values_list("product_id", "quantity")), price_sequence=2,
        payment_kind="card", address_prefecture="東京都", remote_island=False, gift_wrapping=False,
    )  # fmt: skip
    order = make_order(sub, sequence=2, priced=priced)
    benefits_bulk_record(
        on=book.on, orders=[(order.pk, sub.customer_id, sub.pk, 2, priced.coupon_id, priced.points_used)]
    )
    return order


@pytest.mark.parametrize(
    ("rate_bp", "subtotal", "earned"), [(100, 3980, 39), (150, 3980, 59), (100, 99, None)]
)
def test_earn_on_completion_at_the_policy_rate(rate_bp, subtotal, earned):
    BillingPolicy.objects.update_or_create(
        pk=1, defaults={"points_earn_rate_bp": rate_bp, "points_valid_days": 30}
    )
    sub = SubscriptionFactory()
    order = make_order(sub, items_subtotal=subtotal, total=subtotal, status="completed")
    entry = points_earn_for_order(order=order, today=TODAY)
    assert (entry.amount if entry else None) == earned
    if entry:
        assert entry.expires_on == TODAY + dt.timedelta(days=30)
        # earning twice is a no-op
        assert points_earn_for_order(order=order, today=TODAY).pk == entry.pk
        assert points_balance(sub.customer) == earned
        assert_consistent(sub.customer)


def test_guests_earn_nothing_and_have_no_balance():
    sub = SubscriptionFactory(customer=CustomerFactory(is_member=False))
    order = make_order(sub, items_subtotal=3980, total=3980)
    assert points_earn_for_order(order=order, today=TODAY) is None
    assert points_balance(sub.customer) == 0
    with pytest.raises(DomainError) as refused:
        points_adjust(customer_id=sub.customer_id, amount=100, note="", actor=ADMIN)
    assert refused.value.code == "points_members_only"


@pytest.mark.parametrize(
    ("reservation", "amount", "balance", "used"),
    [
        ("none", 0, 1000, 0),
        ("all", 0, 1000, 1000),
        ("all", 0, 9999, 3980),
        ("amount", 300, 1000, 300),
        ("amount", 300, 100, 100),
    ],
)
def test_generation_uses_min_of_reservation_balance_and_total(reservation, amount, balance, used):
    sub = SubscriptionFactory(points_reservation=reservation, points_reservation_amount=amount)
    points_adjust(customer_id=sub.customer_id, amount=balance, note="初期", actor=ADMIN, today=TODAY)
    order = price_and_record(sub)
    assert order.points_used == used
    assert points_balance(sub.customer) == balance - used
    assert_consistent(sub.customer)


def test_cancel_reverts_both_use_and_earn():
    # given an order that used 500 points and, once completed, earned 34
    sub = SubscriptionFactory(points_reservation="amount", points_reservation_amount=500)
    points_adjust(customer_id=sub.customer_id, amount=800, note="", actor=ADMIN, today=TODAY)
    order = price_and_record(sub)
    earn = points_earn_for_order(order=order, today=TODAY)
    assert points_balance(sub.customer) == 800 - 500 + earn.amount
    # when it is cancelled (twice: the second does nothing)
    points_revert_for_order(order_id=order.pk)
    assert points_revert_for_order(order_id=order.pk) == []
    # then the balance is what it was before the order
    assert points_balance(sub.customer) == 800
    assert_consistent(sub.customer)


def test_reverting_an_earn_already_spent_stops_at_zero():
    sub = SubscriptionFactory()
    order = make_order(sub, items_subtotal=100000, total=100000)
    points_earn_for_order(order=order, today=TODAY)  # 1,000 points
    points_adjust(customer_id=sub.customer_id, amount=-900, note="利用", actor=ADMIN, today=TODAY)
    points_revert_for_order(order_id=order.pk)
    assert points_balance(sub.customer) == 0
    assert_consistent(sub.customer)


def test_adjust_cannot_take_the_balance_below_zero():
    customer = CustomerFactory()
    points_adjust(customer_id=customer.pk, amount=100, note="", actor=ADMIN)
    with pytest.raises(DomainError) as refused:
        points_adjust(customer_id=customer.pk, amount=-101, note="", actor=ADMIN)
    assert refused.value.code == "points_insufficient"
    assert points_balance(customer) == 100


def test_per_entry_expiry_is_first_in_first_out():
    BillingPolicy.objects.update_or_create(
        pk=1, defaults={"points_expiry": "per_entry", "points_valid_days": 10}
    )
    customer = CustomerFactory()
    points_adjust(
        customer_id=customer.pk, amount=100, note="", actor=ADMIN, today=dt.date(2027, 1, 1)
    )  # until 1/11
    points_adjust(
        customer_id=customer.pk, amount=100, note="", actor=ADMIN, today=dt.date(2027, 1, 6)
    )  # until 1/16
    points_adjust(customer_id=customer.pk, amount=-30, note="", actor=ADMIN, today=dt.date(2027, 1, 7))
    # on the last valid day nothing expires
    assert points_expire(today=dt.date(2027, 1, 11)) == 0
    # the day after, what is left of the first credit (100 - 30) expires
    assert points_expire(today=dt.date(2027, 1, 12)) == 1
    assert points_balance(customer) == 100
    assert points_expire(today=dt.date(2027, 1, 12)) == 0  # re-running does nothing
    assert points_expire(today=dt.date(2027, 1, 17)) == 1
    assert points_balance(customer) == 0
    assert_consistent(customer)


def test_inactivity_expiry():
    BillingPolicy.objects.update_or_create(
        pk=1, defaults={"points_expiry": "inactivity", "points_inactive_days": 30}
    )
    active, idle = CustomerFactory(), CustomerFactory()
    points_adjust(customer_id=idle.pk, amount=100, note="", actor=ADMIN, today=dt.date(2027, 1, 1))
    points_adjust(customer_id=active.pk, amount=100, note="", actor=ADMIN, today=dt.date(2027, 1, 20))
    assert points_expire(today=dt.date(2027, 1, 31)) == 1
    assert (points_balance(idle), points_balance(active)) == (0, 100)
    assert_consistent(idle)


def _spend(sub, results):
    try:
        with transaction.atomic():
            results.append(price_and_record(sub).points_used)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_orders_at_once_never_spend_the_same_points():
    # given one customer with 1,000 points and two subscriptions each reserving all of them
    customer = CustomerFactory(user=UserFactory())
    subs = [SubscriptionFactory(customer=customer, points_reservation="all") for _ in range(2)]
    points_adjust(customer_id=customer.pk, amount=1000, note="", actor=ADMIN, today=TODAY)
    results = []
    # when both orders (¥2,980… priced at sequence 2 → ¥3,980) are generated at the same time
    threads = [threading.Thread(target=_spend, args=(s, results)) for s in subs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then the points went to one order only and the balance is zero, not negative
    assert sorted(results) == [0, 1000]
    assert points_balance(customer) == 0
    assert_consistent(customer)
