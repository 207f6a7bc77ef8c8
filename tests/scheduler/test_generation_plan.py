"""Generation plans each claimed row (scheduler/generation/plan.py): cases once found contradicting DESIGN.md."""

from __future__ import annotations

import datetime as dt

import pytest

from orders.models import Order
from scheduler.generation import generate_due
from subscriptions.models import ShopPolicy, SubscriptionEvent
from tests.factories import CourseFactory, ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["copy", "orm"])
def writer(request, settings):  # noqa: ANN001, ANN201
    settings.NIGHTLY_WRITER = request.param
    return request.param


def test_a_missed_night_with_stock_short_skips_once_as_the_order_it_replaces_would_have_moved(
    policy, writer, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    # given shortfall policy "skip" and two weekly subscriptions whose schedule stood still for two
    # months: one with an untracked product, one whose tracked product is out of stock
    ShopPolicy.objects.filter(pk=policy.pk).update(stock_shortfall="skip")
    weekly = {"cycle_unit": "week", "anchor_date": dt.date(2027, 1, 4)}
    stocked = SubscriptionFactory(**weekly)
    short = SubscriptionFactory(**weekly, course=CourseFactory(setup=ProductFactory(stock=0)))

    # when the night of March 1st runs
    with django_capture_on_commit_callbacks(execute=True):
        result = generate_due(run_date=dt.date(2027, 1, 4) + dt.timedelta(weeks=8))

    # then the missed night catches up once for both: one moved order, and one skip (one email)
    # in place of the order, not a skip and an email for every past date of the two months
    assert (result.orders_created, result.skipped) == (1, 1)
    assert not Order.objects.filter(subscription=short).exists()
    skip_events = SubscriptionEvent.objects.filter(subscription=short, kind="sequence_skipped_stock_short")
    assert skip_events.count() == 1
    assert len(mailoutbox) == 1
    # and the skipped one's schedule moves on from the same catch-up date as the ordered one's
    stocked.refresh_from_db()
    short.refresh_from_db()
    assert short.skipped_sequences == [1]
    moved_to = Order.objects.get(subscription=stocked).delivery_date
    assert (stocked.anchor_date, stocked.anchor_sequence) == (moved_to, 1)
    assert (short.anchor_date, short.anchor_sequence) == (moved_to, 1)
    assert (short.next_sequence, short.next_delivery_date, short.next_creation_date) == (
        stocked.next_sequence,
        stocked.next_delivery_date,
        stocked.next_creation_date,
    )
    assert short.next_creation_date > dt.date(2027, 3, 1)


def test_a_row_that_fails_to_plan_takes_no_stock_from_the_batch(policy, writer) -> None:
    # given one unit in stock and two due subscriptions for it; the first has a broken cycle in the
    # database (day of month 0, as a bad import could leave it), so it fails once its stock is counted
    from subscriptions.models import Subscription

    product = ProductFactory(stock=1)
    course = CourseFactory(setup=product)
    broken = SubscriptionFactory(course=course)
    fine = SubscriptionFactory(course=course)
    Subscription.objects.filter(pk=broken.pk).update(cycle_day_of_month=0)

    # when the night runs
    result = generate_due(run_date=fine.next_creation_date)

    # then the broken row is reported and gets nothing; the unit goes to the other order, not on hold
    assert result.failed_ids == [broken.pk]
    assert not Order.objects.filter(subscription=broken).exists()
    order = Order.objects.get(subscription=fine)
    assert (order.status, order.hold_reasons) == ("new", [])
    # and the stock is taken once, for the order that has it
    product.refresh_from_db()
    assert product.stock == 0
