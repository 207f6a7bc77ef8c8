"""The forecast says what the nightly run will do: the dry run for the first night, and three real nights.

Seeded shop (PostgreSQL, time frozen): the demo courses with per-delivery prices, a few hundred
subscriptions on varied cycles, some paused with a resume date, skips, a special closure, a sale
starting mid-horizon, coupons (capped, next-only, expiring) and reserved points, and rows whose
order was missed (their delivery can no longer be met and moves), and ついで買い on the next order
of some (with and without a coupon, one product with a sale starting mid-horizon).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum

from catalog.models import Product, ProductSalePrice
from core.errors import DomainError
from insights.forecast import forecast_build
from orders.models import Order, OrderLine, SubscriptionGift
from pricing.models import Coupon, PointAccount
from scheduler.demo_data import demo_subscriptions_create
from scheduler.demo_seed import seed_all
from subscriptions.actors import Actor
from subscriptions.models import ShopPolicy, SpecialDay, Subscription, SubscriptionAddon, SubscriptionStatus
from subscriptions.services import subscription_add_addon, subscription_recompute_next, subscription_skip_next
from tests.fees import measure, shop_with_methods

pytestmark = pytest.mark.django_db(transaction=False)

TOKYO = ZoneInfo("Asia/Tokyo")
DAY1 = dt.date(2027, 3, 1)  # a Monday
NIGHTS = [DAY1 + dt.timedelta(days=i) for i in range(3)]


def _run_nightly(*args: str) -> dict:
    out = io.StringIO()
    call_command("run_nightly", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _seed() -> None:
    seed_all(DAY1)
    policy = ShopPolicy.current()
    SpecialDay.objects.create(policy=policy, date=DAY1 + dt.timedelta(days=3), note="棚卸し")
    demo_subscriptions_create(count=400, today=DAY1, seed=13)
    Product.objects.update(stock=1_000_000)  # ample: a stock hold is the stock outlook's business
    aojiru = Product.objects.get(sku="AOJIRU-30")
    ProductSalePrice.objects.create(product=aojiru, unit_price=2980, starts_on=NIGHTS[1])
    active = list(Subscription.objects.filter(status=SubscriptionStatus.ACTIVE).order_by("id"))
    _coupons(active)
    _points(active[60:80])
    # 宅配便 and メール便 (thin pouches fit it unless stacked or with a time slot), and gift wrapping
    shop_with_methods()
    measure(Product.objects.exclude(sku="AOJIRU-30"))
    SubscriptionGift.objects.bulk_create(
        SubscriptionGift(subscription=sub, wrapping=True) for sub in active[116:160]
    )
    # ついで買い on some of them, wrapped and not, with and without points
    _addons([*active[10:14], *active[60:64], *active[116:150]], aojiru)
    for sub in active[80:110]:
        with contextlib.suppress(DomainError):  # past its deadline: left as it is
            subscription_skip_next(subscription_id=sub.pk, actor=Actor.system())
    paused = Subscription.objects.filter(status=SubscriptionStatus.PAUSED).order_by("id")[:3]
    Subscription.objects.filter(pk__in=[s.pk for s in paused]).update(paused_until=NIGHTS[1])
    # one of them every day, its dates long past: resumed on night 2, it orders at once
    Subscription.objects.filter(pk=paused[0].pk).update(
        cycle_unit="day", cycle_interval=1, cycle_day_of_month=None, cycle_nth_week=None, cycle_weekday=None,
        anchor_date=DAY1 - dt.timedelta(days=20),
    )  # fmt: skip
    for sub in active[110:116]:  # orders that should have been created already: a missed night
        sub.anchor_date, sub.anchor_sequence, sub.next_sequence = DAY1 + dt.timedelta(days=2), 1, 1
        subscription_recompute_next(sub)
        sub.save()


def _coupons(active: list[Subscription]) -> None:
    capped = Coupon.objects.create(
        code="ALL500", name="毎回500円引き", kind="fixed", value=500, applies_to="all", max_uses=8
    )
    once = Coupon.objects.create(
        code="NEXT10", name="次回10%", kind="percent", value=10, applies_to="next", max_uses_per_customer=1
    )
    ending = Coupon.objects.create(
        code="END300",
        name="期間限定",
        kind="fixed",
        value=300,
        applies_to="all",
        valid_until=dt.datetime.combine(NIGHTS[1], dt.time(23, 0), tzinfo=TOKYO),
    )
    for coupon, subs in ((capped, active[0:20]), (once, active[20:40]), (ending, active[40:60])):
        Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(coupon=coupon)


def _addons(subs: list[Subscription], on_sale: Product) -> None:
    """ついで買い by the shop (past the customers' deadline for tonight's orders): the product on sale
    from night 2 for some, another for the rest, varied quantities."""
    other = Product.objects.exclude(pk=on_sale.pk).order_by("id").first()
    Product.objects.filter(pk__in=[on_sale.pk, other.pk]).update(addon_available=True)
    for i, sub in enumerate(subs):
        product = on_sale if i % 3 == 0 else other
        with contextlib.suppress(DomainError):  # a paused one among them, say: left as it is
            subscription_add_addon(
                subscription_id=sub.pk, product_id=product.pk, quantity=1 + i % 2, actor=Actor.system()
            )


def _points(subs: list[Subscription]) -> None:
    for i, sub in enumerate(subs):
        PointAccount.objects.update_or_create(
            customer_id=sub.customer_id, defaults={"balance": 150 * (i % 4)}
        )
        Subscription.objects.filter(pk=sub.pk).update(
            points_reservation="all" if i % 2 else "amount", points_reservation_amount=120
        )


def _created(night: dt.date) -> dict:
    orders = Order.objects.filter(creation_date=night, subscription__isnull=False)
    sums = orders.aggregate(
        revenue=Sum("total"),
        points=Sum("points_used"),
        discount=Sum("discount_total"),
        shipping=Sum("shipping_fee"),
    )
    units = Counter()
    for sku, qty in OrderLine.objects.filter(order__in=orders).values_list("sku", "quantity"):
        units[sku] += qty
    return {
        "orders": orders.count(),
        "held": orders.filter(status="on_hold").count(),
        "revenue": sums["revenue"] or 0,
        "points": sums["points"] or 0,
        "discount": sums["discount"] or 0,
        "shipping": sums["shipping"] or 0,
        "units": dict(units),
    }


def _forecast_for(forecast, night: dt.date) -> dict:  # noqa: ANN001
    t = forecast.nights[night]
    return {
        "orders": t.orders,
        "held": t.held,
        "revenue": t.revenue,
        "points": t.points_used,
        "discount": t.discount,
        "shipping": t.shipping_fee,
        "units": {sku: n for sku, n in forecast.units_by_sku(t.units).items() if n},
    }


def test_the_forecast_matches_the_dry_run_and_three_real_nights(time_machine) -> None:  # noqa: ANN001
    # given a seeded shop an hour before the first night's run
    time_machine.move_to(dt.datetime.combine(DAY1, dt.time(1, 0), tzinfo=TOKYO), tick=False)
    _seed()

    # when the forecast is made for the next five nights
    forecast = forecast_build(days=5)

    # then the first night is tonight, and the dry run reports exactly what it says
    assert forecast.start == DAY1
    dry = _run_nightly("--dry-run", "--date", DAY1.isoformat())
    first = forecast.nights[DAY1]
    assert (dry["orders_created"], dry["held"], dry["moved"]) == (first.orders, first.held, first.moved)
    assert first.orders > 20 and first.moved > 0 and first.discount > 0 and first.points_used > 0

    # and after each of three real nights, what was created is what the forecast said
    for night in NIGHTS:
        time_machine.move_to(dt.datetime.combine(night, dt.time(2, 0), tzinfo=TOKYO), tick=False)
        report = _run_nightly("--date", night.isoformat())
        assert (report["orders_created"], report["resumed"]) == (
            forecast.nights[night].orders,
            forecast.nights[night].resumes,
        )
        assert _created(night) == _forecast_for(forecast, night), night
    # some of them carried ついで買い, now on their orders (and only there)
    assert SubscriptionAddon.objects.filter(order__creation_date__in=NIGHTS).count() >= 5
    assert sum(forecast.nights[n].resumes for n in NIGHTS) >= 3
    assert forecast.nights[NIGHTS[1]].resumed == 1
    assert Order.objects.filter(creation_date__in=NIGHTS).count() == sum(
        forecast.nights[n].orders for n in NIGHTS
    )
    # and the nights held both methods and wrapped orders, so their fees were compared too
    made = Order.objects.filter(creation_date__in=NIGHTS)
    assert made.filter(delivery_method__code="mail_bin").exists()
    assert made.filter(delivery_method__code="parcel").exists()
    assert made.filter(wrapping_fee__gt=0).exists()


def test_tomorrows_forecast_equals_tomorrows_dry_run_after_tonights_run(time_machine) -> None:  # noqa: ANN001
    # given a seeded shop whose run for today has been done
    time_machine.move_to(dt.datetime.combine(DAY1, dt.time(1, 0), tzinfo=TOKYO), tick=False)
    _seed()
    time_machine.move_to(dt.datetime.combine(DAY1, dt.time(2, 0), tzinfo=TOKYO), tick=False)
    _run_nightly("--date", DAY1.isoformat())
    time_machine.move_to(dt.datetime.combine(DAY1, dt.time(15, 0), tzinfo=TOKYO), tick=False)

    # when the forecast is made in the afternoon
    forecast = forecast_build(days=3)

    # then it starts tomorrow, and equals tomorrow's dry run
    tomorrow = NIGHTS[1]
    assert forecast.start == tomorrow
    dry = _run_nightly("--dry-run", "--date", tomorrow.isoformat())
    assert (dry["orders_created"], dry["held"]) == (
        forecast.nights[tomorrow].orders,
        forecast.nights[tomorrow].held,
    )
    assert dry["orders_created"] > 0
