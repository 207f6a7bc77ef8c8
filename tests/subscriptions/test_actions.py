"""One table says what a customer may do in each status: the my page shows exactly those actions
and the services refuse the others (staff are not bound by it)."""

from __future__ import annotations

import pytest

from core.errors import DomainError
from mypage.selectors import subscription_state
from subscriptions.actions import CUSTOMER_ACTIONS, customer_may
from subscriptions.cycles import Cycle
from subscriptions.models import SubscriptionStatus
from subscriptions.services import (
    subscription_change_cycle,
    subscription_change_time_slot,
    subscription_restart,
    subscription_set_points_reservation,
)
from tests.factories import SubscriptionFactory

from .services_helpers import admin_actor, customer_actor, d, on

pytestmark = pytest.mark.django_db

TODAY = d("2027-01-05")  # the factory's subscription: next 1/31, customer deadline 1/23


def _time_slot(subscription, actor):
    return subscription_change_time_slot(subscription_id=subscription.pk, time_slot="14-16", actor=actor)


def _points(subscription, actor):
    return subscription_set_points_reservation(
        subscription_id=subscription.pk, mode="all", amount=0, actor=actor
    )


def _cycle(subscription, actor):
    cycle = Cycle(unit="month", interval=1, day_of_month=31)
    return subscription_change_cycle(subscription_id=subscription.pk, cycle=cycle, actor=actor)


SERVICES = {"time-slot": _time_slot, "points": _points, "change-cycle": _cycle}
OPEN = [SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED, SubscriptionStatus.SUSPENDED]


def test_a_suspended_subscriptions_time_slot_is_the_shops_to_change(policy):
    # given a subscription the shop suspended
    subscription = SubscriptionFactory(anchor_date=d("2027-01-31"), status=SubscriptionStatus.SUSPENDED)
    with on(TODAY):
        # then its page offers no time-slot change
        assert "time-slot" not in subscription_state(subscription=subscription, policy=policy).permitted
        # and the API's service refuses the customer as the page would
        with pytest.raises(DomainError) as exc:
            _time_slot(subscription, customer_actor(subscription))
        assert exc.value.code == "invalid_status"
        # while staff still may
        assert _time_slot(subscription, admin_actor()).delivery_time_slot == "14-16"


@pytest.mark.parametrize("status", OPEN)
@pytest.mark.parametrize("action", sorted(SERVICES))
def test_the_services_refuse_a_customer_exactly_what_the_page_hides(policy, status, action):
    subscription = SubscriptionFactory(anchor_date=d("2027-01-31"), status=status)
    with on(TODAY):
        shown = action in subscription_state(subscription=subscription, policy=policy).permitted
        assert shown == customer_may(action, status)
        if shown:
            SERVICES[action](subscription, customer_actor(subscription))
        else:
            with pytest.raises(DomainError) as exc:
                SERVICES[action](subscription, customer_actor(subscription))
            assert exc.value.code == "invalid_status"


def test_a_paused_customer_resumes_rather_than_restarts(policy):
    subscription = SubscriptionFactory(anchor_date=d("2027-01-31"), status=SubscriptionStatus.PAUSED)
    with on(TODAY):
        with pytest.raises(DomainError) as exc:
            subscription_restart(subscription_id=subscription.pk, actor=customer_actor(subscription))
        assert exc.value.code == "invalid_status"
        assert subscription_restart(subscription_id=subscription.pk, actor=admin_actor()).status == "active"


def test_every_status_has_a_row():
    assert set(CUSTOMER_ACTIONS) == set(SubscriptionStatus.values)
