"""Staff take phone orders through the checkout service; the admin shows what customers confirmed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import Order
from storefront.models import Checkout, FinalConfirmation
from storefront.services import CheckoutInput, checkout_place
from subscriptions.models import ActorKind, Subscription
from tests.factories import AddressFactory, CustomerFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user, course):  # noqa: ANN001, ANN201
    """Signed in after the clock is frozen (a session from the real today would have expired)."""
    return staff_login(client, admin_user)


def _phone_form(course, **overrides) -> dict:  # noqa: ANN001, ANN003
    values = {
        "key": "phone-key-00001", "customer": "", "email": "phone@example.com", "name": "電話 受子",
        "phone": "03-1111-2222", "course": str(course.pk), "quantity": "2", "cycle_id": "", "first_delivery_date": "",
        "time_slot": "", "address_id": "", "recipient_name": "", "postal_code": "530-0001", "city": "",
        "line1": "梅田1-1", "line2": "", "payment_kind": "cod", "payment_method_id": "", "coupon_code": "",
        "source": "phone", "remarks": "お電話にて受付", "place": "1",
    }  # fmt: skip
    values.update(overrides)
    return values


def test_the_order_add_page_leads_to_the_phone_order_page(admin_client) -> None:  # noqa: ANN001
    # the phone order page replaces the order admin's 403
    # noqa: ANN001
    response = admin_client.get("/admin/orders/order/add/")
    assert response.status_code == 302 and response["Location"] == reverse("admin:storefront_checkout_add")
    assert admin_client.get(response["Location"]).status_code == 200


def test_staff_place_a_phone_order_for_a_new_customer(admin_client, admin_user, course) -> None:  # noqa: ANN001
    url = reverse("admin:storefront_checkout_add")
    preview = admin_client.post(url, {**_phone_form(course), "preview": "1", "place": ""}).content.decode()
    assert 'id="phone-quote"' in preview and "¥1,960" in preview
    assert not Subscription.objects.exists()
    response = admin_client.post(url, _phone_form(course))
    sub = Subscription.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/subscription/{sub.pk}/change/")
    order = Order.objects.get()
    assert (order.sequence, order.items_subtotal, order.ship_prefecture, order.cod_fee) == (
        1,
        1960,
        "大阪府",
        330,
    )
    assert not sub.customer.is_member  # no password: a guest the shop can invite later
    assert sub.remarks == "お電話にて受付" and sub.source == "phone"
    created = sub.events.get(kind="created")
    assert (created.actor_kind, created.actor_id) == (ActorKind.ADMIN, admin_user.pk)
    assert order.events.get(kind="created").actor_id == admin_user.pk
    checkout = Checkout.objects.get()
    assert (checkout.channel, checkout.staff_id) == ("admin", admin_user.pk)
    # the same form posted twice (a double click) makes nothing more
    admin_client.post(url, _phone_form(course))
    assert Subscription.objects.count() == 1
    page = admin_client.get(response["Location"]).content.decode()
    assert "最終確認画面の記録" in page and "分量" in page


def test_phone_order_refusals_are_form_errors(admin_client, course) -> None:  # noqa: ANN001
    product = course.items.get().product
    product.stock = 1
    product.save()
    page = admin_client.post(reverse("admin:storefront_checkout_add"), _phone_form(course)).content.decode()
    assert "在庫が不足しています" in page
    page = admin_client.post(
        reverse("admin:storefront_checkout_add"), _phone_form(course, postal_code="0000000", quantity="1")
    ).content.decode()
    assert "見つかりません" in page
    assert not Subscription.objects.exists()


def test_existing_customer_with_a_saved_address(admin_client, course) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    address = AddressFactory(customer=customer)
    admin_client.post(
        reverse("admin:storefront_checkout_add"),
        _phone_form(
            course, customer=str(customer.pk), email="", name="", address_id=str(address.pk), postal_code=""
        ),
    )
    assert Subscription.objects.get().customer == customer


def test_admin_lists_confirmation_records(admin_client, course) -> None:  # noqa: ANN001
    data = CheckoutInput(course_code="aojiru", email="r@example.com", name="記録 太郎", postal_code="1000001",
                         line1="千代田1-1", payment_kind="bank_transfer")  # fmt: skip
    checkout_place(data=data, key="record-key-001")
    record = FinalConfirmation.objects.get()
    page = admin_client.get(
        reverse("admin:storefront_finalconfirmation_change", args=[record.pk])
    ).content.decode()
    assert "初回のお支払い金額" in page and "注文を確定する（定期購入）" in page
    assert admin_client.get(reverse("admin:storefront_checkout_changelist")).status_code == 200
