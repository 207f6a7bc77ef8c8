"""customers.bulk: what a bulk-created customer and address are (the importer's writes)."""

import pytest
from allauth.account.models import EmailAddress

from customers.bulk import addresses_bulk_create, customers_bulk_create, customers_bulk_set_stripe_customer
from customers.models import Address, Customer

pytestmark = pytest.mark.django_db


def test_customers_are_users_with_unusable_password_and_an_unverified_primary_email():
    ids = customers_bulk_create(
        customers=[
            {"email": " Hanako@Example.JP ", "name": "山田 花子", "name_kana": "ヤマダ ハナコ"},
            {"email": "taro@example.jp", "name": "佐藤 太郎", "is_blacklisted": True},
        ]
    )
    hanako, taro = (Customer.objects.select_related("user").get(pk=pk) for pk in ids)
    assert hanako.user.email == "hanako@example.jp"
    assert not hanako.user.has_usable_password()
    assert (hanako.name, hanako.name_kana, hanako.is_member) == ("山田 花子", "ヤマダ ハナコ", True)
    assert taro.is_blacklisted and not hanako.is_blacklisted
    address = EmailAddress.objects.get(user=hanako.user)
    assert (address.email, address.verified, address.primary) == ("hanako@example.jp", False, True)


def test_no_customers_writes_nothing():
    assert customers_bulk_create(customers=[]) == []
    assert not Customer.objects.exists()


@pytest.mark.parametrize(("typed", "stored"), [("１００－０００１", "100-0001"), ("1000001", "100-0001")])
def test_addresses_normalise_the_postal_code_as_address_create_does(typed, stored):
    (customer_id,) = customers_bulk_create(customers=[{"email": "a@example.jp", "name": "A"}])
    (pk,) = addresses_bulk_create(
        addresses=[
            {
                "customer_id": customer_id,
                "recipient_name": "A",
                "postal_code": typed,
                "prefecture": "東京都",
                "city": "千代田区",
                "line1": "千代田1-1",
                "is_default": True,
            }
        ]
    )
    assert Address.objects.get(pk=pk).postal_code == stored


def test_an_unknown_address_field_is_refused_before_anything_is_written():
    with pytest.raises(ValueError, match="colour"):
        addresses_bulk_create(addresses=[{"customer_id": 1, "colour": "red"}])
    assert not Address.objects.exists()


def test_a_linked_stripe_customer_is_never_overwritten():
    a, b = customers_bulk_create(
        customers=[
            {"email": "a@example.jp", "name": "A", "stripe_customer_id": "cus_kept"},
            {"email": "b@example.jp", "name": "B"},
        ]
    )
    customers_bulk_set_stripe_customer(stripe_ids={a: "cus_new", b: "cus_b"})
    assert dict(Customer.objects.values_list("pk", "stripe_customer_id")) == {a: "cus_kept", b: "cus_b"}
