"""With the language switch on English, nothing a customer reads is Japanese except the shop's own
data (product, course and customer names, addresses, coupon names).

The demo shop as `make run` seeds it, one night run (an order and its timeline row), then the
customer's changes in English; every main page, the API, the confirmation emails and the PDFs'
fixed text are read for Japanese characters. A template or a label added without its English
fails here.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from catalog.models import Course, Product
from customers.models import Address, Customer
from notifications.models import Notification
from orders.documents.content import delivery_slip, invoice
from orders.documents.render import invoice_issuer
from orders.models import Order
from pricing.models import Coupon
from scheduler.demo_seed import DEMO_EMAIL
from subscriptions.models import SubscriptionStatus
from tests.subscriptions.services_helpers import on

pytestmark = pytest.mark.django_db

DAY = dt.date(2027, 1, 5)  # a Tuesday: the demo's first order is created tonight
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+")
EXPIRED_COUPON = "WINTER2026"


def _shop_data() -> list[str]:
    """The shop's own words: they stay as entered whatever the language."""
    words = {"冬のクーポン"}
    words |= set(Product.objects.values_list("name", flat=True))
    words |= set(Course.objects.values_list("name", flat=True))
    for name, kana in Customer.objects.values_list("name", "name_kana"):
        words |= {name, kana}
    for row in Address.objects.values_list("label", "recipient_name", "prefecture", "city", "line1", "line2"):
        words |= set(row)
    for order in Order.objects.all():
        words |= {order.ship_name, order.ship_prefecture, order.ship_city, order.ship_line1, order.ship_line2}
    return sorted((w for w in words if w), key=len, reverse=True)


def japanese_left(text: str, shop_data: list[str]) -> list[str]:
    # Values of form options are stored data (a prefecture is kept as 東京都); the switch back to
    # Japanese names itself in Japanese (lang="ja").
    text = re.sub(r'value="[^"]*"', "", text)
    text = re.sub(r'<[^>]*lang="ja"[^>]*>[^<]*<', "<", text)
    for word in shop_data:
        text = text.replace(word, "")
    return sorted(set(JAPANESE.findall(text)))


@pytest.fixture
def demo(client, mailoutbox, django_capture_on_commit_callbacks):
    """The demo shop after one night, and its customer signed in with the switch on English."""
    with on(DAY), django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
        call_command("run_nightly", "--date", DAY.isoformat(), stdout=io.StringIO())
    Coupon.objects.create(
        code=EXPIRED_COUPON,
        name="冬のクーポン",
        kind="fixed",
        value=500,
        applies_to="all",
        valid_until=timezone.now() - timedelta(days=400),
    )
    customer = Customer.objects.get(user__email=DEMO_EMAIL)
    with on(DAY):  # the session is made on the day the test's requests happen
        client.force_login(customer.user)
        client.post("/i18n/setlang/", {"language": "en", "next": "/mypage/"})
    return customer


def _act(client, subscription_id: int, action: str, data: dict | None = None) -> str:
    response = client.post(f"/mypage/subscriptions/{subscription_id}/{action}/", data or {}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_the_switch_records_the_language_on_the_customer(demo):
    demo.refresh_from_db()
    assert demo.language == "en"


def test_english_pages_api_and_emails_show_no_japanese_but_the_shops_data(
    demo, client, mailoutbox, django_capture_on_commit_callbacks
):
    # given the demo's active and paused subscriptions and its first order
    active = demo.subscriptions.get(source="demo:aojiru")
    paused = demo.subscriptions.get(source="demo:supple")
    assert paused.status == SubscriptionStatus.PAUSED
    order = Order.objects.get(customer=demo)
    mailoutbox.clear()

    # when the customer changes things in English
    with on(DAY), django_capture_on_commit_callbacks(execute=True):
        after_skip = _act(client, active.pk, "skip")
        active.refresh_from_db()
        _act(client, active.pk, "unskip", {"sequence": max(active.skipped)})
        _act(client, active.pk, "time-slot", {"time_slot": "14-16"})
        _act(client, active.pk, "points", {"mode": "all"})
        shaker = Product.objects.get(sku="SHAKER-01")
        added = _act(client, active.pk, "addon-add", {"product_id": shaker.pk, "quantity": "1"})
        refused = _act(client, active.pk, "coupon-apply", {"code": EXPIRED_COUPON})
        _act(client, paused.pk, "resume")

        # and reads every main page and the API
        pages = {
            url: client.get(url).content.decode()
            for url in [
                "/mypage/",
                "/mypage/orders/",
                f"/mypage/orders/{order.pk}/",
                f"/mypage/subscriptions/{active.pk}/",
                f"/mypage/subscriptions/{paused.pk}/",
                f"/mypage/subscriptions/{active.pk}/cancel/",
                f"/mypage/subscriptions/{active.pk}/address/new/",
                "/api/mypage/subscriptions/",
                f"/api/mypage/subscriptions/{active.pk}/",
                "/api/mypage/orders/",
                "/api/mypage/addresses/",
                "/api/mypage/payment-methods/",
                "/api/mypage/points/",
                "/api/mypage/addon-products/",
            ]
        }
        api_refusal = client.post(
            f"/api/mypage/subscriptions/{active.pk}/coupon-apply/",
            {"code": "NO-SUCH-CODE"},
            content_type="application/json",
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        )

    # then the changes are confirmed and refused in English
    assert "Skipped the next delivery" in after_skip
    assert "Added an item to your next delivery" in added and "One-off items (next delivery only)" in added
    assert "This coupon expired" in refused
    assert api_refusal.status_code == 400
    assert api_refusal.json()["message"] == "Coupon code not found. Please check what you entered."
    detail = pages[f"/mypage/subscriptions/{active.pk}/"]
    for words in (
        "Active",
        "Every month",
        "2–4 pm",
        "Use all points",
        "(Customer)",
        "(System)",
        "Order created",
    ):
        assert words in detail
    assert "order_created" not in detail
    # and nothing else on the pages, in the API or in the emails is Japanese
    shop_data = _shop_data()
    left = {url: japanese_left(html, shop_data) for url, html in pages.items()}
    assert {url: words for url, words in left.items() if words} == {}
    mails = Notification.objects.filter(customer=demo, kind="mypage_change")
    assert mails.count() == len(mailoutbox) == 6
    for mail in mailoutbox:
        assert japanese_left(mail.subject + mail.body, shop_data) == [], mail.subject


def test_the_reminder_is_mailed_in_the_customers_language(
    demo, mailoutbox, django_capture_on_commit_callbacks
):
    # given the English-reading demo customer's next delivery after tonight's order
    from scheduler.pipeline import stage_reminders

    active = demo.subscriptions.get(source="demo:aojiru")
    remind_on = active.next_creation_date - timedelta(days=2)
    mailoutbox.clear()

    # when the reminder stage runs
    with on(remind_on), django_capture_on_commit_callbacks(execute=True):
        assert stage_reminders(remind_on) == {"reminders_sent": 1}

    # then its subject and body are English, with the date in English words
    mail = mailoutbox[0]
    assert mail.subject.startswith("Your next delivery: ")
    assert active.next_delivery_date.strftime("%B") in mail.subject
    assert japanese_left(mail.subject + mail.body, _shop_data()) == []


def test_the_invoice_and_slip_read_in_english_when_asked_for_in_english(demo):
    # given the demo's first order
    order = Order.objects.get(customer=demo)
    lines = list(order.lines.all())
    issuer = invoice_issuer()

    # when its documents are written in English (as the my page serves them to this customer)
    with translation.override("en"):
        documents = [
            invoice(order, lines, issuer=issuer, issued_on=DAY),
            delivery_slip(order, lines, issuer=issuer),
        ]

    # then their fixed text is English; names, addresses and the issuer stay as entered
    shop_data = [*_shop_data(), issuer.name, issuer.address]
    for document in documents:
        fixed = [
            document.title,
            *document.number_lines,
            *document.headers,
            *document.notes,
            *document.to_lines,
        ]
        fixed += [label + value for label, value in document.totals]
        assert japanese_left("\n".join(fixed), shop_data) == [], document.title
    assert documents[0].title == "Qualified invoice"


def test_the_invoice_pdf_is_served_in_the_customers_language(demo, client):
    # given the signed-in customer reading in English
    order = Order.objects.get(customer=demo)

    # when the invoice is downloaded
    with on(DAY):
        response = client.get(f"/mypage/orders/{order.pk}/invoice.pdf")

    # then it is a PDF titled in English
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert b"Qualified invoice" in response.content
