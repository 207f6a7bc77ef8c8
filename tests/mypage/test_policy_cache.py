"""The my page keeps one copy of the shop policy per process; changes reach it at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscriptions.models import ShopPolicy, SpecialDay

pytestmark = pytest.mark.django_db


def _detail(client, subscription) -> str:
    return client.get(
        reverse("mypage:subscription", kwargs={"subscription_id": subscription.pk})
    ).content.decode()


def test_a_policy_change_in_the_admin_reaches_the_cached_copy(logged_in, subscription):
    # given the page was shown (the process now holds the shop policy)
    assert 'id="skip"' in _detail(logged_in, subscription)
    # when the shop switches skipping off and saves the policy (as the admin does)
    policy = ShopPolicy.current()
    policy.allow_skip = False
    policy.save()
    # then the next page view no longer offers it
    assert 'id="skip"' not in _detail(logged_in, subscription)


def _policy_reads(client, subscription) -> int:
    with CaptureQueriesContext(connection) as captured:
        _detail(client, subscription)
    return sum("subscriptions_shoppolicy" in q["sql"] for q in captured.captured_queries)


def test_a_new_special_day_reaches_the_cached_copy(logged_in, subscription):
    # given the page was shown once, the next view does not read the policy again
    _detail(logged_in, subscription)
    assert _policy_reads(logged_in, subscription) == 0
    # when the shop adds a closure, then the next view reads the policy (and its special days) again
    SpecialDay.objects.create(
        policy=ShopPolicy.current(), date=subscription.next_delivery_date, is_open=False
    )
    assert _policy_reads(logged_in, subscription) == 1
