"""The order list: filters and a search that folds width, kana and phone formats."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from orders.admin_filters import digits, fold, order_search
from orders.models import Order, OrderStatus
from tests.backoffice.helpers import shop_order
from tests.factories import CustomerFactory, UserFactory
from tests.staff import staff_login


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("ヤマダ　ハナコ", "ヤマダハナコ"),
        ("ﾔﾏﾀﾞ ﾊﾅｺ", "ヤマダハナコ"),
        ("山田 花子", "山田花子"),
        ("ＹＡＭＡＤＡ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "YAMADA@EXAMPLE.COM"),
        ("０９０－１２３４－５６７８", "090-1234-5678"),
    ],
)
def test_fold(typed, folded) -> None:  # noqa: ANN001
    assert fold(typed) == folded


@pytest.mark.parametrize(
    ("typed", "expected"), [("090-1234-5678", "09012345678"), ("０９０（１２３４）５６７８", "09012345678")]
)
def test_digits(typed, expected) -> None:  # noqa: ANN001
    assert digits(typed) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "term",
    [
        "山田 花子",
        "山田花子",
        "ヤマダ ハナコ",
        "ﾔﾏﾀﾞﾊﾅｺ",
        "やまだはなこ",
        "090-1234-5678",
        "09012345678",
        "０９０１２３４５６７８",
        "HANAKO@Example.com",
    ],
)
def test_search_finds_the_customer_however_it_is_typed(term) -> None:  # noqa: ANN001
    customer = CustomerFactory(
        name="山田 花子",
        name_kana="ヤマダ ハナコ",
        phone="090-1234-5678",
        user__email="hanako@example.com",
        user__username="hanako@example.com",
    )
    wanted = shop_order(customer=customer)
    shop_order(
        customer=CustomerFactory(name="佐藤 一郎", name_kana="サトウ イチロウ", phone="03-0000-0000"),
        ship_phone="03-0000-0000",
    )
    assert list(order_search(Order.objects.all(), term)) == [wanted]


@pytest.mark.django_db
def test_search_by_order_number_with_or_without_leading_zeros() -> None:
    order = shop_order()
    shop_order()
    assert list(order_search(Order.objects.all(), order.number)) == [order]
    assert list(order_search(Order.objects.all(), str(order.pk))) == [order]


@pytest.mark.django_db
def test_filters_in_the_list(client, django_assert_max_num_queries) -> None:  # noqa: ANN001
    staff_login(client, UserFactory(is_staff=True, is_superuser=True))
    first = shop_order(delivery_date=dt.date(2027, 3, 15), ship_prefecture="北海道")
    repeat = shop_order(
        customer=first.customer,
        delivery_date=dt.date(2027, 4, 15),
        status=OrderStatus.ON_HOLD,
        hold_reasons=["stock_short"],
    )
    url = reverse("admin:orders_order_changelist")

    def listed(query: str) -> set[int]:
        with django_assert_max_num_queries(40):
            response = client.get(f"{url}?{query}")
        assert response.status_code == 200, query
        return {o.pk for o in response.context["cl"].result_list}

    assert listed("delivery_date_from=2027-03-01&delivery_date_to=2027-03-31") == {first.pk}
    assert listed("repeat=first") == {first.pk}
    assert listed("repeat=repeat") == {repeat.pk}
    assert listed("hold_reason=stock_short") == {repeat.pk}
    assert listed("ship_prefecture=北海道") == {first.pk}
    assert listed(f"lines__product__id__exact={first.lines.get().product_id}") == {first.pk}
    assert listed("payment_kind=card&delivery_time_slot__exact=14-16") == {first.pk, repeat.pk}
    assert listed("q=ﾔﾏﾀﾞ") == {first.pk, repeat.pk}  # the factory's kana name, typed half-width
    assert listed("q=サトウ") == set()
    page = client.get(f"{url}?status__exact=ready").content.decode()
    assert "出荷待ち" in page and "受注日（期間）" in page
    # the payment filter names each kind in words, not by its code
    assert 'title="クレジットカード"' in page or ">クレジットカード<" in page
    assert ">card<" not in page
