"""Finding a customer as staff type them (customers.search): folded like the shop's data is written."""

from __future__ import annotations

import pytest

from customers.search import customer_search
from tests.factories import AddressFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanako(db):  # noqa: ANN001, ANN201
    customer = CustomerFactory(
        name="山田 花子", name_kana="ヤマダ ハナコ", phone="090-1234-5678",
        user=UserFactory(username="Hanako.Yamada@example.com"),
    )  # fmt: skip
    AddressFactory(customer=customer, phone="03-9876-5432")
    CustomerFactory(name="田中 一郎", name_kana="タナカ イチロウ", phone="080-1111-2222")
    return customer


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("山田花子", True),
        ("山田　花子", True),  # a full-width space
        ("やまだ", True),  # hiragana for the stored katakana
        ("ﾔﾏﾀﾞ ﾊﾅｺ", True),  # half-width kana
        ("ハナコ", True),
        ("09012345678", True),
        ("０９０−１２３４−５６７８", True),  # full-width digits and dash
        ("98765432", True),  # an address's phone
        ("hanako.yamada@example.com", True),  # any case
        ("yamada@", True),  # part of an email
        ("鈴木", False),
        ("", False),
        ("   ", False),
    ],
)
def test_a_customer_is_found_however_staff_type_them(hanako, term, found) -> None:  # noqa: ANN001
    assert (hanako in customer_search(term=term)) is found


def test_a_short_number_is_a_customer_number(hanako) -> None:  # noqa: ANN001
    assert customer_search(term=str(hanako.pk)) == [hanako]
    assert customer_search(term=f"#{hanako.pk}") == [hanako]


def test_results_are_newest_first_and_capped(db) -> None:  # noqa: ANN001
    made = [CustomerFactory(name=f"佐藤 {n}", name_kana=f"サトウ {n}") for n in range(5)]
    assert customer_search(term="さとう", limit=3) == made[::-1][:3]
