"""The admin lives under a configurable path (ADMIN_URL), default "admin/"."""

from __future__ import annotations

import importlib

import pytest
from django.urls import clear_url_caches, reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_at(settings):
    """Reload the URLconf with ADMIN_URL_PATH set; restore it afterwards."""
    import config.urls
    import orders.documents.urls

    def move(path: str):
        settings.ADMIN_URL_PATH = path
        clear_url_caches()
        importlib.reload(orders.documents.urls)
        importlib.reload(config.urls)

    yield move
    settings.ADMIN_URL_PATH = "admin/"
    clear_url_caches()
    importlib.reload(orders.documents.urls)
    importlib.reload(config.urls)


def test_the_default_path_is_admin():
    assert reverse("admin:index") == "/admin/"


def test_a_configured_path_moves_the_admin_and_its_staff_pages(client, admin_at, admin_user):
    # given the admin moved to /control-7f3a/
    admin_at("control-7f3a/")
    # then the admin, the staff pages and the old billing redirects follow it, and /admin/ is gone
    assert reverse("admin:index") == "/control-7f3a/"
    assert reverse("insights:forecast") == "/control-7f3a/insights/forecast/"
    assert reverse("documents:admin-invoice", args=[1]) == "/control-7f3a/orders/order/1/invoice.pdf"
    assert client.get("/admin/").status_code == 404
    response = client.get("/control-7f3a/")
    assert response.status_code == 302 and response["Location"].startswith("/control-7f3a/login/")
    old = client.get("/control-7f3a/billing/coupon/")
    assert old.status_code == 301 and old["Location"] == "/control-7f3a/pricing/coupon/"
    # and staff with a password only are still asked for their second factor there
    client.force_login(admin_user)
    assert client.get("/control-7f3a/insights/forecast/")["Location"].startswith("/accounts/")
