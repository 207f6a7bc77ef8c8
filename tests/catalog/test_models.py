"""Pricing rules in the catalogue: the database refuses rules that could not mean anything."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from catalog.models import BulkDiscount, GroupPrice, ProductSalePrice, QuantityTier
from customers.models import CustomerGroup
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "ok"),
    [
        (dt.date(2027, 3, 1), dt.date(2027, 3, 31), True),
        (dt.date(2027, 3, 1), dt.date(2027, 3, 1), True),
        (dt.date(2027, 3, 1), None, True),
        (dt.date(2027, 3, 2), dt.date(2027, 3, 1), False),
    ],
)
def test_a_sale_period_ends_on_or_after_it_starts(starts_on, ends_on, ok):
    product = ProductFactory()
    create = lambda: ProductSalePrice.objects.create(  # noqa: E731
        product=product, unit_price=100, starts_on=starts_on, ends_on=ends_on
    )
    if ok:
        assert create().pk
    else:
        with pytest.raises(IntegrityError), transaction.atomic():
            create()


def test_quantity_tiers_are_unique_per_quantity_and_start_at_one():
    product = ProductFactory()
    QuantityTier.objects.create(product=product, min_quantity=10, unit_price=900)
    with pytest.raises(IntegrityError), transaction.atomic():
        QuantityTier.objects.create(product=product, min_quantity=10, unit_price=800)
    with pytest.raises(IntegrityError), transaction.atomic():
        QuantityTier.objects.create(product=product, min_quantity=0, unit_price=800)


def test_one_group_price_per_group_and_product():
    product, group = ProductFactory(), CustomerGroup.objects.create(code="gold", name="ゴールド")
    GroupPrice.objects.create(group=group, product=product, unit_price=900)
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupPrice.objects.create(group=group, product=product, unit_price=800)


@pytest.mark.parametrize(
    ("kind", "value", "label"), [("percent", 10, "3個以上 10%引き"), ("fixed", 500, "3個以上 500円引き")]
)
def test_bulk_discount_describes_itself(kind, value, label):
    assert str(BulkDiscount.objects.create(min_quantity=3, kind=kind, value=value)) == label
