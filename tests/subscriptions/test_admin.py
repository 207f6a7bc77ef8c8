"""The subscription admin pages a shop uses daily: lists, filters, search, preview, actions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from subscriptions.models import ShopPolicy, Subscription, SubscriptionEvent
from tests.factories import SubscriptionFactory
from tests.staff import staff_login

from .services_helpers import d, on

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:subscriptions_subscription_changelist")


@pytest.fixture
def subscriptions():
    subs = [SubscriptionFactory(anchor_date=d("2027-01-31")) for _ in range(8)]
    subs[0].needs_attention = ["payment_failed"]
    subs[0].save()
    subs[1].status = "paused"
    subs[1].save()
    return subs


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status__exact=active",
        "?attention=any",
        "?attention=payment_failed",
        "?cycle=month:1",
        "?customer__is_blacklisted__exact=1",
        "?delivery_time_slot__exact=",
        "?next_delivery_date__gte=2027-01-01",
        "?q=山田",
        "?q=SKU",
    ],
)
def test_changelist_renders_with_filters_and_search_in_bounded_queries(
    admin_client, subscriptions, query, django_assert_max_num_queries
):
    with django_assert_max_num_queries(16):
        response = admin_client.get(CHANGELIST + query)
    assert response.status_code == 200


def test_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_num_queries, subscriptions):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        admin_client.get(CHANGELIST)
    for _ in range(10):
        SubscriptionFactory(anchor_date=d("2027-01-31"))
    with CaptureQueriesContext(connection) as many:
        admin_client.get(CHANGELIST)
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("?attention=any", {0}), ("?attention=payment_failed", {0}), ("?status__exact=paused", {1})],
)
def test_filters_pick_the_right_rows(admin_client, subscriptions, query, expected):
    response = admin_client.get(CHANGELIST + query)
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert shown == {subscriptions[i].pk for i in expected}


def test_search_by_subscription_id_email_and_product(admin_client, subscriptions):
    target = subscriptions[3]
    for q in (target.customer.user.email, target.items.get().product.sku):
        result = admin_client.get(CHANGELIST, {"q": q}).context["cl"].result_list
        assert [obj.pk for obj in result] == [target.pk], q
    # an id also matches e-mails containing the digits, but the row itself is always found
    by_id = admin_client.get(CHANGELIST, {"q": str(target.pk)}).context["cl"].result_list
    assert target.pk in {obj.pk for obj in by_id}


def test_change_page_shows_the_next_twelve_deliveries_with_skips(admin_client, admin_user):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"), skipped_sequences=[2])
    with on(d("2027-01-05")):
        staff_login(admin_client, admin_user)
        response = admin_client.get(reverse("admin:subscriptions_subscription_change", args=[sub.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "今後のお届け予定" in html
    assert "2027-01-31" in html and "2027-02-28" in html and "2027-12-31" in html  # 12 rows
    assert "2028-01-31" not in html
    assert "2027-01-25" in html  # creation date of 1/31
    assert html.count("text-decoration: line-through") == 1


@pytest.mark.parametrize(
    ("action", "extra", "status", "kind"),
    [
        ("skip_next", {}, "active", "skipped"),
        ("pause", {}, "paused", "paused"),
        ("suspend", {}, "suspended", "suspended"),
        ("cancel", {}, "cancelled", "cancelled"),
    ],
)
def test_admin_actions_call_services_as_the_admin(admin_client, admin_user, action, extra, status, kind):
    subs = [SubscriptionFactory(anchor_date=d("2027-01-31")) for _ in range(2)]
    with on(d("2027-01-05")):
        staff_login(admin_client, admin_user)
        response = admin_client.post(
            CHANGELIST, {"action": action, "_selected_action": [s.pk for s in subs], **extra}, follow=True
        )
    assert response.status_code == 200
    for sub in subs:
        sub.refresh_from_db()
        assert sub.status == status
        event = SubscriptionEvent.objects.get(subscription=sub)
        assert (event.kind, event.actor_kind, event.actor_id) == (kind, "admin", admin_user.pk)
    if action == "cancel":
        assert {s.cancel_reason for s in subs} == {"shop_decision"}


def test_action_refusals_are_reported_not_raised(admin_client, admin_user):
    paused = SubscriptionFactory(anchor_date=d("2027-01-31"), status="cancelled")
    with on(d("2027-01-05")):
        staff_login(admin_client, admin_user)
        response = admin_client.post(
            CHANGELIST, {"action": "resume", "_selected_action": [paused.pk]}, follow=True
        )
    messages = [str(m) for m in response.context["messages"]]
    assert any(f"#{paused.pk}" in m for m in messages)
    assert Subscription.objects.get(pk=paused.pk).status == "cancelled"


def test_resume_and_restart_actions(admin_client, admin_user):
    paused = SubscriptionFactory(anchor_date=d("2027-01-31"), status="paused")
    cancelled = SubscriptionFactory(anchor_date=d("2027-01-31"), status="cancelled")
    with on(d("2027-01-05")):
        staff_login(admin_client, admin_user)
        admin_client.post(CHANGELIST, {"action": "resume", "_selected_action": [paused.pk]})
        admin_client.post(CHANGELIST, {"action": "restart", "_selected_action": [cancelled.pk]})
    assert set(Subscription.objects.values_list("status", flat=True)) == {"active"}


def test_shop_policy_is_a_singleton_page_with_special_days(admin_client):
    response = admin_client.get(reverse("admin:subscriptions_shoppolicy_changelist"))
    policy = ShopPolicy.current()
    assert response.status_code == 302
    assert response.url == reverse("admin:subscriptions_shoppolicy_change", args=[policy.pk])
    page = admin_client.get(response.url)
    assert page.status_code == 200
    assert "特別営業日・休業日" in page.content.decode()
    assert admin_client.get(reverse("admin:subscriptions_shoppolicy_add")).status_code == 403


def test_timeline_list_renders(admin_client, admin_user, django_assert_max_num_queries):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        staff_login(admin_client, admin_user)
        admin_client.post(CHANGELIST, {"action": "skip_next", "_selected_action": [sub.pk]})
    with django_assert_max_num_queries(10):
        response = admin_client.get(reverse("admin:subscriptions_subscriptionevent_changelist"))
    assert response.status_code == 200
    assert "skipped" in response.content.decode()


def test_course_page_previews_each_allowed_cycle_from_a_chosen_first_date(admin_client, admin_user):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    url = reverse("admin:catalog_course_change", args=[sub.course_id])
    with on(d("2027-01-05")):
        staff_login(admin_client, admin_user)
        default = admin_client.get(url).content.decode()
        chosen = admin_client.get(url, {"preview_from": "2028-01-31"}).content.decode()
        bad = admin_client.get(url, {"preview_from": "31/01/2028"}).content.decode()
    # default: the earliest deliverable date for an order placed today (1/5 + 5 open days; 1/11 is a holiday)
    assert 'value="2027-01-13"' in default
    assert "毎月" in default or "1ヶ月ごと" in default
    assert "2ヶ月ごと" in default
    # monthly and every 2 months from 2028-01-31, month ends kept
    assert "2028-02-29" in chosen and "2028-03-31" in chosen and "2028-05-31" in chosen
    assert "日付の形式が正しくありません" in bad


def test_subscriptions_are_cancelled_not_deleted_or_added_by_a_bare_form(admin_client):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    assert (
        admin_client.get(reverse("admin:subscriptions_subscription_delete", args=[sub.pk])).status_code == 403
    )
    assert admin_client.get(reverse("admin:subscriptions_subscription_add")).status_code == 403
