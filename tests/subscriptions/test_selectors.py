"""After the nightly run has created today's orders, a change can no longer aim at a delivery whose
order should have been created today: it would be created tomorrow, too late for the lead time,
and the next run would move it (and the schedule) instead."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import DomainError
from scheduler.pipeline import stage_mark_run_started
from subscriptions.models import ShopPolicy
from subscriptions.services import (
    subscription_change_next_date,
    subscription_pause,
    subscription_resume,
    subscription_skip_next,
    subscription_unskip,
)
from tests.factories import SubscriptionFactory

from .services_helpers import admin_actor, d, on

pytestmark = pytest.mark.django_db

# Monthly from 1/31 (default policy: lead 5 business days, weekends and holidays closed):
# delivery 2/28 (Sun) is created 2/19 (Fri; 2/23 is a holiday).


@pytest.mark.parametrize("run_done", [False, True])
def test_undoing_a_skip_on_its_creation_date(run_done) -> None:  # noqa: ANN001
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"), next_sequence=2)
    with on(d("2027-02-01")):
        subscription_skip_next(subscription_id=sub.pk, actor=admin_actor())
    if run_done:
        stage_mark_run_started(d("2027-02-19"))

    with on(d("2027-02-19")):
        if run_done:
            with pytest.raises(DomainError) as exc:
                subscription_unskip(subscription_id=sub.pk, sequence=2, actor=admin_actor())
            assert exc.value.code == "too_late"
        else:
            subscription_unskip(subscription_id=sub.pk, sequence=2, actor=admin_actor())
            sub.refresh_from_db()
            assert (sub.next_sequence, sub.next_delivery_date) == (2, d("2027-02-28"))


def test_a_new_date_whose_order_is_due_today_is_refused_once_the_run_is_done() -> None:
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"), next_sequence=2)
    stage_mark_run_started(d("2027-02-19"))
    with on(d("2027-02-19")), pytest.raises(DomainError) as exc:
        subscription_change_next_date(subscription_id=sub.pk, new_date=d("2027-02-28"), actor=admin_actor())
    assert exc.value.code == "date_unreachable"


def test_resuming_after_the_run_aims_at_tomorrows_orders() -> None:
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"), next_sequence=2)
    with on(d("2027-02-01")):
        subscription_pause(subscription_id=sub.pk, actor=admin_actor())
    stage_mark_run_started(d("2027-02-19"))

    subscription_resume(subscription_id=sub.pk, actor=admin_actor(), today=d("2027-02-19"))

    sub.refresh_from_db()
    assert sub.next_creation_date > d("2027-02-19")
    assert (sub.next_sequence, sub.next_delivery_date) == (3, d("2027-03-31"))


def test_the_mark_never_goes_back() -> None:
    stage_mark_run_started(d("2027-02-19"))
    stage_mark_run_started(d("2027-02-10"))  # an old date re-run by hand
    assert ShopPolicy.current().last_nightly_run_date == dt.date(2027, 2, 19)
