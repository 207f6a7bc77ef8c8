"""The audit trail: who changed which setting, price or rule in the admin, and from what to what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import Product
from core.models import AdminChange
from tests.factories import CourseFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_a_shop_policy_change_is_recorded_with_before_and_after(admin_client, admin_user, policy):
    # given the shop policy with the default pause bound
    url = reverse("admin:subscriptions_shoppolicy_change", args=[policy.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {**form.initial, **_inline_management(admin_client.get(url))}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    data["pause_max_days"] = 90
    data["change_deadline_days"] = 3
    # when staff save it
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    # then one trail row says who, what and from what to what
    change = AdminChange.objects.get()
    assert (change.actor, change.actor_label, change.action) == (admin_user, admin_user.username, "changed")
    assert change.object_id == str(policy.pk)
    assert change.changes == {
        "change_deadline_days": {"before": 2, "after": 3},
        "pause_max_days": {"before": 365, "after": 90},
    }
    # and the trail is readable, not editable, in the admin
    listing = admin_client.get(reverse("admin:core_adminchange_changelist")).content.decode()
    assert "pause_max_days" in listing
    detail = admin_client.get(reverse("admin:core_adminchange_change", args=[change.pk])).content.decode()
    assert "365 → 90" in detail
    assert 'name="_save"' not in detail


def _inline_management(page) -> dict:
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        prefix = formset.formset.prefix
        data.update({f"{prefix}-{name}": value for name, value in management.initial.items()})
    return data


def test_saving_without_changes_records_nothing(admin_client, policy):
    url = reverse("admin:subscriptions_shoppolicy_change", args=[policy.pk])
    page = admin_client.get(url)
    data = {**page.context["adminform"].form.initial, **_inline_management(page)}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    assert admin_client.post(url, data).status_code == 302
    assert not AdminChange.objects.exists()


def test_a_product_price_change_and_a_course_price_row_are_recorded(admin_client):
    product = ProductFactory(price=3980)
    url = reverse("admin:catalog_product_change", args=[product.pk])
    data = {**admin_client.get(url).context["adminform"].form.initial}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    data["price"] = 4280
    assert admin_client.post(url, data).status_code == 302
    change = AdminChange.objects.get(content_type__model="product")
    assert change.changes["price"] == {"before": 3980, "after": 4280}
    assert Product.objects.get(pk=product.pk).price == 4280


def test_deleting_a_coupon_is_recorded_with_its_last_values(admin_client):
    from pricing.models import Coupon

    coupon = Coupon.objects.create(code="WELCOME", name="初回", value=500)
    url = reverse("admin:pricing_coupon_delete", args=[coupon.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    change = AdminChange.objects.get()
    assert change.action == "deleted"
    assert change.changes["code"] == {"before": "WELCOME", "after": None}


def test_the_course_admin_is_audited(admin_client):
    course = CourseFactory()
    assert "AuditedAdminMixin" in [c.__name__ for c in type(_admin_for(course)).__mro__]


def _admin_for(obj):
    from django.contrib import admin

    return admin.site._registry[type(obj)]
