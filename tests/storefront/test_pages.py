"""The course pages and the web checkout as a browser without JavaScript gets them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from notifications.models import Notification
from orders.models import Order
from storefront.models import FinalConfirmation
from subscriptions.models import Subscription
from tests.factories import AddressFactory, CourseFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_course_list_and_page_show_prices_cycles_fees_and_terms(
    client, course, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    with django_assert_max_num_queries(16):
        page = client.get(reverse("storefront:courses")).content.decode()
    assert "青汁定期コース" in page and "¥1,530" in page and "¥4,530" in page
    CourseFactory(code="second")
    with django_assert_max_num_queries(16):
        assert "second" in client.get(reverse("storefront:courses")).content.decode()
    with django_assert_max_num_queries(24):
        page = client.get(reverse("storefront:course", args=["aojiru"])).content.decode()
    for text in ("初回", "2回目以降", "¥980", "¥3,980", "1ヶ月ごと", "2ヶ月ごと", "最低継続回数: 3回",
                 "¥10,590", "送料: ¥550", "代引手数料", "解約", 'name="viewport"'):  # fmt: skip
        assert text in page, text
    assert client.get(reverse("storefront:course", args=["nope"])).status_code == 404


def test_course_page_in_english(client, course) -> None:  # noqa: ANN001
    client.post(reverse("set_language"), {"language": "en", "next": "/courses/"})
    page = client.get(reverse("storefront:course", args=["aojiru"])).content.decode()
    for text in ("First delivery", "From the 2nd", "Every month", "Shipping", "Cancelling"):
        assert text in page, text
    assert "初回" not in page
    # the checkout says what it is (お申し込み is also a timeline event, "Signed up", elsewhere)
    checkout = client.get(reverse("storefront:checkout", args=["aojiru"])).content.decode()
    assert "<h1>Checkout: " in checkout and "Signed up" not in checkout
    assert "Subscription courses</a>" in checkout


def _form(**overrides) -> dict:  # noqa: ANN003
    values = {
        "quantity": "1", "cycle_id": "", "first_delivery_date": "2027-01-20", "time_slot": "",
        "email": "web@example.com", "name": "上野 ウェブ子", "name_kana": "", "phone": "03-0000-0000",
        "password": "a-long-pass-123", "postal_code": "100-0001", "city": "", "line1": "千代田1-1", "line2": "",
        "payment_kind": "bank_transfer", "coupon_code": "", "confirm": "1",
    }  # fmt: skip
    values.update(overrides)
    return values


def test_a_web_checkout_without_javascript(client, course, mailoutbox) -> None:  # noqa: ANN001
    url = reverse("storefront:checkout", args=["aojiru"])
    cycle = course.cycles.get(interval=2)
    client.get(reverse("storefront:course", args=["aojiru"]) + "?utm_source=news&utm_campaign=jan")
    page = client.get(url).content.decode()
    assert '<option value="2027-01-20">1月20日' in page and 'value="2027-01-19"' not in page
    # 住所検索: the postal code fills the prefecture and city, with no script
    page = client.post(url, {**_form(), "lookup": "1", "confirm": ""}).content.decode()
    assert "東京都" in page and 'value="千代田区千代田"' in page
    # and nothing typed before the lookup is lost, the password included
    assert 'value="a-long-pass-123"' in page and 'value="web@example.com"' in page
    response = client.post(url, _form(cycle_id=str(cycle.pk), city="千代田区千代田"))
    assert response.status_code == 302 and response["Location"].endswith("/confirm/")
    confirm = client.get(response["Location"]).content.decode()
    for text in ("分量", "初回のお支払い金額", "2回目以降", "¥1,530", "¥4,530", "3回分のお支払い総額", "¥10,590",
                 "お支払い時期", "初回お届け日", "2回目お届け予定日", "解約", "注文を確定する（定期購入）"):  # fmt: skip
        assert text in confirm, text
    # beside the terms, where the deliveries go and how the shop reaches the customer
    ship_to = confirm[confirm.index('id="confirm-ship-to"') :]
    assert "〒100-0001 東京都千代田区千代田千代田1-1" in ship_to and "web@example.com" in ship_to
    version = re.search(r'name="confirmed_version" value="([0-9a-f]+)"', confirm).group(1)
    placed = client.post(response["Location"], {"confirmed_version": version})
    assert placed.status_code == 302 and "/checkout/done/" in placed["Location"]
    # a double click (the same form posted again) places nothing more
    again = client.post(response["Location"], {"confirmed_version": version})
    assert again["Location"] == placed["Location"]
    assert Subscription.objects.count() == 1 and Order.objects.count() == 1
    sub = Subscription.objects.get()
    assert (sub.cycle_interval, sub.utm_source, sub.utm_campaign) == (2, "news", "jan")
    done = client.get(placed["Location"]).content.decode()
    assert Order.objects.get().number in done and "注文を確定する" not in done
    assert FinalConfirmation.objects.get().shown["terms_version"] == version
    assert Notification.objects.filter(kind="mail:received").count() == 1
    assert any("web@example.com" in m.to for m in mailoutbox)  # allauth's verification mail


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"postal_code": "999-9999"}, "postal_code", "郵便番号「999-9999」は見つかりません"),
        ({"email": ""}, "email", "この項目は必須です"),
        ({"password": "1"}, "password", "短すぎ"),
        ({"first_delivery_date": "2027-01-14"}, "first_delivery_date", ""),
        ({"coupon_code": "NOPE"}, "coupon_code", "クーポンコードが見つかりません"),
    ],
)
def test_bad_input_is_a_form_error_in_words(client, course, overrides, field, words) -> None:  # noqa: ANN001
    response = client.post(reverse("storefront:checkout", args=["aojiru"]), _form(**overrides))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="field-{field}"' in page
    block = page.split(f'id="field-{field}"')[1].split('<div class="field')[0]
    assert 'class="error"' in block and words in block


def test_unknown_postal_code_lookup_says_so(client, course) -> None:  # noqa: ANN001
    page = client.post(
        reverse("storefront:checkout", args=["aojiru"]), {**_form(postal_code="0000000"), "lookup": "1"}
    ).content.decode()
    assert 'id="lookup-error"' in page and "見つかりません" in page


def test_signed_in_customer_picks_a_saved_address_and_sees_the_record_on_the_my_page(client, course) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    address = AddressFactory(customer=customer)
    client.force_login(customer.user)
    url = reverse("storefront:checkout", args=["aojiru"])
    page = client.get(url).content.decode()
    assert 'name="email"' not in page and "千代田1-1" in page
    response = client.post(
        url, {**_form(), "address_id": str(address.pk), "payment_kind": "cod", "payment_method_id": "new"}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    confirm = client.get(response["Location"]).content.decode()
    assert "代引手数料" in confirm and "¥330" in confirm
    assert f"〒{address.postal_code} {address.prefecture}{address.city}{address.line1}" in confirm
    version = re.search(r'name="confirmed_version" value="([0-9a-f]+)"', confirm).group(1)
    client.post(response["Location"], {"confirmed_version": version})
    sub = Subscription.objects.get(customer=customer)
    record_page = client.get(reverse("storefront:confirmation", args=[sub.pk])).content.decode()
    assert "注文を確定する（定期購入）" in record_page and "¥1,860" in record_page
    assert (
        reverse("storefront:confirmation", args=[sub.pk])
        in client.get(reverse("mypage:subscription", args=[sub.pk])).content.decode()
    )
    other = CustomerFactory()
    client.force_login(other.user)
    assert client.get(reverse("storefront:confirmation", args=[sub.pk])).status_code == 404


def test_checkout_and_confirmation_pages_query_counts(client, course, django_assert_max_num_queries) -> None:  # noqa: ANN001
    url = reverse("storefront:checkout", args=["aojiru"])
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
    response = client.post(url, _form(city="千代田区千代田"))
    with django_assert_max_num_queries(30):
        assert "注文を確定する" in client.get(response["Location"]).content.decode()
