"""Accounts through allauth: sign-up makes the customer profile; the pages use the my-page layout."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from customers.models import Customer

pytestmark = pytest.mark.django_db


def test_signup_creates_the_customer_and_asks_for_verification(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "Str0ng-pass-99", "password2": "Str0ng-pass-99"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    customer = Customer.objects.get(user__email="new@example.com")
    assert customer.name == "new"
    assert len(mail.outbox) == 1  # the verification mail; login waits for it (mandatory)
    assert not EmailAddress.objects.get(email="new@example.com").verified


def test_verified_customer_logs_in_to_the_mypage(client, customer):
    EmailAddress.objects.create(user=customer.user, email=customer.user.email, verified=True, primary=True)
    response = client.post("/accounts/login/", {"login": customer.user.email, "password": "pass12345"})
    assert response.status_code == 302 and response["Location"] == "/mypage/"


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_account_pages_use_the_mypage_layout_in_japanese(client, path):
    body = client.get(path).content.decode()
    assert "mypage/mypage.css" in body
    assert 'lang="ja"' in body
