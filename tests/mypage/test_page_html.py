"""The subscription page's HTML for a fixed customer is byte for byte what it was before the page
was made cheaper (golden files in tests/mypage/golden/, CSRF tokens blanked), in both languages,
with a fixed number of queries.

Every row the page shows has a fixed primary key and name and the clock is frozen, so the HTML
depends on the code only. A deliberate change to the page regenerates the files:
`UPDATE_GOLDEN=1 pytest tests/mypage/test_page_html.py` (and the diff is reviewed like code).
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing.models import PaymentMethod
from catalog.models import Course, CourseCycle, CourseItem, CoursePrice, Product
from pricing.models import BillingPolicy
from subscriptions.actors import Actor
from subscriptions.services import subscription_change_time_slot, subscription_skip_next
from tests.factories import AddressFactory, CustomerFactory, SubscriptionFactory, UserFactory

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def shown(db, policy):
    """A customer with two addresses, a card and a subscription with a short timeline."""
    with time_machine.travel(NOW, tick=False):
        BillingPolicy.current()
        user = UserFactory(username="golden@example.com")
        customer = CustomerFactory(user=user, name="黄金 太郎")
        product = Product.objects.create(pk=9401, sku="GOLD-1", name="黄金青汁", price=3980, tax_rate=8)
        course = Course.objects.create(pk=9601, code="golden", name="黄金コース")
        CourseItem.objects.create(course=course, product=product, quantity=1)
        CoursePrice.objects.create(course=course, product=product, from_sequence=1, unit_price=980)
        CoursePrice.objects.create(course=course, product=product, from_sequence=2, unit_price=3980)
        CourseCycle.objects.create(
            pk=9701, course=course, unit="month", interval=1, is_default=True, position=0
        )
        CourseCycle.objects.create(pk=9702, course=course, unit="month", interval=2, position=1)
        home = AddressFactory(pk=9201, customer=customer)
        AddressFactory(pk=9202, customer=customer, city="大阪市", prefecture="大阪府", is_default=False)
        card = PaymentMethod.objects.create(
            pk=9301, customer=customer, kind="card", brand="visa", last4="4242", exp_month=12, exp_year=2030
        )
        subscription = SubscriptionFactory(
            pk=9101,
            customer=customer,
            course=course,
            shipping_address=home,
            payment_method=card,
            anchor_date=date(2026, 4, 10),
        )
        actor = Actor.customer(user)
        subscription_change_time_slot(subscription_id=subscription.pk, time_slot="19-21", actor=actor)
        subscription_skip_next(subscription_id=subscription.pk, actor=actor)
    return customer, subscription


@pytest.mark.parametrize("language", ["ja", "en"])
def test_subscription_page_html_is_unchanged(client, shown, language, django_assert_num_queries):
    customer, subscription = shown
    client.force_login(customer.user)
    url = f"/mypage/subscriptions/{subscription.pk}/"
    with time_machine.travel(NOW, tick=False):
        client.get(url, HTTP_ACCEPT_LANGUAGE=language)  # the process loads the policy and catalogue
        # session, user, subscription with customer, its items and pending add-ons (ついで買い) in one,
        # addresses, payment methods, timeline (the course's cycles and the add-on offers come from
        # the process's copy)
        with django_assert_num_queries(7):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = _CSRF.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())
    golden = GOLDEN / f"subscription_detail_{language}.html"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")
