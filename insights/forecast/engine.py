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
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from django.db import connections, transaction
from django.db.models import Count

from catalog.models import Course, Product
from orders.models import Order, OrderStatus
from subscriptions.models import ShopPolicy
from subscriptions.schedule import delivery_number
from subscriptions.selectors import today_in_shop

from ..models import PlanningSettings
from ..pricing import BenefitLedger, CatalogByNight, PricedOrder
from ..retention import ContinuationRates
from . import sources
from .counts import Counts
from .result import DeliveryTotals, Forecast, NightTotals, ShipDay
from .schedule import PlannedNight, SchedulePlayer
from .sources import Detailed, Profile

MAX_DAYS = 400
UNSHIPPED = (OrderStatus.NEW, OrderStatus.ON_HOLD, OrderStatus.AWAITING_PAYMENT, OrderStatus.READY)


def first_night(policy: ShopPolicy, today: date) -> date:
    """The first night whose run has not started: today, unless today's run has begun."""
    if policy.last_nightly_run_date is not None and policy.last_nightly_run_date >= today:
        return today + timedelta(days=1)
    return today


class _Totals:
    """Turns the counters into the forecast's figures: prices each distinct key once."""

    def __init__(self, forecast: Forecast, rates: ContinuationRates, catalogs: CatalogByNight) -> None:
        self.forecast = forecast
        self.rates = rates
        self.catalogs = catalogs
        self._prices: dict[tuple, PricedOrder] = {}

    def price(self, night: date, key: tuple, sequence: int) -> PricedOrder:
        """The catalogue's own price, remembered here too (the catalogue's memo starts afresh past
        10,000 entries; a forecast of a large shop has more distinct keys than that)."""
        catalog = self.catalogs.on(night)
        memo_key = (id(catalog), key, sequence)
        priced = self._prices.get(memo_key)
        if priced is None:
            course_id, items, group_id, payment_kind, prefecture, island, time_slot, wrapping, *addons = key
            priced = self._prices[memo_key] = catalog.price(
                items=items, course_id=course_id, group_id=group_id, sequence=sequence,
                payment_kind=payment_kind, prefecture=prefecture, remote_island=island, coupon=None,
                points_requested=0, time_slot=time_slot, gift_wrapping=wrapping,
                addons=addons[0] if addons else (),
            )  # fmt: skip
        return priced

    def add_priced(self, night: date, priced: PricedOrder, n: int) -> None:
        totals = self.forecast.nights[night]
        totals.orders += n
        totals.revenue += priced.total * n
        totals.items_subtotal += priced.items_subtotal * n
        totals.discount += priced.discount_total * n
        totals.shipping_fee += priced.shipping_fee * n
        totals.cod_fee += priced.cod_fee * n
        totals.points_used += priced.points_used * n
        for line in priced.lines:
            totals.units[line.product_id] += line.quantity * n

    def finish(self, counts: Counts) -> None:
        forecast = self.forecast
        for (night, key, sequence), n in counts.priced.items():
            self.add_priced(night, self.price(night, key, sequence), n)
        for (day, items), n in counts.deliveries.items():
            delivery = forecast.deliveries.get(day)
            if delivery is None:
                delivery = forecast.deliveries[day] = DeliveryTotals()
            delivery.orders += n
            for product_id, qty in items:
                delivery.units[product_id] += qty * n
        for (day, slot), n in counts.slots.items():
            forecast.deliveries[day].time_slots[slot] += n
        for (day, kind), n in counts.kinds.items():
            forecast.deliveries[day].payment_kinds[kind] += n
        for name in ("held", "moved", "resumed", "resumes"):
            for night, n in getattr(counts, name).items():
                setattr(forecast.nights[night], name, getattr(forecast.nights[night], name) + n)
        for (night, course_id, delivered, index), n in counts.continuing.items():
            share = self.rates.continuing(course_id, delivered=delivered, reaching=delivered + index + 1)
            forecast.nights[night].estimated_orders += share * n
        for totals in forecast.nights.values():
            if totals.orders:
                totals.estimated_revenue = totals.revenue * totals.estimated_orders / totals.orders
        forecast.subscriptions, forecast.failed = counts.subscriptions, counts.failed


def forecast_build(*, days: int = 90, today: date | None = None, lanes: int = 1) -> Forecast:
    """The next `days` nights from the first night whose run has not started.

    lanes > 1 reads and counts the subscriptions in that many threads (each with its own database
    connection): one lane counts in Python while another waits for PostgreSQL. Not inside a
    transaction (a thread's connection cannot see the caller's).
    """
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
    totals = _Totals(forecast, ContinuationRates.measure(minimums=_minimums()), catalogs=CatalogByNight())
    counts = _grouped(player, start, end, lanes=lanes)
    _detailed(counts, player, totals, start, end)
    totals.finish(counts)
    forecast.ship_days = _ship_days(forecast, calendar)
    forecast.seconds = time.monotonic() - started
    return forecast


def _minimums() -> dict[int, int]:
    return dict(Course.objects.values_list("id", "min_deliveries"))


PARTS_PER_LANE = 1


def _grouped(player: SchedulePlayer, start: date, end: date, *, lanes: int) -> Counts:
    if lanes <= 1:
        return _count_part(player, start, end, None)
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("forecast_build(lanes>1) cannot run inside a transaction")
    parts = lanes * PARTS_PER_LANE
    counts = Counts()
    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="forecast") as pool:
        for part in pool.map(lambda k: _count_part_in_thread(player, start, end, (k, parts)), range(parts)):
            counts.merge(part)
    return counts


def _count_part_in_thread(player: SchedulePlayer, start: date, end: date, part: tuple[int, int]) -> Counts:
    try:
        return _count_part(player, start, end, part)
    finally:
        connections.close_all()  # this thread's connection


def _count_part(player: SchedulePlayer, start: date, end: date, part: tuple[int, int] | None) -> Counts:
    counts = Counts()
    for shape, profile, n in sources.grouped(end, part=part):
        counts.add_shape(shape, start, end, n)
        planned = player.play(shape)
        if planned is None:
            counts.failed += n
        elif planned:
            counts.add_orders(planned, profile, n)
    return counts


def _detailed(counts: Counts, player: SchedulePlayer, totals: _Totals, start: date, end: date) -> None:
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
        counts.add_shape(shape, start, end, 1)
        planned = player.play(shape)
        if planned is None:
            counts.failed += 1
            continue
        counts.add_orders(planned, profile, 1, priced=False)
        coupon_of[d.id] = d.coupon_id
        events.extend((p.night, p.due_on, d.id, p, profile, d) for p in planned)
    events.sort(key=lambda e: e[:3])
    for night, _due, sub_id, p, profile, d in events:
        points = ledger.points_requested(
            reservation=d.points_reservation, amount=d.points_amount, customer_id=d.customer_id,
            is_member=d.is_member,
        )  # fmt: skip
        priced = totals.catalogs.on(night).price(
            items=profile.items, course_id=profile.course_id, group_id=profile.group_id,
            sequence=delivery_number(profile.cycle_count, ahead=p.index), payment_kind=profile.payment_kind,
            prefecture=profile.prefecture, remote_island=profile.remote_island,
            coupon=ledger.coupon(coupon_of[sub_id], d.customer_id, night), points_requested=points,
            time_slot=bool(profile.time_slot), gift_wrapping=profile.gift_wrapping,
            addons=profile.addons if p.index == 0 else (),
        )  # fmt: skip
        if ledger.spend(priced, d.customer_id):
            coupon_of[sub_id] = None
        totals.add_priced(night, priced, 1)


def _ship_days(forecast: Forecast, calendar) -> list[ShipDay]:  # noqa: ANN001
    """Parcels per shipping day against the capacity: the forecast orders and the orders already
    created but not shipped yet. A parcel ships N open days before its delivery (PlanningSettings)."""
    settings = PlanningSettings.current()
    parcels: dict[date, int] = defaultdict(int)
    deliveries = {day: totals.orders for day, totals in forecast.deliveries.items()}
    for day, n in unshipped_by_delivery(forecast.today).items():
        deliveries[day] = deliveries.get(day, 0) + n
    for delivery, n in deliveries.items():
        ship = calendar.creation_date(delivery, settings.ship_days_before_delivery)
        if ship >= forecast.today:
            parcels[ship] += n
    return [ShipDay(day, n, settings.daily_shipping_capacity) for day, n in sorted(parcels.items())]


def unshipped_by_delivery(today: date) -> dict[date, int]:
    return dict(
        Order.objects.filter(status__in=UNSHIPPED, delivery_date__gte=today)
        .values("delivery_date")
        .annotate(n=Count("id"))
        .values_list("delivery_date", "n")
    )
