"""The forecast: every night's orders over the next N days, from the schedules as they stand.

Set-based in two ways. Subscriptions come grouped (sources.grouped: one row per distinct schedule
shape and price profile, with a count), and each distinct shape is played forward once
(schedule.SchedulePlayer); each distinct (night's catalogue, items, course, group, sequence,
payment kind, prefecture, island) is priced once by the catalogue's own memo. Only subscriptions
with a coupon or reserved points are followed one by one, because their price depends on what
other orders spent before them (the nightly run's claim order).

Cancellations are not guessed: the figures assume every subscription continues. The estimate
columns weight the same orders by the measured continuation rates (insights.retention).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, timedelta

from catalog.models import Course, Product
from subscriptions.models import ShopPolicy
from subscriptions.selectors import today_in_shop

from ..models import PlanningSettings
from ..pricing import BenefitLedger, CatalogByNight, PricedOrder
from ..retention import ContinuationRates
from . import sources
from .result import DeliveryTotals, Forecast, NightTotals, ShipDay
from .schedule import PlannedNight, SchedulePlayer, resume_night
from .sources import Detailed, Profile

MAX_DAYS = 400


def first_night(policy: ShopPolicy, today: date) -> date:
    """The first night whose run has not started: today, unless today's run has begun."""
    if policy.last_nightly_run_date is not None and policy.last_nightly_run_date >= today:
        return today + timedelta(days=1)
    return today


class _Accumulator:
    def __init__(self, forecast: Forecast, rates: ContinuationRates) -> None:
        self.forecast = forecast
        self.rates = rates

    def add(self, p: PlannedNight, profile: Profile, priced: PricedOrder, n: int) -> None:
        night = self.forecast.nights[p.night]
        night.orders += n
        night.held += n if profile.held else 0
        night.moved += n if p.moved else 0
        night.resumed += n if p.resumed else 0
        night.revenue += priced.total * n
        night.items_subtotal += priced.items_subtotal * n
        night.discount += priced.discount_total * n
        night.shipping_fee += priced.shipping_fee * n
        night.cod_fee += priced.cod_fee * n
        night.points_used += priced.points_used * n
        delivery = self.forecast.deliveries.get(p.delivery_date)
        if delivery is None:
            delivery = self.forecast.deliveries[p.delivery_date] = DeliveryTotals()
        delivery.orders += n
        delivery.time_slots[profile.time_slot] += n
        delivery.payment_kinds[profile.payment_kind] += n
        delivery.shipping_fee += priced.shipping_fee * n
        delivery.cod_fee += priced.cod_fee * n
        for line in priced.lines:
            night.units[line.product_id] += line.quantity * n
            delivery.units[line.product_id] += line.quantity * n
        share = self.rates.continuing(
            profile.course_id, delivered=profile.orders_created, reaching=profile.orders_created + p.index + 1
        )
        night.estimated_orders += share * n
        night.estimated_revenue += share * n * priced.total


def forecast_build(*, days: int = 90, today: date | None = None) -> Forecast:
    """The next `days` nights from the first night whose run has not started."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS}, not {days}")
    started = time.monotonic()
    policy = ShopPolicy.current()
    today = today or today_in_shop()
    start = first_night(policy, today)
    end = start + timedelta(days=days - 1)
    calendar = policy.business_calendar()
    player = SchedulePlayer(calendar=calendar, lead_days=policy.lead_days, start=start, end=end)
    forecast = Forecast(
        today=today,
        start=start,
        end=end,
        nights={start + timedelta(days=i): NightTotals() for i in range(days)},
        deliveries={},
        ship_days=[],
        skus=dict(Product.objects.values_list("id", "sku")),
    )
    acc = _Accumulator(forecast, ContinuationRates.measure(minimums=_minimums()))
    catalogs = CatalogByNight()
    _grouped(forecast, player, catalogs, acc, end)
    _detailed(forecast, player, catalogs, acc, end)
    forecast.ship_days = _ship_days(forecast, calendar)
    forecast.seconds = time.monotonic() - started
    return forecast


def _minimums() -> dict[int, int]:
    return dict(Course.objects.values_list("id", "min_deliveries"))


def _count_resume(forecast: Forecast, shape: tuple, n: int) -> None:
    night = resume_night(shape, forecast.start)
    if night is not None and night <= forecast.end:
        forecast.nights[night].resumes += n


def _grouped(
    forecast: Forecast, player: SchedulePlayer, catalogs: CatalogByNight, acc: _Accumulator, end: date
) -> None:
    for shape, profile, n in sources.grouped(end):
        forecast.subscriptions += n
        _count_resume(forecast, shape, n)
        planned = player.play(shape)
        if planned is None:
            forecast.failed += n
            continue
        for p in planned:
            priced = catalogs.on(p.night).price(
                items=profile.items, course_id=profile.course_id, group_id=profile.group_id,
                sequence=profile.cycle_count + p.index + 1, payment_kind=profile.payment_kind,
                prefecture=profile.prefecture, remote_island=profile.remote_island, coupon=None,
                points_requested=0,
            )  # fmt: skip
            acc.add(p, profile, priced, n)


def _detailed(
    forecast: Forecast, player: SchedulePlayer, catalogs: CatalogByNight, acc: _Accumulator, end: date
) -> None:
    """Coupons and reserved points, spent in the nightly run's claim order: night, due date, id."""
    rows = sources.detailed(end)
    if not rows:
        return
    ledger = BenefitLedger(
        coupon_ids=[d.coupon_id for _s, _p, d in rows if d.coupon_id],
        customer_ids=[d.customer_id for _s, _p, d in rows],
    )
    coupon_of: dict[int, int | None] = {}
    events: list[tuple[date, date, int, PlannedNight, Profile, Detailed]] = []
    for shape, profile, d in rows:
        forecast.subscriptions += 1
        _count_resume(forecast, shape, 1)
        planned = player.play(shape)
        if planned is None:
            forecast.failed += 1
            continue
        coupon_of[d.id] = d.coupon_id
        events.extend((p.night, p.due_on, d.id, p, profile, d) for p in planned)
    events.sort(key=lambda e: e[:3])
    for night, _due, sub_id, p, profile, d in events:
        points = ledger.points_requested(
            reservation=d.points_reservation, amount=d.points_amount, customer_id=d.customer_id,
            is_member=d.is_member,
        )  # fmt: skip
        priced = catalogs.on(night).price(
            items=profile.items, course_id=profile.course_id, group_id=profile.group_id,
            sequence=profile.cycle_count + p.index + 1, payment_kind=profile.payment_kind,
            prefecture=profile.prefecture, remote_island=profile.remote_island,
            coupon=ledger.coupon(coupon_of[sub_id], d.customer_id, night), points_requested=points,
        )  # fmt: skip
        if ledger.spend(priced, d.customer_id):
            coupon_of[sub_id] = None
        acc.add(p, profile, priced, 1)


def _ship_days(forecast: Forecast, calendar) -> list[ShipDay]:  # noqa: ANN001
    """Parcels per shipping day: each delivery ships N open days before it (PlanningSettings)."""
    settings = PlanningSettings.current()
    parcels: dict[date, int] = defaultdict(int)
    for delivery, totals in forecast.deliveries.items():
        parcels[calendar.creation_date(delivery, settings.ship_days_before_delivery)] += totals.orders
    return [
        ShipDay(day, n, settings.daily_shipping_capacity)
        for day, n in sorted(parcels.items())
        if forecast.start <= day
    ]
