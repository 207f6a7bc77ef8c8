"""Pricing admin pages: they open with a bounded number of queries; adjustments go through the service."""

import pytest

from catalog.models import BulkDiscount, GroupPrice, ProductSalePrice, QuantityTier
from customers.models import CustomerGroup
from pricing.models import Coupon, CouponRedemption, PointEntry
from pricing.services.points import points_adjust, stage_expire_points
from subscriptions.actors import Actor
from tests.billing.helpers import make_order
from tests.factories import CustomerFactory, ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/pricing/coupon/",
        "/admin/pricing/couponredemption/",
        "/admin/pricing/pointaccount/",
        "/admin/pricing/pointentry/",
        "/admin/pricing/billingpolicy/",
        "/admin/pricing/prefectureshippingfee/",
        "/admin/pricing/codfee/",
        "/admin/catalog/productsaleprice/",
        "/admin/catalog/quantitytier/",
        "/admin/catalog/groupprice/",
        "/admin/catalog/bulkdiscount/",
    ],
)
def test_pricing_changelists_open_with_few_queries(admin_client, django_assert_max_num_queries, url):
    # given a few rows of everything
    coupon = Coupon.objects.create(code="C", name="c", kind="fixed", value=100, applies_to="all")
    group = CustomerGroup.objects.create(code="g", name="g")
    for _ in range(3):
        sub = SubscriptionFactory(coupon=coupon)
        order = make_order(sub)
        CouponRedemption.objects.create(coupon=coupon, order=order, customer=sub.customer, subscription=sub)
        points_adjust(customer_id=sub.customer_id, amount=100, note="x", actor=Actor.system())
        product = ProductFactory()
        ProductSalePrice.objects.create(product=product, unit_price=1, starts_on="2027-01-01")
        QuantityTier.objects.create(product=product, min_quantity=2, unit_price=1)
        GroupPrice.objects.create(group=group, product=product, unit_price=1)
        BulkDiscount.objects.create(min_quantity=3, value=5)
    # then the page opens with a number of queries that does not grow with the rows
    with django_assert_max_num_queries(12):
        response = admin_client.get(url)
    assert response.status_code == 200


def test_coupon_list_shows_redemption_counts(admin_client):
    coupon = Coupon.objects.create(code="COUNTED", name="c", kind="fixed", value=100, applies_to="all")
    sub = SubscriptionFactory()
    CouponRedemption.objects.create(coupon=coupon, order=make_order(sub), customer=sub.customer)
    response = admin_client.get("/admin/pricing/coupon/")
    assert '<td class="field-redemption_count">1</td>' in response.content.decode()


@pytest.mark.parametrize(
    ("amount", "is_member", "created"), [(500, True, True), (-1, True, False), (100, False, False)]
)
def test_admin_point_adjustment_goes_through_the_service(admin_client, amount, is_member, created):
    customer = CustomerFactory(is_member=is_member)
    response = admin_client.post(
        "/admin/pricing/pointentry/add/", {"customer": customer.pk, "amount": amount, "note": "お詫び"}
    )
    entry = PointEntry.objects.filter(customer=customer).first()
    assert (entry is not None) is created
    if created:
        assert response.status_code == 302
        assert (entry.kind, entry.amount, entry.actor.is_superuser) == ("adjust", 500, True)
        assert customer.point_account.balance == 500
    else:
        assert response.status_code == 200  # the form shows the error


def test_nightly_stage_reports_expired_points():
    assert stage_expire_points(__import__("datetime").date(2027, 1, 1)) == {"points_expired": 0}


@pytest.mark.parametrize(
    "old, new",
    [
        ("/admin/billing/coupon/", "/admin/pricing/coupon/"),
        ("/admin/billing/pointentry/add/?customer=3", "/admin/pricing/pointentry/add/?customer=3"),
        ("/admin/billing/billingpolicy/1/change/", "/admin/pricing/billingpolicy/1/change/"),
    ],
)
def test_billing_admin_addresses_of_moved_models_redirect_to_pricing(admin_client, old, new):
    response = admin_client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new


def test_billing_admin_keeps_its_own_addresses(admin_client):
    assert admin_client.get("/admin/billing/paymentmethod/").status_code == 200
