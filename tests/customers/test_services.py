"""Customer and address creation."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from core.errors import DomainError
from customers.services import address_create, customer_create, normalise_postal_code
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_create_makes_user_profile_and_primary_email():
    customer = customer_create(
        email=" Hanako@Example.com ", name="山田 花子", password="pass12345", email_verified=True
    )
    user = customer.user
    assert (user.username, user.email) == ("hanako@example.com", "hanako@example.com")
    assert user.check_password("pass12345")
    email = EmailAddress.objects.get(user=user)
    assert (email.verified, email.primary) == (True, True)
    with pytest.raises(DomainError) as exc:
        customer_create(email="hanako@example.com", name="別人")
    assert (exc.value.code, exc.value.status) == ("email_taken", 409)


def test_customer_without_password_cannot_log_in_until_it_sets_one():
    customer = customer_create(email="guest@example.com", name="ゲスト", is_member=False)
    assert not customer.user.has_usable_password()
    assert customer.is_member is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1000001", "100-0001"),
        ("100-0001", "100-0001"),
        ("１００－０００１", "100-0001"),
        ("12-345", "12-345"),
    ],
)
def test_postal_codes_are_normalised(raw, expected):
    assert normalise_postal_code(raw) == expected


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"postal_code": "12-345"}, "invalid_postal_code"),
        ({"prefecture": "東京"}, "invalid_prefecture"),
        ({"city": " "}, "required"),
    ],
)
def test_address_validation(overrides, code):
    fields = dict(
        recipient_name="山田", postal_code="1500001", prefecture="東京都", city="渋谷区", line1="神宮前1-1"
    )
    with pytest.raises(DomainError) as exc:
        address_create(customer=CustomerFactory(), **{**fields, **overrides})
    assert exc.value.code == code


def test_first_address_is_default_and_a_new_default_replaces_it():
    customer = CustomerFactory()
    fields = dict(
        recipient_name="山田", postal_code="1500001", prefecture="東京都", city="渋谷区", line1="神宮前1-1"
    )
    first = address_create(customer=customer, **fields)
    second = address_create(customer=customer, **fields)
    assert (first.is_default, second.is_default, first.postal_code) == (True, False, "150-0001")
    third = address_create(customer=customer, is_default=True, **fields)
    assert list(customer.addresses.filter(is_default=True)) == [third]
