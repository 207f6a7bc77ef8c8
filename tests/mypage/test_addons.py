"""ついで買い on the my page (plain forms, no JavaScript) and its API: add, change, remove, refusals."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from catalog.models import Product, ProductSalePrice
from subscriptions.models import ShopPolicy, Subscription, SubscriptionAddon, SubscriptionEvent
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def vinegar(db):
    product = ProductFactory(
        name="黒酢ドリンク", sku="KUROZU-1", price=1500, tax_rate=8, stock=4, addon_available=True
    )
    ProductFactory(name="出していない商品", addon_available=False)
    return product


def _url(subscription: Subscription, name: str) -> str:
    return reverse("mypage:action", kwargs={"subscription_id": subscription.pk, "action_name": name})


def _page(subscription: Subscription) -> str:
    return reverse("mypage:subscription", kwargs={"subscription_id": subscription.pk})


def _post(client, subscription, name, data, **headers):  # noqa: ANN001, ANN003, ANN202
    response = client.post(_url(subscription, name), data, follow=True, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_offers_add_ons_and_costs_no_more_queries(
    logged_in, subscription, vinegar, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    logged_in.get(_page(subscription))  # the process loads the policy, the catalogue and the offers
    # session, user, subscription with customer, then its items and pending add-ons in one query,
    # addresses, payment methods, timeline; the offered products and prices from the process's copies
    with django_assert_max_num_queries(7):
        body = logged_in.get(_page(subscription)).content.decode()
    assert 'id="addons"' in body and 'id="addon-add-form"' in body
    assert "黒酢ドリンク（¥1,500）" in body and "出していない商品" not in body
    assert "<script" not in body.split('id="addons"')[1].split("</section>")[0]


def test_a_customer_adds_changes_and_removes_an_add_on_with_plain_forms(
    logged_in,
    customer,
    subscription,
    vinegar,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
) -> None:  # noqa: ANN001
    # when the customer adds two for the next delivery
    with django_capture_on_commit_callbacks(execute=True):
        body = _post(logged_in, subscription, "addon-add", {"product_id": vinegar.pk, "quantity": "2"})

    # then it is confirmed on screen and by mail, on the timeline, and in the next order's price
    assert "次回のお届けに商品を追加しました" in body
    addon = SubscriptionAddon.objects.get(subscription=subscription)
    assert (addon.product_id, addon.quantity, addon.order_id) == (vinegar.pk, 2, None)
    assert (
        SubscriptionEvent.objects.get(subscription=subscription, kind="addon_added").actor_kind == "customer"
    )
    assert "黒酢ドリンク × 2" in mail.outbox[-1].body
    summary = body.split('id="summary"')[1].split("</section>")[0]
    assert "黒酢ドリンク × 2" in summary and "次回のみ" in summary
    price_rows = body.split('class="price-table"')[1].split("</tbody>")[0]
    assert "黒酢ドリンク" in price_rows and "¥3,000" in price_rows
    logged_in.get(_page(subscription))
    with django_assert_max_num_queries(7):  # one add-on more costs no query more
        logged_in.get(_page(subscription))

    # when the quantity is changed, then removed
    body = _post(logged_in, subscription, "addon-change", {"addon_id": addon.pk, "quantity": "1"})
    assert "数量を変更しました" in body
    assert SubscriptionAddon.objects.get().quantity == 1
    body = _post(logged_in, subscription, "addon-remove", {"addon_id": addon.pk})
    assert "取り消しました" in body
    assert not SubscriptionAddon.objects.exists()
    kinds = list(SubscriptionEvent.objects.filter(subscription=subscription).values_list("kind", flat=True))
    assert sorted(kinds) == ["addon_added", "addon_changed", "addon_removed"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"product_id": "", "quantity": "1"}, "追加する商品"),
        ({"product_id": "x", "quantity": "1"}, "追加する商品"),
        ({"product_id": "PRODUCT", "quantity": "0"}, "数量"),
        ({"product_id": "PRODUCT", "quantity": "5"}, "在庫が不足しています（残り4個）"),
        ({"product_id": "OTHER", "quantity": "1"}, "ついで買いでご注文いただけません"),
        ({"product_id": "999999", "quantity": "1"}, "商品が見つかりません"),
    ],
    ids=["no-product", "not-a-number", "quantity-0", "out-of-stock", "not-offered", "unknown"],
)
def test_refusals_are_shown_in_words_and_change_nothing(
    logged_in, subscription, vinegar, data, words
) -> None:  # noqa: ANN001
    other = Product.objects.get(name="出していない商品")
    data = {k: v.replace("PRODUCT", str(vinegar.pk)).replace("OTHER", str(other.pk)) for k, v in data.items()}
    body = _post(logged_in, subscription, "addon-add", data)
    assert words in body and 'class="message error"' in body
    assert not SubscriptionAddon.objects.exists()


def test_after_the_deadline_the_page_shows_the_add_on_without_forms_and_refuses_a_post(
    logged_in, customer, subscription, vinegar
) -> None:  # noqa: ANN001
    _post(logged_in, subscription, "addon-add", {"product_id": vinegar.pk, "quantity": "1"})
    subscription.refresh_from_db()
    policy = ShopPolicy.current()
    day_after = subscription.next_creation_date - timedelta(days=policy.change_deadline_days - 1)
    tokyo = ZoneInfo("Asia/Tokyo")
    with time_machine.travel(datetime.combine(day_after, time(9), tzinfo=tokyo), tick=False):
        logged_in.force_login(customer.user)
        body = logged_in.get(_page(subscription)).content.decode()
        section = body.split('id="addons"')[1].split("</section>")[0]
        assert "黒酢ドリンク × 1" in section and "<form" not in section
        refused = _post(logged_in, subscription, "addon-add", {"product_id": vinegar.pk, "quantity": "1"})
    assert "変更締切" in refused and 'class="message error"' in refused
    assert SubscriptionAddon.objects.get().quantity == 1


def test_the_page_in_english(logged_in, subscription, vinegar) -> None:  # noqa: ANN001
    logged_in.post("/i18n/setlang/", {"language": "en", "next": "/mypage/"})
    body = _post(logged_in, subscription, "addon-add", {"product_id": vinegar.pk, "quantity": "2"})
    assert "Added an item to your next delivery" in body
    assert "One-off items (next delivery only)" in body and "Next order only" in body
    refused = _post(logged_in, subscription, "addon-add", {"product_id": vinegar.pk, "quantity": "9"})
    assert "Not enough stock of" in refused


# ---- the API ---------------------------------------------------------------------------------------


def _api_post(api, subscription, name, data, **headers):  # noqa: ANN001, ANN003, ANN202
    return api.post(f"/api/mypage/subscriptions/{subscription.pk}/{name}/", data, format="json", **headers)


def test_the_api_lists_offers_and_adds_changes_removes(
    api, subscription, vinegar, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    ProductSalePrice.objects.create(
        product=vinegar, unit_price=1200, starts_on=subscription.created_at.date()
    )
    api.get("/api/mypage/addon-products/")
    with django_assert_max_num_queries(4):  # session, user, customer; products and prices from the process
        offers = api.get("/api/mypage/addon-products/").json()
    assert offers == [
        {"id": vinegar.pk, "sku": "KUROZU-1", "name": "黒酢ドリンク", "unit_price": 1200, "tax_rate": 8}
    ]

    response = _api_post(api, subscription, "addon-add", {"product_id": vinegar.pk, "quantity": 3})
    assert response.status_code == 200
    data = response.json()
    [addon] = data["addons"]
    assert (addon["product_id"], addon["product_name"], addon["quantity"]) == (vinegar.pk, "黒酢ドリンク", 3)
    assert data["next_order"]["addon_lines"] == 1
    assert data["next_order"]["lines"][-1] == {
        "product_id": vinegar.pk, "sku": "KUROZU-1", "product_name": "黒酢ドリンク", "quantity": 3,
        "unit_price": 1200, "tax_rate": 8, "line_total": 3600,
    }  # fmt: skip

    changed = _api_post(api, subscription, "addon-change", {"addon_id": addon["id"], "quantity": 1}).json()
    assert changed["addons"][0]["quantity"] == 1
    removed = _api_post(api, subscription, "addon-remove", {"addon_id": addon["id"]}).json()
    assert removed["addons"] == [] and removed["next_order"]["addon_lines"] == 0


@pytest.mark.parametrize(
    ("name", "body", "status", "code"),
    [
        ("addon-add", {"product_id": "PRODUCT", "quantity": 5}, 409, "out_of_stock"),
        ("addon-add", {"product_id": 999999, "quantity": 1}, 404, "product_not_found"),
        ("addon-add", {"product_id": "PRODUCT", "quantity": 0}, 400, None),
        ("addon-add", {"product_id": "PRODUCT"}, 400, None),
        ("addon-change", {"addon_id": 999999, "quantity": 1}, 404, "addon_not_found"),
        ("addon-remove", {"addon_id": "oops"}, 400, None),
    ],
    ids=["out-of-stock", "unknown-product", "quantity-0", "no-quantity", "unknown-addon", "bad-id"],
)
def test_api_refusals_are_4xx_with_code_and_message(
    api, subscription, vinegar, name, body, status, code
) -> None:  # noqa: ANN001
    body = {k: (vinegar.pk if v == "PRODUCT" else v) for k, v in body.items()}
    response = _api_post(api, subscription, name, body)
    assert response.status_code == status
    payload = response.json()
    assert payload["message"] and payload["code"] == (code or payload["code"])
    assert not SubscriptionAddon.objects.exists()


def test_api_refusal_in_english(api, subscription, vinegar) -> None:  # noqa: ANN001
    response = _api_post(
        api, subscription, "addon-add", {"product_id": vinegar.pk, "quantity": 9}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "out_of_stock",
        "message": "Not enough stock of “黒酢ドリンク” (4 left).",
        "field": "quantity",
    }


def test_another_customers_subscription_is_404(api, others_subscription, vinegar) -> None:  # noqa: ANN001
    response = _api_post(api, others_subscription, "addon-add", {"product_id": vinegar.pk, "quantity": 1})
    assert response.status_code == 404
