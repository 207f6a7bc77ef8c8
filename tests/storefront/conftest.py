"""Fixtures for the storefront tests: a published course, a frozen clock, a shop with fees."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from catalog.models import Product
from notifications.services import mail_templates_install_defaults
from pricing.models import BillingPolicy, CodFee
from tests.factories import CourseFactory

# Wednesday 2027-01-13 10:00 in Tokyo: lead 5 business days (Sat/Sun and holidays closed) → the
# earliest first delivery is Wed 2027-01-20 (13, 14, 15, 18 and 19 are the five open days).
NOW = datetime(2027, 1, 13, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def shop(db, policy, frozen):  # noqa: ANN001
    # The shop's mail templates come from a data migration, which a transactional test elsewhere
    # in the run may have flushed: install the missing ones (idempotent).
    mail_templates_install_defaults()
    billing = BillingPolicy.current()
    billing.shipping_base_fee = 550
    billing.shipping_free_from = 5000
    billing.save()
    CodFee.objects.create(up_to_amount=10000, fee=330)
    CodFee.objects.create(up_to_amount=30000, fee=440)
    return billing


@pytest.fixture
def course(shop):  # noqa: ANN001
    product = Product.objects.create(sku="AOJIRU-30", name="青汁 30包", price=3980, tax_rate=8, stock=100)
    course = CourseFactory(code="aojiru", name="青汁定期コース", setup=product)
    course.min_deliveries = 3
    course.save()
    return course
