"""Invoices and delivery slips: generate the PDF, turn it into text with pdftotext, read it."""

import datetime as dt
import re
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.errors import DomainError
from orders.documents import document_render, documents_render
from orders.documents.render import orders_for_documents
from orders.models import OrderLine
from tests.billing.helpers import make_order
from tests.factories import ProductFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db
ISSUED = dt.date(2027, 3, 10)


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def pdf_text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode()


def pdf_pages(pdf: bytes) -> list[str]:
    return pdf_text(pdf).split("\f")[:-1]


def mixed_order(**fields):
    """¥3,000 at 10 % and 2 x ¥1,000 at 8 %, a ¥500 coupon split 300/200, shipping ¥550, 100 points."""
    sub = SubscriptionFactory()
    values = {
        "items_subtotal": 5000,
        "discount_total": 500,
        "shipping_fee": 550,
        "points_used": 100,
        "total": 4950,
        # 10 %: 3000 - 300 + 550 - 67 = 3183 → tax 289; 8 %: 2000 - 200 - 33 = 1767 → tax 130
        "tax_summary": {"10": {"base": 3183, "tax": 289}, "8": {"base": 1767, "tax": 130}},
    }
    values.update(fields)
    order = make_order(sub, **values)
    for product, quantity, unit in (
        (ProductFactory(name="プロテイン", tax_rate=10), 1, 3000),
        (ProductFactory(name="国産青汁", tax_rate=8), 2, 1000),
    ):
        OrderLine.objects.create(
            order=order, product=product, sku=product.sku, product_name=product.name, quantity=quantity,
            unit_price=unit, tax_rate=product.tax_rate, line_total=unit * quantity,
        )  # fmt: skip
    return orders_for_documents().get(pk=order.pk)


def test_qualified_invoice_shows_issuer_rates_and_tax_per_rate(settings):
    settings.INVOICE_ISSUER_NAME = "株式会社テスト商店"
    settings.INVOICE_REGISTRATION_NUMBER = "T9876543210987"
    order = mixed_order()
    text = pdf_text(document_render(order=order, kind="invoice", issued_on=ISSUED))
    for expected in (
        "適格請求書",
        "株式会社テスト商店",
        "登録番号: T9876543210987",
        "発行日: 2027年3月10日",
        f"{order.customer.name} 様",
        "※は軽減税率対象",
        "¥4,950",
    ):
        assert expected in text
    assert re.search(r"国産青汁 ※\s+2\s+¥1,000\s+8%\s+¥2,000", text)
    assert re.search(r"プロテイン\s+1\s+¥3,000\s+10%\s+¥3,000", text)  # no ※ on standard-rate items
    assert re.search(r"10%対象\s+¥3,183（内消費税 ¥289）", text)
    assert re.search(r"8%対象\s+¥1,767（内消費税 ¥130）", text)
    assert text.index("10%対象") < text.index("8%対象")
    assert re.search(r"割引\s+-¥500", text) and re.search(r"送料\s+¥550", text)


@pytest.mark.parametrize("number", ["1234567890123", "T12345", "T123456789012X", ""])
def test_a_malformed_registration_number_is_refused(settings, number):
    settings.INVOICE_REGISTRATION_NUMBER = number
    with pytest.raises(DomainError) as refused:
        document_render(order=mixed_order(), kind="invoice")
    assert refused.value.code == "invalid_registration_number"


def test_delivery_slip_shows_address_items_and_prices():
    text = pdf_text(document_render(order=mixed_order(), kind="slip"))
    assert "納品書" in text and "〒100-0001" in text and "東京都千代田区千代田1-1" in text
    assert re.search(r"国産青汁\s+2\s+¥1,000\s+¥2,000", text)
    assert "¥4,950" in text


@pytest.mark.parametrize(
    ("fields", "gift"),
    [({"is_gift": True}, True), ({"ship_name": "佐藤 一郎"}, True), ({}, False)],
)
def test_a_gift_slip_shows_no_prices(fields, gift):
    text = pdf_text(document_render(order=mixed_order(**fields), kind="slip"))
    assert "国産青汁" in text
    assert ("¥" in text) is not gift


def test_bulk_pdf_has_a_page_per_order():
    orders = [mixed_order(), mixed_order(), mixed_order()]
    pages = pdf_pages(documents_render(orders=orders, kind="invoice"))
    assert len(pages) == 3
    assert [o.number in page for o, page in zip(orders, pages, strict=True)] == [True] * 3


def test_print_documents_command_by_delivery_date(tmp_path):
    wanted = [mixed_order(delivery_date=dt.date(2027, 4, 1)), mixed_order(delivery_date=dt.date(2027, 4, 1))]
    mixed_order(delivery_date=dt.date(2027, 4, 2))
    mixed_order(delivery_date=dt.date(2027, 4, 1), status="cancelled")
    out = tmp_path / "slips.pdf"
    call_command("print_documents", "--kind", "slip", "--delivery-date", "2027-04-01", "--out", str(out))
    pages = pdf_pages(out.read_bytes())
    assert len(pages) == 2
    assert all(o.number in text for o, text in zip(wanted, pages, strict=True))


@pytest.mark.parametrize(
    "spelling",
    [
        ["--order", "{b}", "--order", "{a}"],
        ["--order", "{b}", "{a}"],
        ["--order", "{b}", "{a}", "--order", "{c}"],
    ],
)
def test_print_documents_command_by_ids(tmp_path, spelling):
    a, b, c = mixed_order(), mixed_order(), mixed_order()
    out = tmp_path / "inv.pdf"
    ids = [arg.format(a=a.pk, b=b.pk, c=c.pk) for arg in spelling]
    call_command("print_documents", "--kind", "invoice", *ids, "--out", str(out))
    pages = pdf_pages(out.read_bytes())
    wanted = [o for o in (a, b, c) if str(o.pk) in ids]
    assert len(pages) == len(wanted)
    assert all(o.number in text for o, text in zip(wanted, pages, strict=True))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--order", "999999"], "存在しない受注ID"),
        (["--delivery-date", "2030-01-01"], "対象の受注がありません"),
        ([], "指定してください"),
    ],
)
def test_print_documents_command_refuses_a_bad_selection(tmp_path, args, message):
    out = tmp_path / "x.pdf"
    with pytest.raises(CommandError, match=message):
        call_command("print_documents", "--kind", "invoice", *args, "--out", str(out))
    assert not out.exists()


def test_the_command_exits_non_zero_with_one_line(tmp_path):
    result = subprocess.run(
        [
            ".venv/bin/python",
            "manage.py",
            "print_documents",
            "--kind",
            "slip",
            "--order",
            "987654",
            "--out",
            str(tmp_path / "x.pdf"),
        ],
        capture_output=True,
        text=True,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1


def test_customers_download_their_own_documents_only(client, django_assert_max_num_queries):
    order = mixed_order()
    client.force_login(order.customer.user)
    with django_assert_max_num_queries(6):
        response = client.get(f"/mypage/orders/{order.pk}/invoice.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "適格請求書" in pdf_text(response.content)
    assert "納品書" in pdf_text(client.get(f"/mypage/orders/{order.pk}/slip.pdf").content)
    # another customer's order is not found
    client.force_login(UserFactory())
    assert client.get(f"/mypage/orders/{order.pk}/invoice.pdf").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client):
    order = mixed_order()
    assert client.get(f"/mypage/orders/{order.pk}/invoice.pdf").status_code == 302


def test_staff_download_any_order(admin_client):
    order = mixed_order()
    response = admin_client.get(f"/admin/orders/order/{order.pk}/slip.pdf")
    assert response.status_code == 200
    assert "納品書" in pdf_text(response.content)


def test_a_gift_slip_shows_the_wrapping_and_the_message():
    text = pdf_text(
        document_render(
            order=mixed_order(is_gift=True, gift_wrapping=True, gift_message="いつもありがとう"), kind="slip"
        )
    )
    assert "ギフト包装あり" in text and "ギフトメッセージ: いつもありがとう" in text
    assert "¥" not in text
