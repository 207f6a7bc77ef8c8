"""手動受注: staff take a one-off order (no subscription) through the checkout's path: same pricing,
the stock checked (a shortfall is a form error), the staff member on the order's history; and every
place that shows or moves an order works for one without a subscription."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from billing.models import PaymentMethod
from catalog.models import Product, ProductSalePrice
from core.errors import DomainError
from orders.models import Order, OrderStatus
from orders.services import order_set_status
from pricing.models import Coupon
from storefront.models import Checkout
from storefront.one_off import OneOffInput, one_off_place, one_off_quote
from tests.factories import AddressFactory, CustomerFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(shop):  # noqa: ANN001, ANN201
    """A tracked product on sale (list ¥1,500, sale ¥1,200) and an untracked one."""
    vinegar = Product.objects.create(sku="KUROZU-1", name="黒酢ドリンク", price=1500, tax_rate=8, stock=3)
    ProductSalePrice.objects.create(product=vinegar, unit_price=1200, starts_on=dt.date(2027, 1, 1))
    shaker = Product.objects.create(sku="SHAKER-1", name="シェイカー", price=550, tax_rate=10)
    return vinegar, shaker


@pytest.fixture
def customer(shop):  # noqa: ANN001, ANN201
    customer = CustomerFactory(name="電話 太郎", name_kana="デンワ タロウ", phone="06-1234-5678")
    AddressFactory(
        customer=customer, postal_code="530-0001", prefecture="大阪府", city="大阪市北区", line1="梅田1-1"
    )
    return customer


@pytest.fixture
def staff(client, admin_user, shop):  # noqa: ANN001, ANN201
    return staff_login(client, admin_user)


# ---- the service ------------------------------------------------------------------------------------


def test_the_quote_prices_at_one_off_prices_with_shipping_and_cod(products, customer) -> None:  # noqa: ANN001
    vinegar, shaker = products
    data = OneOffInput(items=((vinegar.pk, 2), (shaker.pk, 1)), address_id=customer.addresses.get().pk)
    quote = one_off_quote(data=data, customer=customer)
    assert [(ln.product_id, ln.quantity, ln.unit_price) for ln in quote.priced.lines] == [
        (vinegar.pk, 2, 1200),
        (shaker.pk, 1, 550),
    ]
    # ¥2,950 of goods: the shop's ¥550 shipping (free from ¥5,000) and the ¥330 COD fee
    assert (quote.priced.items_subtotal, quote.priced.shipping_fee, quote.priced.cod_fee) == (2950, 550, 330)
    assert quote.priced.total == 2950 + 550 + 330
    assert quote.prefecture == "大阪府"
    assert quote.delivery_date == dt.date(2027, 1, 20)  # the earliest the calendar and lead days allow


def _refusal(data: OneOffInput, customer) -> DomainError:  # noqa: ANN001
    with pytest.raises(DomainError) as exc:
        one_off_quote(data=data, customer=customer)
    return exc.value


@pytest.mark.parametrize(
    ("items", "code", "words"),
    [
        ((("V", 4),), "stock_short", "黒酢ドリンク（在庫3個・ご注文4個）"),
        ((("V", 2), ("V", 2)), "stock_short", "黒酢ドリンク（在庫3個・ご注文4個）"),  # the same product twice
        ((), "no_items", "商品を1つ以上"),
        ((("V", 0),), "invalid_quantity", "1〜99"),
        (((987654, 1),), "product_not_found", "商品が見つかりません"),
        ((("INACTIVE", 1),), "product_inactive", "販売中ではない商品です"),
    ],
    ids=["short", "short-in-two-lines", "none", "quantity-0", "unknown", "inactive"],
)
def test_quote_refusals(products, customer, items, code, words) -> None:  # noqa: ANN001
    vinegar, _shaker = products
    inactive = Product.objects.create(sku="OLD-1", name="終売品", price=100, is_active=False)
    ids = {"V": vinegar.pk, "INACTIVE": inactive.pk}
    data = OneOffInput(
        items=tuple((ids.get(p, p), q) for p, q in items), address_id=customer.addresses.get().pk
    )
    error = _refusal(data, customer)
    assert (error.code, error.field) == (code, "items") and words in error.message


def test_other_refusals_name_their_field(products, customer) -> None:  # noqa: ANN001
    vinegar, _ = products
    base = {"items": ((vinegar.pk, 1),), "address_id": customer.addresses.get().pk}
    assert (
        _refusal(OneOffInput(**base, delivery_date=dt.date(2027, 1, 12)), customer).field == "delivery_date"
    )
    assert _refusal(OneOffInput(**base, coupon_code="NOPE"), customer).field == "coupon_code"
    assert _refusal(OneOffInput(**base, payment_kind="bitcoin"), customer).field == "payment_kind"
    new_address = {"items": base["items"], "postal_code": "0000000", "line1": "1-1"}
    assert _refusal(OneOffInput(**new_address), customer).code == "postal_code_unknown"


def test_placing_writes_the_order_once_with_the_staff_member(products, customer, admin_user) -> None:  # noqa: ANN001
    vinegar, shaker = products
    Coupon.objects.create(code="TEL300", name="電話限定", kind="fixed", value=300, applies_to="all")
    data = OneOffInput(
        items=((vinegar.pk, 2), (shaker.pk, 1)), address_id=customer.addresses.get().pk,
        payment_kind="bank_transfer", coupon_code="tel300", remarks="お電話にて（担当: 佐藤）",
    )  # fmt: skip
    result = one_off_place(data=data, key="one-off-key-1", staff_user=admin_user, customer=customer)
    order = result.order
    assert (order.subscription_id, order.sequence, order.customer_id) == (None, None, customer.pk)
    assert (order.items_subtotal, order.discount_total, order.payment_kind) == (2950, 300, "bank_transfer")
    assert order.coupon_redemption.coupon.code == "TEL300"
    created = order.events.get(kind="created")
    assert (created.actor_id, created.note) == (admin_user.pk, "お電話にて（担当: 佐藤）")
    vinegar.refresh_from_db()
    assert vinegar.stock == 1
    checkout = Checkout.objects.get(key="one-off-key-1")
    assert (checkout.channel, checkout.staff_id, checkout.order_id, checkout.subscription_id) == (
        "oneoff", admin_user.pk, order.pk, None,
    )  # fmt: skip
    # the same key and body again (a double submit) is the same order; another body is refused
    again = one_off_place(data=data, key="one-off-key-1", staff_user=admin_user, customer=customer)
    assert again.replayed and again.order.pk == order.pk and Order.objects.count() == 1
    with pytest.raises(DomainError) as exc:
        one_off_place(data=OneOffInput(items=((shaker.pk, 1),)), key="one-off-key-1", staff_user=admin_user)
    assert exc.value.code == "idempotency_key_reused"


def test_a_new_customer_becomes_a_guest_with_the_address(products, admin_user) -> None:  # noqa: ANN001
    vinegar, _ = products
    data = OneOffInput(
        items=((vinegar.pk, 1),), email="new@example.com", name="新規 花子", phone="03-0000-1111",
        postal_code="1000001", line1="千代田1-1",
    )  # fmt: skip
    order = one_off_place(data=data, key="one-off-key-2", staff_user=admin_user).order
    assert order.customer.user.email == "new@example.com" and not order.customer.is_member
    # cash on delivery: nothing to collect before shipping, so it is ready at once
    assert (order.ship_prefecture, order.ship_line1, order.status) == (
        "東京都",
        "千代田1-1",
        OrderStatus.READY,
    )


# ---- the admin page -----------------------------------------------------------------------------------


def _form(vinegar, customer=None, **overrides) -> dict:  # noqa: ANN001, ANN003
    values = {
        "key": "admin-one-off-1", "customer": str(customer.pk) if customer else "", "email": "", "name": "",
        "name_kana": "", "phone": "", "delivery_date": "", "time_slot": "", "address_id": "",
        "recipient_name": "", "postal_code": "", "city": "", "line1": "", "line2": "", "payment_kind": "cod",
        "payment_method_id": "", "coupon_code": "", "remarks": "", "product_1": str(vinegar.pk), "quantity_1": "2",
        "place": "1",
    }  # fmt: skip
    if customer is not None:
        values["address_id"] = str(customer.addresses.get().pk)
    values.update(overrides)
    return values


URL = "/admin/storefront/checkout/one-off/"


@pytest.mark.parametrize(
    "term", ["デンワ", "でんわ", "ﾃﾞﾝﾜ", "電話太郎", "06-1234-5678", "０６１２３４５６７８"]
)
def test_staff_find_the_customer_by_name_kana_or_phone(
    staff, customer, term, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    with django_assert_max_num_queries(12):
        page = staff.get(URL, {"q": term}).content.decode()
    assert f'id="found-{customer.pk}"' in page and "〒530-0001" in page
    assert f"?customer={customer.pk}" in page


def test_choosing_a_customer_offers_their_addresses_and_cards(staff, customer) -> None:  # noqa: ANN001
    card = PaymentMethod.objects.create(customer=customer, kind="card", brand="visa", last4="4242")
    page = staff.get(URL, {"customer": customer.pk}).content.decode()
    assert 'id="chosen-customer"' in page and "電話 太郎" in page
    assert f'<option value="{customer.addresses.get().pk}">' in page
    assert f'<option value="{card.pk}">visa •••• 4242</option>' in page
    assert staff.get(URL, {"q": "誰もいない"}).content.decode().count("一致する顧客はいません") == 1


def test_staff_preview_then_place_a_one_off_order(staff, admin_user, products, customer) -> None:  # noqa: ANN001
    vinegar, _ = products
    preview = staff.post(URL, {**_form(vinegar, customer), "preview": "1", "place": ""}).content.decode()
    assert 'id="one-off-quote"' in preview and "¥2,400" in preview and not Order.objects.exists()
    response = staff.post(URL, _form(vinegar, customer, remarks="FAX受付"))
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:orders_order_change", args=[order.pk]
    )
    assert order.subscription_id is None and order.events.get(kind="created").actor_id == admin_user.pk
    staff.post(URL, _form(vinegar, customer, remarks="FAX受付"))  # a double click
    assert Order.objects.count() == 1
    # the order's page names the staff member in its history
    page = staff.get(response["Location"]).content.decode()
    assert admin_user.get_username() in page and "FAX受付" in page


def test_a_stock_shortfall_is_a_form_error_and_nothing_is_written(staff, products, customer) -> None:  # noqa: ANN001
    vinegar, _ = products
    page = staff.post(URL, _form(vinegar, customer, quantity_1="5")).content.decode()
    assert (
        'id="one-off-errors"' in page and "在庫が不足しています: 黒酢ドリンク（在庫3個・ご注文5個）" in page
    )
    assert not Order.objects.exists() and not Checkout.objects.exists()
    vinegar.refresh_from_db()
    assert vinegar.stock == 3


def test_form_errors_for_a_row_and_an_unknown_customer(staff, products) -> None:  # noqa: ANN001
    vinegar, shaker = products
    form = {**_form(vinegar, product_2=str(shaker.pk), quantity_2=""), "customer": "999999"}
    page = staff.post(URL, form).content.decode()
    assert "数量を入力してください" in page and "この顧客IDの顧客はいません" in page
    assert not Order.objects.exists()


# ---- a one-off order downstream --------------------------------------------------------------------------


def test_a_one_off_order_works_wherever_orders_are_shown_or_moved(
    staff, admin_user, products, customer, client, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    vinegar, _ = products
    with django_capture_on_commit_callbacks(execute=True):
        order = one_off_place(
            data=OneOffInput(
                items=((vinegar.pk, 1),), address_id=customer.addresses.get().pk, payment_kind="bank_transfer"
            ),
            key="downstream-1", staff_user=admin_user, customer=customer,
        ).order  # fmt: skip
    # the admin's list, filters and page, and its PDFs
    assert staff.get("/admin/orders/order/").status_code == 200
    assert staff.get("/admin/orders/order/", {"q": "デンワ"}).status_code == 200
    assert staff.get(f"/admin/orders/order/{order.pk}/change/").status_code == 200
    for kind in ("invoice", "slip"):
        response = staff.get(f"/admin/orders/order/{order.pk}/{kind}.pdf")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    # the back office's CSV exports
    for kind in ("orders", "lines"):
        response = staff.post(reverse("backoffice:export"), {"kind": kind, "encoding": "utf-8"})
        assert order.number in b"".join(response.streaming_content).decode("utf-8-sig")
    # the status pipeline with its mails, and a cancellation that gives the stock back
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.READY, actor_user=admin_user)
        order_set_status(order_id=order.pk, status=OrderStatus.CANCELLED, actor_user=admin_user)
    vinegar.refresh_from_db()
    assert vinegar.stock == 3
    # the customer's my page and API
    client.force_login(customer.user)
    for url in ("/mypage/", "/mypage/orders/", f"/mypage/orders/{order.pk}/", "/api/mypage/orders/"):
        response = client.get(url)
        assert response.status_code == 200 and order.number in response.content.decode(), url
    assert client.get(f"/api/mypage/orders/{order.pk}/").json()["subscription_id"] is None


def test_the_search_costs_no_more_queries_for_more_results(
    staff, customer, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    with django_assert_max_num_queries(12) as one:
        staff.get(URL, {"q": "でんわ"})
    for n in range(5):
        other = CustomerFactory(name=f"電話 次郎{n}", name_kana=f"デンワ ジロウ{n}")
        AddressFactory(customer=other)
        PaymentMethod.objects.create(customer=other, kind="card", brand="visa", last4=f"{n:04d}")
    with django_assert_max_num_queries(12) as many:
        page = staff.get(URL, {"q": "でんわ"}).content.decode()
    assert page.count('id="found-') == 6 and len(many.captured_queries) == len(one.captured_queries)
