"""The my page's hand-written read of a subscription (subscriptions.selectors.user_subscription, on
core.sqlrows) gives what the ORM gives: every field of the subscription and of its customer, point
account, course, coupon, items and pending add-ons with their products, in the same order, with the
same caches set, so reading them afterwards costs no query."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from catalog.models import Product
from orders.models import Order
from pricing.models import Coupon, PointAccount
from subscriptions.actors import Actor
from subscriptions.models import Subscription, SubscriptionAddon, SubscriptionItem
from subscriptions.selectors import subscription_timeline, user_subscription
from subscriptions.services import subscription_change_time_slot, subscription_skip_next
from tests.factories import CustomerFactory, ProductFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:  # noqa: ANN001
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.fixture
def full(policy):  # noqa: ANN001
    """A subscription with everything the read joins: coupon, point account, two items, add-ons."""
    customer = CustomerFactory(name="読込 花子")
    PointAccount.objects.create(customer=customer, balance=350, last_activity_on=date(2026, 2, 1))
    coupon = Coupon.objects.create(
        code="READ10",
        name="読込クーポン",
        value=10,
        valid_until=datetime(2026, 12, 31, 23, 59, tzinfo=ZoneInfo("Asia/Tokyo")),
        sequences=[2, 3],
    )
    subscription = SubscriptionFactory(
        customer=customer, coupon=coupon, skipped_sequences=[3], custom_fields={"gift": "はい"}
    )
    extra = ProductFactory(name="追加の商品 \"引用\" & 'クォート'")
    SubscriptionItem.objects.create(subscription=subscription, product=extra, quantity=2)
    second = ProductFactory(name="二つ目")
    pending = [
        SubscriptionAddon.objects.create(subscription=subscription, product=product, quantity=quantity)
        for product, quantity in ((second, 3), (extra, 1))
    ]
    order = Order.objects.create(
        customer=customer,
        subscription=subscription,
        sequence=1,
        creation_date=date(2026, 1, 5),
        delivery_date=date(2026, 1, 10),
        ship_name=customer.name,
        ship_postal_code="100-0001",
        ship_prefecture="東京都",
        ship_city="千代田区",
        ship_line1="千代田1-1",
        total=3980,
    )
    SubscriptionAddon.objects.create(subscription=subscription, product=extra, quantity=5, order=order)
    return subscription, pending


def test_the_read_gives_what_the_orm_gives(full, django_assert_num_queries) -> None:  # noqa: ANN001
    subscription, pending = full
    expected = (
        Subscription.objects.select_related("course", "coupon", "customer__point_account")
        .prefetch_related("items__product")
        .get(pk=subscription.pk)
    )
    expected_items = [(_fields(i), _fields(i.product)) for i in expected.items.order_by("id")]
    expected_addon_products = [_fields(Product.objects.get(pk=a.product_id)) for a in pending]
    _fields(expected.customer.point_account), _fields(expected.coupon)  # loaded before counting
    with django_assert_num_queries(2):
        got = user_subscription(user_id=subscription.customer.user_id, subscription_id=subscription.pk)
    with django_assert_num_queries(0):  # everything below comes from the read
        assert _fields(got) == _fields(expected)
        assert _fields(got.customer) == _fields(expected.customer)
        assert _fields(got.customer.point_account) == _fields(expected.customer.point_account)
        assert _fields(got.course) == _fields(expected.course)
        assert _fields(got.coupon) == _fields(expected.coupon)
        assert [(_fields(i), _fields(i.product)) for i in got.items.all()] == expected_items
        assert [a.pk for a in got.pending_addons] == [a.pk for a in pending]  # not the ordered one
        assert [_fields(a.product) for a in got.pending_addons] == expected_addon_products
        assert got.items.all()[0].subscription is got and got.pending_addons[0].subscription is got
        assert got.skipped_sequences == [3] and got.custom_fields == {"gift": "はい"}


def test_without_coupon_or_point_account_those_read_as_none(policy, django_assert_num_queries) -> None:  # noqa: ANN001
    subscription = SubscriptionFactory()
    got = user_subscription(user_id=subscription.customer.user_id, subscription_id=subscription.pk)
    with django_assert_num_queries(0):
        assert got.coupon is None
        assert Subscription.customer.is_cached(got)
        with pytest.raises(PointAccount.DoesNotExist):
            got.customer.point_account  # noqa: B018 - cached as missing, as select_related leaves it


def test_another_users_subscription_is_not_found(policy) -> None:  # noqa: ANN001
    subscription = SubscriptionFactory()
    stranger = CustomerFactory()
    assert user_subscription(user_id=stranger.user_id, subscription_id=subscription.pk) is None
    assert user_subscription(user_id=UserFactory().pk, subscription_id=subscription.pk) is None


def test_the_timeline_is_newest_first_as_the_orm_orders_it(full) -> None:  # noqa: ANN001
    subscription, _ = full
    actor = Actor.customer(subscription.customer.user)
    subscription_change_time_slot(subscription_id=subscription.pk, time_slot="19-21", actor=actor)
    subscription_skip_next(subscription_id=subscription.pk, actor=actor)
    expected = list(subscription.events.all()[:20])
    got = subscription_timeline(subscription_id=subscription.pk, limit=20)
    assert [_fields(e) for e in got] == [_fields(e) for e in expected] and len(got) >= 2
