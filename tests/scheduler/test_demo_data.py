"""seed_demo --subscriptions N: bulk demo subscriptions the nightly run can work on."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from orders.models import Order
from scheduler.generation import generate_due
from subscriptions.models import Subscription, SubscriptionStatus
from subscriptions.schedule import compute_next
from subscriptions.selectors import today_in_shop

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_n_varied_subscriptions_that_the_night_can_generate(policy, time_machine) -> None:  # noqa: ANN001
    # given a weekday, when the demo's own subscriptions are due too
    time_machine.move_to(dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False)
    # when the demo is seeded with 300 extra subscriptions
    out = io.StringIO()
    call_command("seed_demo", "--subscriptions", "300", stdout=out)

    # then there are 300 more, in several states, courses, cycles and time slots
    bulk = Subscription.objects.filter(source="demo:bulk")
    assert bulk.count() == 300
    assert {SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED, SubscriptionStatus.CANCELLED} <= set(
        bulk.values_list("status", flat=True)
    )
    assert bulk.values("course").distinct().count() > 1
    assert bulk.values("cycle_unit", "cycle_interval").distinct().count() > 1
    assert bulk.values("delivery_time_slot").distinct().count() > 2
    assert bulk.filter(customer__is_blacklisted=True).exists()
    assert all(s.items.exists() for s in bulk[:20])
    # and their schedules agree with the schedule maths
    sub = bulk.filter(status=SubscriptionStatus.ACTIVE).first()
    nxt = compute_next(
        sub.cycle, anchor_date=sub.anchor_date, anchor_sequence=sub.anchor_sequence,
        from_sequence=sub.next_sequence, skipped=sub.skipped, calendar=policy.business_calendar(),
        lead_days=policy.lead_days,
    )  # fmt: skip
    assert (nxt.sequence, nxt.delivery_date, nxt.creation_date) == (
        sub.next_sequence, sub.next_delivery_date, sub.next_creation_date,
    )  # fmt: skip
    assert "subscriptions=300" in out.getvalue()

    # and tonight's run creates an order for every one due today (the demo's own subscriptions
    # that are due get theirs too, in the same run)
    today = today_in_shop()
    due = bulk.filter(status=SubscriptionStatus.ACTIVE, next_creation_date__lte=today).count()
    assert due > 0
    result = generate_due(run_date=today)
    assert Order.objects.filter(subscription__source="demo:bulk").count() == due
    assert Order.objects.count() == result.orders_created


def test_a_second_seed_adds_more_without_clashing(policy) -> None:  # noqa: ANN001
    call_command("seed_demo", "--subscriptions", "20", stdout=io.StringIO())
    call_command("seed_demo", "--subscriptions", "20", stdout=io.StringIO())
    assert Subscription.objects.filter(source="demo:bulk").count() == 40
