"""The move of coupons, points, the pricing policy and shipping fees from billing to pricing, on a
database that was built before it: every row is where it was and the new models read it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from orders.models import Order
from pricing.models import (
    BillingPolicy,
    CodFee,
    Coupon,
    CouponRedemption,
    PointAccount,
    PointEntry,
    PrefectureShippingFee,
)
from subscriptions.models import Subscription
from tests.factories import SubscriptionFactory

# The migrations of every app the move touches, as they were before it.
BEFORE_THE_MOVE = [
    ("billing", "0005_payment_attempt_authorized"),
    ("orders", "0001_initial"),
    ("subscriptions", "0002_shoppolicy_last_nightly_run_date"),
    ("pricing", None),
]


def _migrate(targets):  # noqa: ANN001, ANN202
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    applied = [target for target in targets if target[1] is not None]
    return executor.loader.project_state(applied).apps


def _leaf_nodes() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _order(subscription) -> Order:  # noqa: ANN001
    # orders' table is the same before and after the move, so today's model can write it.
    return Order.objects.create(
        customer=subscription.customer,
        subscription=subscription,
        sequence=2,
        creation_date=dt.date(2027, 3, 10),
        delivery_date=dt.date(2027, 3, 15),
        ship_name="山田 花子",
        ship_postal_code="100-0001",
        ship_prefecture="東京都",
        ship_city="千代田区",
        ship_line1="千代田1-1",
        items_subtotal=3980,
        total=3480,
    )


def _old_rows(old_apps, subscription, order) -> dict[str, int]:  # noqa: ANN001
    """Rows written through billing's models as they were before the move."""
    OldCoupon = old_apps.get_model("billing", "Coupon")
    coupon = OldCoupon.objects.create(code="WELCOME500", name="初回500円引き", kind="fixed", value=500)
    redemption = old_apps.get_model("billing", "CouponRedemption").objects.create(
        coupon=coupon,
        customer_id=subscription.customer_id,
        order_id=order.pk,
        subscription_id=subscription.pk,
        sequence=2,
    )
    account = old_apps.get_model("billing", "PointAccount").objects.create(
        customer_id=subscription.customer_id, balance=700, last_activity_on=dt.date(2027, 3, 1)
    )
    entry = old_apps.get_model("billing", "PointEntry").objects.create(
        customer_id=subscription.customer_id, kind="earn", amount=700, order_id=order.pk, note="購入ポイント"
    )
    old_apps.get_model("billing", "BillingPolicy").objects.create(
        pk=1, tax_rounding="half_up", points_earn_rate_bp=300, shipping_base_fee=550, shipping_free_from=5000
    )
    fee = old_apps.get_model("billing", "PrefectureShippingFee").objects.create(prefecture="沖縄県", fee=1650)
    cod = old_apps.get_model("billing", "CodFee").objects.create(up_to_amount=10000, fee=330)
    Subscription.objects.filter(pk=subscription.pk).update(coupon_id=coupon.pk)
    Order.objects.filter(pk=order.pk).update(coupon_id=coupon.pk)
    return {
        "coupon": coupon.pk,
        "redemption": redemption.pk,
        "account": account.pk,
        "entry": entry.pk,
        "fee": fee.pk,
        "cod": cod.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_built_before_the_move_keeps_every_pricing_row_and_permission():
    # given a database at the migrations before the move, with a row in every moved table
    subscription = SubscriptionFactory()
    order = _order(subscription)
    old_apps = _migrate(BEFORE_THE_MOVE)
    ContentType.objects.clear_cache()
    old_type = ContentType.objects.get(app_label="billing", model="coupon")
    group = Group.objects.create(name="クーポン担当")
    group.permissions.add(Permission.objects.get(content_type=old_type, codename="change_coupon"))
    ids = _old_rows(old_apps, subscription, order)

    # when it is migrated to today's migrations
    _migrate(_leaf_nodes())
    ContentType.objects.clear_cache()

    # then pricing's models find every row where it was, with its values and relations
    coupon = Coupon.objects.get(pk=ids["coupon"])
    assert (coupon.code, coupon.kind, coupon.value) == ("WELCOME500", "fixed", 500)
    redemption = CouponRedemption.objects.get(pk=ids["redemption"])
    assert (redemption.coupon_id, redemption.order_id, redemption.sequence) == (coupon.pk, order.pk, 2)
    assert PointAccount.objects.get(pk=ids["account"]).balance == 700
    entry = PointEntry.objects.get(pk=ids["entry"])
    assert (entry.kind, entry.amount, entry.order_id) == ("earn", 700, order.pk)
    policy = BillingPolicy.current()
    assert (policy.tax_rounding, policy.points_earn_rate_bp, policy.shipping_free_from) == (
        "half_up",
        300,
        5000,
    )
    assert PrefectureShippingFee.objects.get(pk=ids["fee"]).fee == 1650
    assert CodFee.objects.get(pk=ids["cod"]).fee == 330
    assert Subscription.objects.get(pk=subscription.pk).coupon == coupon
    assert Order.objects.get(pk=order.pk).coupon == coupon
    # and the admin permission granted on billing's coupon now names pricing's
    moved = group.permissions.get(codename="change_coupon")
    assert (moved.content_type.app_label, moved.content_type.model) == ("pricing", "coupon")
    assert not ContentType.objects.filter(app_label="billing", model="coupon").exists()
