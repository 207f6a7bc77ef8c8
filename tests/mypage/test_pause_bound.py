"""Pause is bounded: a resume date more than the shop's pause_max_days (default 365) ahead is refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from subscriptions.models import ShopPolicy, SubscriptionStatus

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 2)

# (pause_max_days, days from today to resume_on, accepted)
CASES = [
    (365, 1, True),
    (365, 364, True),
    (365, 365, True),  # the boundary day itself is allowed
    (365, 366, False),
    (365, 9999, False),
    (30, 30, True),
    (30, 31, False),
    (1, 1, True),
    (1, 2, False),
]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(date(2026, 12, 2).isoformat() + "T10:00:00+09:00", tick=False):
        yield


def _set_max(days: int) -> None:
    from mypage.selectors import policy_forget

    ShopPolicy.objects.update(pause_max_days=days)
    policy_forget()


def test_the_default_bound_is_one_year(policy):
    assert ShopPolicy.current().pause_max_days == 365
    assert ShopPolicy.current().latest_resume_on(TODAY) == date(2027, 12, 2)


@pytest.mark.parametrize(("max_days", "ahead", "accepted"), CASES)
def test_the_api_bounds_the_resume_date(api, subscription, max_days, ahead, accepted):
    # given a shop allowing pauses of max_days
    _set_max(max_days)
    resume_on = TODAY + timedelta(days=ahead)
    # when the customer pauses until resume_on
    response = api.post(
        f"/api/mypage/subscriptions/{subscription.pk}/pause/",
        {"resume_on": resume_on.isoformat()},
        format="json",
    )
    subscription.refresh_from_db()
    # then it is paused, or refused with the code and nothing changed
    if accepted:
        assert response.status_code == 200
        assert (subscription.status, subscription.paused_until) == (SubscriptionStatus.PAUSED, resume_on)
    else:
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "resume_date_too_far"
        assert body["field"] == "resume_on"
        latest = TODAY + timedelta(days=max_days)
        assert f"{latest.year}年{latest.month}月{latest.day}日" in body["message"]
        assert (subscription.status, subscription.paused_until) == (SubscriptionStatus.ACTIVE, None)


def test_the_far_future_date_the_fuzzer_sent_is_refused(api, subscription):
    response = api.post(
        f"/api/mypage/subscriptions/{subscription.pk}/pause/", {"resume_on": "9999-12-31"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "resume_date_too_far"


def test_the_api_message_is_english_in_english(api, subscription):
    response = api.post(
        f"/api/mypage/subscriptions/{subscription.pk}/pause/",
        {"resume_on": "2028-01-01"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["code"] == "resume_date_too_far"
    assert response.json()["message"] == (
        "Please choose a resume date no later than December 2, 2027 (a pause lasts at most 365 days)."
    )


@pytest.mark.parametrize(("max_days", "ahead", "accepted"), CASES)
def test_the_my_page_form_bounds_the_resume_date(logged_in, subscription, max_days, ahead, accepted):
    _set_max(max_days)
    resume_on = TODAY + timedelta(days=ahead)
    response = logged_in.post(
        reverse("mypage:action", kwargs={"subscription_id": subscription.pk, "action_name": "pause"}),
        {"resume_on": resume_on.isoformat()},
        follow=True,
    )
    subscription.refresh_from_db()
    page = response.content.decode()
    if accepted:
        assert subscription.status == SubscriptionStatus.PAUSED
    else:
        assert subscription.status == SubscriptionStatus.ACTIVE
        assert "再開日（任意）: 再開日は" in page
        assert f"（休止は最長 {max_days} 日）" in page


def test_the_service_refuses_for_staff_too(subscription):
    from core.errors import DomainError
    from subscriptions.actors import Actor
    from subscriptions.services import subscription_pause

    with pytest.raises(DomainError) as refused:
        subscription_pause(
            subscription_id=subscription.pk, resume_on=TODAY + timedelta(days=366), actor=Actor.system()
        )
    assert refused.value.code == "resume_date_too_far"
    with translation.override("en"):
        assert subscription_pause(
            subscription_id=subscription.pk, resume_on=TODAY + timedelta(days=365), actor=Actor.system()
        ).paused_until == date(2027, 12, 2)
