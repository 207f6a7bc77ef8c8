"""Status changes: pause/resume (no catch-up), suspend, cancel/restart; attention flags; counters."""

from __future__ import annotations

import pytest

from core.errors import DomainError
from subscriptions.models import SubscriptionStatus
from subscriptions.services import (
    TRANSITIONS,
    subscription_add_attention,
    subscription_cancel,
    subscription_clear_attention,
    subscription_give_back_cycle,
    subscription_pause,
    subscription_restart,
    subscription_resume,
    subscription_suspend,
)
from tests.factories import CourseFactory, SubscriptionFactory

from .services_helpers import admin_actor, creation, customer_actor, d, events, on

pytestmark = pytest.mark.django_db

S = SubscriptionStatus


def test_pause_then_resume_months_later_creates_no_catch_up_and_says_the_date_moved():
    # given a monthly subscription (next 1/31) paused on 1/5
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        subscription_pause(subscription_id=sub.pk, actor=customer_actor(sub))
    # when it is resumed on 6/20, five deliveries later
    with on(d("2027-06-20")):
        subscription_resume(subscription_id=sub.pk, actor=customer_actor(sub))
    # then the next delivery is the first schedule date still reachable: 6/30 (sequence 6), on the 31st rule
    sub.refresh_from_db()
    assert sub.status == S.ACTIVE
    assert (sub.next_sequence, sub.next_delivery_date) == (6, d("2027-06-30"))
    assert sub.next_creation_date == creation(d("2027-06-30")) >= d("2027-06-20")
    assert (sub.orders_created, sub.cycle_count) == (0, 0)
    resumed = events(sub)[-1]
    assert resumed.kind == "resumed"
    assert resumed.before["next_delivery_date"] == "2027-01-31"
    assert resumed.after["next_delivery_date"] == "2027-06-30"
    assert resumed.after["date_moved"] is True
    assert "1月31日" in resumed.note and "6月30日" in resumed.note


@pytest.mark.parametrize(
    ("resume_day", "expected", "moved"),
    [
        ("2027-01-10", "2027-01-31", False),  # still reachable: kept
        ("2027-01-25", "2027-01-31", False),  # its creation date: still kept
        ("2027-01-26", "2027-02-28", True),
        ("2027-03-01", "2027-03-31", True),  # 3/31 is created 3/24
        ("2027-03-25", "2027-04-30", True),
        ("2028-02-20", "2028-02-29", True),  # a year later, leap day, still on the 31st rule
    ],
)
def test_resume_keeps_a_reachable_next_date_else_moves_to_the_first_that_can_be_met(
    resume_day, expected, moved
):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        subscription_pause(subscription_id=sub.pk, resume_on=d("2027-03-01"), actor=admin_actor())
    sub.refresh_from_db()
    assert (sub.status, sub.paused_until) == (S.PAUSED, d("2027-03-01"))
    with on(d("2027-01-05")):  # the scheduler passes its run date explicitly
        subscription_resume(subscription_id=sub.pk, actor=admin_actor(), today=d(resume_day))
    sub.refresh_from_db()
    assert sub.next_delivery_date == d(expected)
    assert sub.paused_until is None
    assert events(sub)[-1].after["date_moved"] is moved


def test_resume_skips_over_a_skipped_sequence_it_lands_on():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"), skipped_sequences=[3])
    with on(d("2027-01-05")):
        subscription_pause(subscription_id=sub.pk, actor=admin_actor())
    with on(d("2027-03-01")):
        subscription_resume(subscription_id=sub.pk, actor=admin_actor())
    sub.refresh_from_db()
    assert (sub.next_sequence, sub.next_delivery_date) == (4, d("2027-04-30"))


def test_pause_rejects_a_resume_date_that_is_not_in_the_future():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")), pytest.raises(DomainError) as exc:
        subscription_pause(subscription_id=sub.pk, resume_on=d("2027-01-05"), actor=admin_actor())
    assert exc.value.code == "invalid_resume_date"


def test_cancel_then_restart_later_clears_the_cancellation_and_does_not_catch_up():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        subscription_cancel(subscription_id=sub.pk, reason="price", note="高い", actor=customer_actor(sub))
    sub.refresh_from_db()
    assert (sub.status, sub.cancel_reason, sub.cancel_note) == (S.CANCELLED, "price", "高い")
    assert sub.cancelled_at is not None
    with on(d("2027-04-02")):
        subscription_restart(subscription_id=sub.pk, actor=customer_actor(sub))
    sub.refresh_from_db()
    assert (sub.status, sub.cancel_reason, sub.cancelled_at) == (S.ACTIVE, "", None)
    assert sub.next_delivery_date == d("2027-04-30")
    assert [e.kind for e in events(sub)] == ["cancelled", "restarted"]
    assert events(sub)[-1].before["cancel_reason"] == "price"


@pytest.mark.parametrize(
    ("min_deliveries", "cycle_count", "actor", "outcome"),
    [
        (3, 2, "customer", "min_deliveries"),
        (3, 3, "customer", "ok"),
        (0, 0, "customer", "ok"),
        (3, 0, "admin", "ok"),  # the shop may always cancel
    ],
)
def test_cancel_minimum_deliveries(min_deliveries, cycle_count, actor, outcome):
    sub = SubscriptionFactory(
        anchor_date=d("2027-01-31"),
        course=CourseFactory(min_deliveries=min_deliveries),
        cycle_count=cycle_count,
    )
    who = customer_actor(sub) if actor == "customer" else admin_actor()
    with on(d("2027-01-05")):
        if outcome == "ok":
            subscription_cancel(subscription_id=sub.pk, reason="shop_decision", actor=who)
            sub.refresh_from_db()
            assert sub.status == S.CANCELLED
        else:
            with pytest.raises(DomainError) as exc:
                subscription_cancel(subscription_id=sub.pk, reason="price", actor=who)
            assert exc.value.code == outcome
            assert "3回" in exc.value.message


def test_cancel_needs_a_reason():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")), pytest.raises(DomainError) as exc:
        subscription_cancel(subscription_id=sub.pk, reason="", actor=admin_actor())
    assert exc.value.code == "reason_required"


def call(op, sub, who):
    return {
        "pause": lambda: subscription_pause(subscription_id=sub.pk, actor=who),
        "resume": lambda: subscription_resume(subscription_id=sub.pk, actor=who),
        "suspend": lambda: subscription_suspend(subscription_id=sub.pk, reason="不正注文の疑い", actor=who),
        "cancel": lambda: subscription_cancel(subscription_id=sub.pk, reason="shop_decision", actor=who),
        "restart": lambda: subscription_restart(subscription_id=sub.pk, actor=who),
    }[op]()


TARGET = {
    "pause": S.PAUSED,
    "resume": S.ACTIVE,
    "suspend": S.SUSPENDED,
    "cancel": S.CANCELLED,
    "restart": S.ACTIVE,
}
# resume only lifts a pause; restart lifts any of paused, suspended, cancelled
ALLOWED_FROM = {
    "pause": {S.ACTIVE},
    "resume": {S.PAUSED},
    "suspend": {S.ACTIVE, S.PAUSED},
    "cancel": {S.ACTIVE, S.PAUSED, S.SUSPENDED},
    "restart": {S.PAUSED, S.SUSPENDED, S.CANCELLED},
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("op", list(TARGET))
def test_status_moves_table(status, op):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"), status=status)
    with on(d("2027-01-05")):
        if status in ALLOWED_FROM[op]:
            call(op, sub, admin_actor())
            sub.refresh_from_db()
            assert sub.status == TARGET[op]
            assert TARGET[op] in TRANSITIONS[status]
            [event] = events(sub)
            assert (event.before["status"], event.after["status"]) == (status, TARGET[op])
        else:
            with pytest.raises(DomainError) as exc:
                call(op, sub, admin_actor())
            assert (exc.value.code, exc.value.status) == ("invalid_status", 409)
            assert events(sub) == []


@pytest.mark.parametrize(
    ("op", "status"),
    [("suspend", S.ACTIVE), ("restart", S.SUSPENDED)],
)
def test_customers_cannot_suspend_or_lift_a_suspension(op, status):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"), status=status)
    with on(d("2027-01-05")), pytest.raises(DomainError) as exc:
        call(op, sub, customer_actor(sub))
    assert (exc.value.code, exc.value.status) == ("not_allowed", 403)


def test_attention_reasons_are_added_once_and_cleared():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        subscription_add_attention(
            subscription_id=sub.pk, reason="payment_failed", actor=admin_actor(), note="card_declined"
        )
        subscription_add_attention(subscription_id=sub.pk, reason="payment_failed", actor=admin_actor())
        subscription_add_attention(subscription_id=sub.pk, reason="bad_address", actor=admin_actor())
        subscription_clear_attention(subscription_id=sub.pk, reason="payment_failed", actor=admin_actor())
        with pytest.raises(DomainError) as exc:
            subscription_add_attention(
                subscription_id=sub.pk, reason="bad_address", actor=customer_actor(sub)
            )
        assert exc.value.code == "not_allowed"
    sub.refresh_from_db()
    assert sub.needs_attention == ["bad_address"]
    assert [e.kind for e in events(sub)] == ["attention_added", "attention_added", "attention_cleared"]
    assert events(sub)[0].note == "card_declined"


@pytest.mark.parametrize(("cycle_count", "expected"), [(3, 2), (1, 0), (0, 0)])
def test_give_back_cycle_never_goes_below_zero_and_keeps_orders_created(cycle_count, expected):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"), cycle_count=cycle_count, orders_created=3)
    with on(d("2027-01-05")):
        subscription_give_back_cycle(subscription_id=sub.pk, sequence=3, actor=admin_actor())
    sub.refresh_from_db()
    assert (sub.cycle_count, sub.orders_created) == (expected, 3)
    [event] = events(sub)
    assert (event.before, event.after) == (
        {"cycle_count": cycle_count},
        {"cycle_count": expected, "sequence": 3},
    )
