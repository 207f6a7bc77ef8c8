"""The my-page screens: what a customer sees and what each form changes (through the services)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from billing.models import PaymentMethod
from orders.models import Order, OrderLine
from subscriptions.models import ShopPolicy, Subscription, SubscriptionEvent, SubscriptionStatus
from tests.factories import AddressFactory, CourseFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def _action_url(subscription: Subscription, name: str) -> str:
    return reverse("mypage:action", kwargs={"subscription_id": subscription.pk, "action_name": name})


def _detail_url(subscription: Subscription) -> str:
    return reverse("mypage:subscription", kwargs={"subscription_id": subscription.pk})


def _order(customer, subscription, sequence, **fields):
    order = Order.objects.create(
        customer=customer,
        subscription=subscription,
        sequence=sequence,
        creation_date=subscription.next_delivery_date - timedelta(days=7),
        delivery_date=subscription.next_delivery_date - timedelta(days=30 * sequence),
        ship_name="山田 花子",
        ship_postal_code="100-0001",
        ship_prefecture="東京都",
        ship_city="千代田区",
        ship_line1="千代田1-1",
        total=3980,
        **fields,
    )
    product = subscription.items.first().product
    OrderLine.objects.create(
        order=order,
        product=product,
        sku=product.sku,
        product_name=product.name,
        quantity=1,
        unit_price=3980,
        tax_rate=8,
        line_total=3980,
    )
    return order


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/mypage/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/mypage/"


def test_home_lists_subscriptions_orders_and_deadline(logged_in, customer, subscription, policy):
    # given two subscriptions and three orders with a tracking number
    second = SubscriptionFactory(customer=customer, anchor_date=subscription.anchor_date)
    for sequence in (1, 2, 3):
        _order(customer, subscription, sequence, tracking_number=f"1234-5678-000{sequence}", status="shipped")

    # when the customer opens the my page
    response = logged_in.get("/mypage/")

    # then each subscription shows its items, next date and an open deadline; orders their tracking
    body = response.content.decode()
    assert response.status_code == 200
    for sub in (subscription, second):
        assert sub.course.name in body
        assert sub.items.first().product.name in body
    assert subscription.next_delivery_date.strftime("%Y/%m/%d") in body
    assert "変更できます" in body
    assert "1234-5678-0003" in body
    assert "発送済み" in body
    assert f"/mypage/orders/{Order.objects.first().pk}/invoice.pdf" in body


def test_home_query_count_does_not_grow_with_rows(
    logged_in, customer, subscription, django_assert_max_num_queries
):
    for _ in range(4):
        SubscriptionFactory(customer=customer, anchor_date=subscription.anchor_date)
    for sequence in range(1, 8):
        _order(customer, subscription, sequence)
    logged_in.get("/mypage/")  # the first view loads the shop policy into the process
    # session, user, customer, subscriptions + items + pending add-ons, orders + lines, points, and
    # the next orders' prices (billing's PricingBook from the process's cached catalogue: no query)
    with django_assert_max_num_queries(9):
        response = logged_in.get("/mypage/")
    assert response.status_code == 200


def test_subscription_page_shows_actions_upcoming_and_timeline(
    logged_in, subscription, django_assert_max_num_queries
):
    logged_in.get(_detail_url(subscription))  # the first view loads the shop policy into the process
    # session, user, subscription with customer and points, its items and add-ons, addresses,
    # payment methods, timeline; cycles and the next order's price from the process's copies
    with django_assert_max_num_queries(7):
        response = logged_in.get(_detail_url(subscription))
    body = response.content.decode()
    assert response.status_code == 200
    for section in (
        'id="skip"',
        'id="change-date"',
        'id="change-cycle"',
        'id="time-slot"',
        'id="quantities"',
    ):
        assert section in body
    assert body.count('class="seq"') == 6  # the next six deliveries
    assert 'type="date"' in body and 'min="' in body and 'max="' in body


def test_skip_then_undo_writes_timeline_and_mails(
    logged_in, subscription, django_capture_on_commit_callbacks
):
    first_date = subscription.next_delivery_date

    # when the customer skips the next delivery
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(_action_url(subscription, "skip"), follow=True)

    # then the next delivery moves on, the page says so and an email confirms it
    subscription.refresh_from_db()
    assert subscription.next_sequence == 2
    assert "次回のお届けをスキップしました" in response.content.decode()
    assert len(mail.outbox) == 1 and "スキップ" in mail.outbox[0].subject
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="skipped").exists()
    assert "スキップを取り消す" in response.content.decode()

    # when they undo it
    logged_in.post(_action_url(subscription, "unskip"), {"sequence": 1})

    # then the first delivery is back
    subscription.refresh_from_db()
    assert (subscription.next_sequence, subscription.next_delivery_date) == (1, first_date)


def test_change_date_accepts_a_date_in_the_window(logged_in, subscription):
    new_date = subscription.next_delivery_date + timedelta(days=3)
    logged_in.post(_action_url(subscription, "change-date"), {"new_date": new_date.isoformat()})
    subscription.refresh_from_db()
    assert subscription.next_delivery_date == new_date


@pytest.mark.parametrize("offset_days", [-60, 400])
def test_change_date_refuses_dates_outside_the_window(logged_in, subscription, offset_days):
    before = subscription.next_delivery_date
    new_date = before + timedelta(days=offset_days)
    response = logged_in.post(
        _action_url(subscription, "change-date"), {"new_date": new_date.isoformat()}, follow=True
    )
    subscription.refresh_from_db()
    assert subscription.next_delivery_date == before
    assert "選択できない日付です" in response.content.decode()


def test_change_cycle_to_an_allowed_course_cycle(logged_in, subscription):
    bimonthly = subscription.course.cycles.get(interval=2)
    logged_in.post(_action_url(subscription, "change-cycle"), {"course_cycle": bimonthly.pk})
    subscription.refresh_from_db()
    assert subscription.cycle_interval == 2


def test_change_cycle_rejects_another_course_cycle(logged_in, subscription):
    foreign = CourseFactory().cycles.get(interval=2)
    logged_in.post(_action_url(subscription, "change-cycle"), {"course_cycle": foreign.pk})
    subscription.refresh_from_db()
    assert subscription.cycle_interval == 1


def test_time_slot_quantities_and_points(logged_in, subscription):
    item = subscription.items.get()
    logged_in.post(_action_url(subscription, "time-slot"), {"time_slot": "19-21"})
    logged_in.post(_action_url(subscription, "quantities"), {f"qty_{item.product_id}": 3})
    logged_in.post(_action_url(subscription, "points"), {"mode": "amount", "amount": 500})
    subscription.refresh_from_db()
    item.refresh_from_db()
    assert subscription.delivery_time_slot == "19-21"
    assert item.quantity == 3
    assert (subscription.points_reservation, subscription.points_reservation_amount) == ("amount", 500)


def test_address_choose_and_add(logged_in, customer, subscription):
    other = AddressFactory(customer=customer, is_default=False, city="大阪市")
    logged_in.post(_action_url(subscription, "address"), {"address_id": other.pk})
    subscription.refresh_from_db()
    assert subscription.shipping_address_id == other.pk

    logged_in.post(
        reverse("mypage:address-add", kwargs={"subscription_id": subscription.pk}),
        {
            "recipient_name": "山田 太郎",
            "postal_code": "5300001",
            "prefecture": "大阪府",
            "city": "大阪市北区",
            "line1": "梅田1-1",
        },
    )
    subscription.refresh_from_db()
    assert subscription.shipping_address.postal_code == "530-0001"
    assert subscription.shipping_address.customer_id == customer.pk


def test_payment_method_choose_saved_card(logged_in, customer, subscription):
    card = PaymentMethod.objects.create(customer=customer, kind="card", brand="visa", last4="4242")
    response = logged_in.get(_detail_url(subscription))
    assert "visa •••• 4242" in response.content.decode()
    logged_in.post(_action_url(subscription, "payment-method"), {"payment_method_id": card.pk})
    subscription.refresh_from_db()
    assert subscription.payment_method_id == card.pk


def test_pause_resume_cancel_restart(logged_in, subscription):
    resume_on = subscription.next_delivery_date + timedelta(days=60)
    logged_in.post(_action_url(subscription, "pause"), {"resume_on": resume_on.isoformat()})
    subscription.refresh_from_db()
    assert (subscription.status, subscription.paused_until) == (SubscriptionStatus.PAUSED, resume_on)

    logged_in.post(_action_url(subscription, "resume"))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE

    logged_in.post(
        reverse("mypage:subscription-cancel", args=[subscription.pk]), {"reason": "price", "note": "高い"}
    )
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_reason) == (SubscriptionStatus.CANCELLED, "price")

    logged_in.post(_action_url(subscription, "restart"))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


def test_cancel_page_offers_skip_and_pause_first_and_needs_a_reason(logged_in, subscription):
    page = logged_in.get(reverse("mypage:subscription-cancel", args=[subscription.pk])).content.decode()
    assert 'id="alternatives"' in page
    assert _action_url(subscription, "skip") in page and _action_url(subscription, "pause") in page

    response = logged_in.post(
        reverse("mypage:subscription-cancel", args=[subscription.pk]), {"note": "x"}, follow=True
    )
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert "解約理由" in response.content.decode()


def test_after_the_deadline_changes_are_hidden_and_refused(logged_in, customer, policy, today):
    # given a subscription whose next order is created within the deadline
    late = SubscriptionFactory(customer=customer, anchor_date=today + timedelta(days=2))

    page = logged_in.get(_detail_url(late)).content.decode()
    assert 'id="change-date"' not in page
    assert "締切済み" in page

    # when the customer posts a skip anyway, then it is refused with the service's message
    response = logged_in.post(_action_url(late, "skip"), follow=True)
    late.refresh_from_db()
    assert late.next_sequence == 1
    assert "変更締切" in response.content.decode()


@pytest.mark.parametrize(
    ("flag", "section"),
    [
        ("allow_skip", 'id="skip"'),
        ("allow_change_date", 'id="change-date"'),
        ("allow_change_cycle", 'id="change-cycle"'),
        ("allow_change_quantity", 'id="quantities"'),
        ("allow_coupon", 'id="coupon"'),
    ],
)
def test_policy_permissions_hide_actions(logged_in, subscription, flag, section):
    ShopPolicy.objects.filter(pk=1).update(**{flag: False})
    page = logged_in.get(_detail_url(subscription)).content.decode()
    assert section not in page


def test_disallowed_action_is_refused_even_when_posted(logged_in, subscription):
    ShopPolicy.objects.filter(pk=1).update(allow_skip=False)
    logged_in.post(_action_url(subscription, "skip"))
    subscription.refresh_from_db()
    assert subscription.next_sequence == 1


def test_english_is_available(logged_in, subscription):
    logged_in.post("/i18n/setlang/", {"language": "en", "next": "/mypage/"})
    assert logged_in.get("/mypage/").status_code == 200


def test_order_pages(logged_in, customer, subscription, django_assert_max_num_queries):
    order = _order(customer, subscription, 1, tracking_number="9999")
    with django_assert_max_num_queries(8):
        assert "9999" in logged_in.get("/mypage/orders/").content.decode()
    assert order.lines.first().product_name in logged_in.get(f"/mypage/orders/{order.pk}/").content.decode()


def test_coupon_apply_and_remove(logged_in, subscription, django_capture_on_commit_callbacks):
    from pricing.models import Coupon

    Coupon.objects.create(code="WELCOME500", name="初回500円引き", kind="fixed", value=500, applies_to="all")
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(
            _action_url(subscription, "coupon-apply"), {"code": " welcome500 "}, follow=True
        )
    subscription.refresh_from_db()
    assert subscription.coupon.code == "WELCOME500"
    assert "クーポンを適用しました" in response.content.decode()
    assert len(mail.outbox) == 1

    logged_in.post(_action_url(subscription, "coupon-remove"))
    subscription.refresh_from_db()
    assert subscription.coupon is None


def test_unknown_coupon_is_refused_with_a_message(logged_in, subscription):
    response = logged_in.post(_action_url(subscription, "coupon-apply"), {"code": "NOPE"}, follow=True)
    subscription.refresh_from_db()
    assert subscription.coupon is None
    assert response.content.decode().count('class="message error"') == 1


def test_points_balance_is_shown(logged_in, customer, subscription):
    from pricing.services.points import points_adjust
    from subscriptions.actors import Actor

    points_adjust(customer_id=customer.pk, amount=1234, note="テスト", actor=Actor.system())
    assert "1,234 pt" in logged_in.get("/mypage/").content.decode()
    assert "1,234 pt" in logged_in.get(_detail_url(subscription)).content.decode()


def test_new_address_page_shows_errors_without_losing_input(logged_in, subscription):
    url = reverse("mypage:address-add", kwargs={"subscription_id": subscription.pk})
    assert 'name="prefecture"' in logged_in.get(url).content.decode()
    response = logged_in.post(url, {"recipient_name": "山田", "postal_code": "12", "prefecture": "東京都"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "郵便番号は7桁の数字で入力してください。" in body and 'value="山田"' in body
