"""The wrapping fee on the documents: its own line on the invoice, no price on a gift's slip."""

from __future__ import annotations

import datetime as dt

import pytest

from orders.documents.content import Issuer, delivery_slip, invoice
from orders.models import Order, SubscriptionGift
from scheduler.generation import generate_due
from tests.factories import SubscriptionFactory
from tests.fees import shop_with_methods

pytestmark = pytest.mark.django_db
ISSUER = Issuer(name="テスト商店", registration_number="T1234567890123")


def test_the_invoice_has_the_wrapping_line_and_one_tax_per_rate(policy) -> None:  # noqa: ANN001
    # given a gift-wrapped first delivery (¥980 at 8 %), no method fits (unmeasured): ¥550 shipping
    shop_with_methods()
    sub = SubscriptionFactory()
    SubscriptionGift.objects.create(subscription=sub, wrapping=True, message="おめでとう")
    generate_due(run_date=dt.date(2027, 1, 25))
    order = Order.objects.select_related("customer").get(subscription=sub)
    lines = list(order.lines.all())

    doc = invoice(order, lines, issuer=ISSUER, issued_on=dt.date(2027, 1, 25))
    totals = dict(doc.totals)
    assert totals["ギフト包装料"] == "¥330"
    assert totals["送料"] == "¥550"
    assert totals["ご請求金額（税込）"] == "¥1,860"
    # shipping and wrapping make one 10 % base, rounded once: 880 × 10 / 110 = 80
    assert totals["10%対象"] == "¥880（内消費税 ¥80）"
    assert totals["8%対象"] == "¥980（内消費税 ¥72）"

    slip = delivery_slip(order, lines, issuer=ISSUER)
    assert slip.totals == [] and "ギフト包装あり" in slip.notes
