"""A customer never sees nor changes another customer's subscriptions, orders, addresses or cards."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import PaymentMethod
from mypage.actions import ACTIONS
from subscriptions.models import SubscriptionEvent
from tests.factories import AddressFactory
from tests.mypage.test_pages import _order

pytestmark = pytest.mark.django_db

PAGES_GET = ["mypage:subscription", "mypage:subscription-cancel"]


@pytest.mark.parametrize("name", PAGES_GET)
def test_pages_of_another_customers_subscription_are_404(logged_in, others_subscription, name):
    assert logged_in.get(reverse(name, args=[others_subscription.pk])).status_code == 404


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_page_actions_on_another_customers_subscription_are_404(logged_in, others_subscription, action):
    url = reverse("mypage:action", kwargs={"subscription_id": others_subscription.pk, "action_name": action})
    assert logged_in.post(url, {"sequence": 1, "reason": "price"}).status_code == 404
    assert not SubscriptionEvent.objects.filter(subscription=others_subscription).exists()


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_api_actions_on_another_customers_subscription_are_404(api, others_subscription, action):
    response = api.post(f"/api/mypage/subscriptions/{others_subscription.pk}/{action}/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not SubscriptionEvent.objects.filter(subscription=others_subscription).exists()


def test_add_address_and_card_on_another_customers_subscription_are_404(logged_in, others_subscription):
    for name in ("mypage:address-add", "mypage:card-add"):
        response = logged_in.post(
            reverse(name, args=[others_subscription.pk]), {"stripe_payment_method_id": "pm_x"}
        )
        assert response.status_code == 404


def test_api_reads_of_another_customers_objects_are_404(api, other_customer, others_subscription):
    order = _order(other_customer, others_subscription, 1)
    assert api.get(f"/api/mypage/subscriptions/{others_subscription.pk}/").status_code == 404
    assert api.get(f"/api/mypage/orders/{order.pk}/").status_code == 404
    assert api.get("/api/mypage/subscriptions/").json() == []
    assert api.get("/api/mypage/orders/").json()["count"] == 0
    assert api.get("/api/mypage/addresses/").json() == []
    PaymentMethod.objects.create(customer=other_customer, kind="card", brand="visa", last4="1111")
    assert api.get("/api/mypage/payment-methods/").json() == []


def test_order_pages_and_documents_of_another_customer_are_404(
    logged_in, other_customer, others_subscription
):
    order = _order(other_customer, others_subscription, 1)
    assert logged_in.get(f"/mypage/orders/{order.pk}/").status_code == 404
    for document in ("invoice.pdf", "slip.pdf"):
        assert logged_in.get(f"/mypage/orders/{order.pk}/{document}").status_code == 404
    assert str(order.number) not in logged_in.get("/mypage/orders/").content.decode()


def test_another_customers_address_or_card_cannot_be_chosen(logged_in, api, other_customer, subscription):
    address = AddressFactory(customer=other_customer)
    card = PaymentMethod.objects.create(customer=other_customer, kind="card", brand="visa", last4="1111")
    url = reverse("mypage:action", kwargs={"subscription_id": subscription.pk, "action_name": "address"})
    logged_in.post(url, {"address_id": address.pk})
    url = reverse(
        "mypage:action", kwargs={"subscription_id": subscription.pk, "action_name": "payment-method"}
    )
    logged_in.post(url, {"payment_method_id": card.pk})
    for action, payload in (
        ("address", {"address_id": address.pk}),
        ("payment-method", {"payment_method_id": card.pk}),
    ):
        response = api.post(f"/api/mypage/subscriptions/{subscription.pk}/{action}/", payload, format="json")
        assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.shipping_address.customer_id == subscription.customer_id
    assert subscription.payment_method_id is None
