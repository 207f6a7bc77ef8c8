"""Fixtures for the my-page tests: a signed-in customer with one subscription well before its deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pricing.models import BillingPolicy
from subscriptions.selectors import today_in_shop
from tests.factories import CustomerFactory, SubscriptionFactory


@pytest.fixture(autouse=True)
def _fresh_policy_copy():
    """Each test starts without the process's cached shop policy and pricing catalogue (tests also
    change them with update(), and roll their rows back)."""
    from mypage.selectors import course_cycles_forget, policy_forget, pricing_forget

    policy_forget()
    pricing_forget()
    course_cycles_forget()
    yield
    policy_forget()
    pricing_forget()
    course_cycles_forget()


@pytest.fixture
def today():
    return today_in_shop()


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def other_customer(db):
    return CustomerFactory()


@pytest.fixture
def subscription(customer, policy, today):
    """Next delivery 40 days ahead: every change is still open."""
    BillingPolicy.current()  # the shop's pricing row exists, as it does once the shop is set up
    return SubscriptionFactory(customer=customer, anchor_date=today + timedelta(days=40))


@pytest.fixture
def others_subscription(other_customer, policy, today):
    return SubscriptionFactory(customer=other_customer, anchor_date=today + timedelta(days=40))


@pytest.fixture
def logged_in(client, customer):
    client.force_login(customer.user)
    return client


@pytest.fixture
def api(customer):
    """A DRF client signed in as the customer, enforcing CSRF like a browser session would."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(customer.user)
    return client
