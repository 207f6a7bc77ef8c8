"""Customer admin pages render, filter, search, and show addresses inline."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query", ["", "?is_blacklisted__exact=1", "?q=090-1234", "?q=example.com", "?is_member__exact=1"]
)
def test_customer_changelist_in_bounded_queries(admin_client, query, django_assert_max_num_queries):
    for _ in range(6):
        AddressFactory()
    with django_assert_max_num_queries(10):
        response = admin_client.get(reverse("admin:customers_customer_changelist") + query)
    assert response.status_code == 200


def test_blacklist_filter_and_email_search(admin_client):
    bad = CustomerFactory(is_blacklisted=True, blacklist_reason="受取拒否")
    good = CustomerFactory()
    url = reverse("admin:customers_customer_changelist")
    assert list(admin_client.get(url, {"is_blacklisted__exact": "1"}).context["cl"].result_list) == [bad]
    assert list(admin_client.get(url, {"q": good.user.email}).context["cl"].result_list) == [good]


def test_customer_change_page_lists_addresses(admin_client):
    address = AddressFactory(city="渋谷区")
    page = admin_client.get(reverse("admin:customers_customer_change", args=[address.customer_id]))
    assert page.status_code == 200
    assert "渋谷区" in page.content.decode()
    assert admin_client.get(reverse("admin:customers_address_changelist")).status_code == 200
