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


def _cycle_reads(client, subscription) -> int:
    with CaptureQueriesContext(connection) as captured:
        body = _detail(client, subscription)
    assert 'id="change-cycle"' in body
    return sum("catalog_coursecycle" in q["sql"] for q in captured.captured_queries)


def test_course_cycles_are_kept_per_process_and_a_change_shows_at_once(logged_in, subscription):
    from catalog.models import CourseCycle

    # given the page was shown once, the next view does not read the course's cycles again
    _detail(logged_in, subscription)
    assert _cycle_reads(logged_in, subscription) == 0
    # when the shop offers a new cycle (saved as the admin does), the next view shows it
    cycle = CourseCycle.objects.create(course=subscription.course, unit="week", interval=3, position=9)
    assert f'<option value="{cycle.pk}"' in _detail(logged_in, subscription)
    # and when it removes it again, the next view no longer offers it
    cycle.delete()
    assert f'<option value="{cycle.pk}"' not in _detail(logged_in, subscription)


def test_the_versions_are_read_once_per_request_and_again_on_the_next(logged_in, subscription):
    from django.core.cache import cache

    from mypage import selectors

    _detail(logged_in, subscription)
    reads = []
    original = cache.get_many

    def counting_get_many(keys, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        reads.append(tuple(keys))
        return original(keys, *args, **kwargs)

    cache.get_many = counting_get_many
    try:
        _detail(logged_in, subscription)
        _detail(logged_in, subscription)
    finally:
        del cache.get_many
    version_reads = [keys for keys in reads if selectors._policy_memo.version_key in keys]
    assert len(version_reads) == 2  # one round trip per request for the three memos
