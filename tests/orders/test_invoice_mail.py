"""適格請求書 with the mail that closes the payment: a bank transfer's 入金確認, a card order's 発送完了.

The outbox row holds a reference; the PDF is made at send (and again for a retry or a resend), and
the attached file read back with pdftotext holds the registration number, the lines per rate and
the total."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from billing.services.payments import payment_mark_paid
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_resend, notification_retry_failed
from orders.models import Order, OrderStatus, PaymentStatus
from orders.services import order_set_status
from tests.backoffice.helpers import shop_defaults  # noqa: F401 - autouse: templates and carriers
from tests.orders.test_documents import mixed_order, pdf_text

pytestmark = pytest.mark.django_db


def _pdf_of(message) -> str:  # noqa: ANN001
    [(name, content, mimetype)] = message.attachments
    assert name.startswith("invoice-") and name.endswith(".pdf") and mimetype == "application/pdf"
    return pdf_text(content)


def _assert_invoice(text: str, order: Order) -> None:
    assert "適格請求書" in text
    assert "登録番号: T9876543210987" in text
    assert re.search(r"10%対象\s+¥3,183（内消費税 ¥289）", text)
    assert re.search(r"8%対象\s+¥1,767（内消費税 ¥130）", text)
    assert "¥4,950" in text
    assert order.number in text


@time_machine.travel(dt.datetime(2027, 3, 11, 10, 0, tzinfo=dt.UTC), tick=False)
def test_a_bank_transfer_marked_paid_mails_the_invoice(settings, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    settings.INVOICE_REGISTRATION_NUMBER = "T9876543210987"
    order = mixed_order(payment_kind="bank_transfer", payment_status=PaymentStatus.AWAITING_OFFLINE,
                        status=OrderStatus.AWAITING_PAYMENT)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        payment_mark_paid(order_id=order.pk, note="振込確認")
    notice = Notification.objects.get(kind="mail:payment_confirmed")
    # the outbox carries the reference, not the bytes
    assert notice.attachments == [
        {"kind": "invoice", "args": {"order_id": order.pk, "issued_on": "2027-03-11"}}
    ]
    [message] = [m for m in mail.outbox if m.subject == notice.subject]
    _assert_invoice(_pdf_of(message), order)
    assert "発行日: 2027年3月11日" in _pdf_of(message)


def test_a_card_order_gets_the_invoice_with_the_shipped_mail_only(
    settings, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    settings.INVOICE_REGISTRATION_NUMBER = "T9876543210987"
    order = mixed_order(payment_kind="card", payment_status=PaymentStatus.PAID, status=OrderStatus.READY)
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.SHIPPED)
    shipped = Notification.objects.get(kind="mail:shipped")
    assert shipped.attachments[0]["kind"] == "invoice"
    _assert_invoice(_pdf_of(mail.outbox[-1]), order)
    # a bank-transfer order's shipped mail carries none (its invoice went with 入金確認)
    other = mixed_order(
        payment_kind="bank_transfer", payment_status=PaymentStatus.PAID, status=OrderStatus.READY
    )
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=other.pk, status=OrderStatus.SHIPPED)
    assert Notification.objects.get(kind="mail:shipped", ref=f"order:{other.pk}").attachments == []
    assert mail.outbox[-1].attachments == []


def test_a_failed_send_is_retried_and_a_resend_attaches_the_invoice_again(
    settings, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    # given the registration number is broken when the mail first goes out
    settings.INVOICE_REGISTRATION_NUMBER = "broken"
    order = mixed_order(payment_kind="card", payment_status=PaymentStatus.PAID, status=OrderStatus.READY)
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.SHIPPED)
    notice = Notification.objects.get(kind="mail:shipped")
    assert notice.status == NotificationStatus.FAILED and "INVOICE_REGISTRATION_NUMBER" in notice.error
    assert mail.outbox == []
    # when it is fixed and the mail retried, then the invoice is made and attached then
    settings.INVOICE_REGISTRATION_NUMBER = "T9876543210987"
    with django_capture_on_commit_callbacks(execute=True):
        notification_retry_failed(ids=[notice.pk])
    _assert_invoice(_pdf_of(mail.outbox[-1]), order)
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification_id=notice.pk)
    assert len(mail.outbox) == 2
    _assert_invoice(_pdf_of(mail.outbox[-1]), order)
