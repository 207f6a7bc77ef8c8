"""Retention analytics, measured from the orders counter and the cancellations (never guessed).

Every figure is one or two GROUP BY queries whatever the number of subscriptions. A subscription's
deliveries are its 定期内受注数 (orders_created: child orders ever created, sign-up order
included; it never decreases).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Q, Sum
from django.db.models.functions import TruncMonth

from catalog.models import Course
from orders.models import Order, OrderStatus
from subscriptions.models import CancelReason, Subscription, SubscriptionEvent, SubscriptionStatus

from .metrics import continuation_rates, minimum_reached, survival

ENDED = (SubscriptionStatus.CANCELLED, SubscriptionStatus.SUSPENDED)
MAX_DELIVERY = 12  # columns of the continuation and cohort tables
NOT_REVENUE = (OrderStatus.CANCELLED, OrderStatus.RETURNED)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.SHOP_TIMEZONE)


def _counts(qs, *keys: str) -> dict[tuple, dict[tuple[int, bool], int]]:  # noqa: ANN001
    """{keys: {(deliveries, ended): n}} in one GROUP BY."""
    out: dict[tuple, dict[tuple[int, bool], int]] = defaultdict(lambda: defaultdict(int))
    for row in qs.values(*keys, "orders_created", "status").annotate(n=Count("id")).order_by():
        key = tuple(row[k] for k in keys)
        out[key][(row["orders_created"], row["status"] in ENDED)] += row["n"]
    return out


@dataclass(slots=True)
class ContinuationRates:
    """Measured continuation rates per course, for the forecast's estimate columns."""

    rates: dict[int, dict[int, float | None]] = field(default_factory=dict)
    minimums: dict[int, int] = field(default_factory=dict)
    _memo: dict[tuple[int, int, int], float] = field(default_factory=dict)

    @classmethod
    def measure(cls, *, minimums: dict[int, int], up_to: int = 60) -> ContinuationRates:
        by_course = _counts(Subscription.objects.all(), "course_id")
        return cls(
            rates={key[0]: continuation_rates(counts, up_to=up_to) for key, counts in by_course.items()},
            minimums=minimums,
        )

    def continuing(self, course_id: int, *, delivered: int, reaching: int) -> float:
        key = (course_id, delivered, reaching)
        share = self._memo.get(key)
        if share is None:
            share = self._memo[key] = survival(
                self.rates.get(course_id, {}),
                delivered=delivered,
                reaching=reaching,
                minimum=self.minimums.get(course_id, 0),
            )
        return share


@dataclass(slots=True)
class CourseRetention:
    course_id: int
    name: str
    subscriptions: int
    average_deliveries: float
    rates: dict[int, float | None]
    minimum: int
    minimum_reached: tuple[int, int, int]  # (reached, ended before, on the way)

    @property
    def minimum_share(self) -> float | None:
        reached, ended, _pending = self.minimum_reached
        return reached / (reached + ended) if reached + ended else None


def course_retention() -> list[CourseRetention]:
    by_course = _counts(Subscription.objects.all(), "course_id")
    courses = {c.pk: c for c in Course.objects.order_by("code")}
    out = []
    for course_id, course in courses.items():
        counts = by_course.get((course_id,), {})
        total = sum(counts.values())
        if not total:
            continue
        out.append(
            CourseRetention(
                course_id=course_id,
                name=course.name,
                subscriptions=total,
                average_deliveries=sum(d * n for (d, _e), n in counts.items()) / total,
                rates=continuation_rates(counts, up_to=MAX_DELIVERY),
                minimum=course.min_deliveries,
                minimum_reached=minimum_reached(counts, minimum=course.min_deliveries),
            )
        )
    return out


@dataclass(slots=True)
class CohortRow:
    month: date
    subscriptions: int
    # share of the cohort with at least m deliveries, m = 1..MAX_DELIVERY
    reached: dict[int, float]


def cohort_table(months: int = 12) -> list[CohortRow]:
    qs = Subscription.objects.annotate(month=TruncMonth("created_at", tzinfo=_tz()))
    by_month = _counts(qs, "month")
    rows = []
    for (month,), counts in sorted(by_month.items()):
        total = sum(counts.values())
        reached = {
            m: sum(n for (d, _e), n in counts.items() if d >= m) / total for m in range(1, MAX_DELIVERY + 1)
        }
        day = month.date() if isinstance(month, datetime) else month
        rows.append(CohortRow(day, total, reached))
    return rows[-months:]


def churn_by_reason() -> list[tuple[str, str, int]]:
    """(reason code, label, cancelled subscriptions), most frequent first."""
    labels = dict(CancelReason.choices)
    rows = (
        Subscription.objects.filter(status=SubscriptionStatus.CANCELLED)
        .values("cancel_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "cancel_reason")
    )
    return [
        (r["cancel_reason"], str(labels.get(r["cancel_reason"], r["cancel_reason"] or "—")), r["n"])
        for r in rows
    ]


@dataclass(slots=True)
class MonthPoint:
    month: date
    active: int  # subscriptions signed up by the month's end and not cancelled by then
    revenue: int  # totals of the month's subscription orders (not cancelled or returned), yen
    orders: int


def _month_starts(today: date, months: int) -> list[date]:
    out = []
    year, month = today.year, today.month
    for _ in range(months):
        out.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def monthly_series(today: date, months: int = 12) -> list[MonthPoint]:
    """Active subscriptions at each month's end and MRR (that month's recurring order revenue)."""
    starts = _month_starts(today, months)
    tz = _tz()
    ends = {s: datetime.combine(_next_month(s), time.min, tzinfo=tz) for s in starts}
    active = Subscription.objects.aggregate(
        **{
            s.isoformat(): Count(
                "id",
                filter=Q(created_at__lt=ends[s])
                & (Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=ends[s])),
            )
            for s in starts
        }
    )
    revenue = {
        (r["month"].date() if isinstance(r["month"], datetime) else r["month"]): (r["total"] or 0, r["n"])
        for r in Order.objects.filter(subscription__isnull=False, creation_date__gte=starts[0])
        .exclude(status__in=NOT_REVENUE)
        .annotate(month=TruncMonth("creation_date"))
        .values("month")
        .annotate(total=Sum("total"), n=Count("id"))
        .order_by()
    }
    return [MonthPoint(s, active[s.isoformat()], *revenue.get(s, (0, 0))) for s in starts]


@dataclass(slots=True)
class Rates:
    subscriptions: int
    average_deliveries: float
    skipped_deliveries: int
    skip_rate: float | None  # skipped / (skipped + delivered)
    ever_paused: int
    pause_rate: float | None  # subscriptions that ever paused / all
    paused_now: int


def skip_and_pause_rates() -> Rates:
    length = "jsonb_array_length" if connection.vendor == "postgresql" else "json_array_length"
    totals = Subscription.objects.aggregate(
        n=Count("id"),
        delivered=Sum("orders_created"),
        skipped=Sum(Func(F("skipped_sequences"), function=length, output_field=IntegerField())),
        paused_now=Count("id", filter=Q(status=SubscriptionStatus.PAUSED)),
    )
    ever_paused = SubscriptionEvent.objects.filter(kind="paused").values("subscription_id").distinct().count()
    n, delivered, skipped = totals["n"], totals["delivered"] or 0, totals["skipped"] or 0
    return Rates(
        subscriptions=n,
        average_deliveries=delivered / n if n else 0.0,
        skipped_deliveries=skipped,
        skip_rate=skipped / (skipped + delivered) if skipped + delivered else None,
        ever_paused=ever_paused,
        pause_rate=ever_paused / n if n else None,
        paused_now=totals["paused_now"],
    )
