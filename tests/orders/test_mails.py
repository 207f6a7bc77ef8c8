"""Status mails: a move writes the shop's mail in its transaction, sent once after commit."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction

from notifications.models import MailTemplate, Notification, NotificationStatus
from notifications.services import notification_resend, notification_retry_failed
from orders.mails import order_mail_context, order_mail_received, order_ref
from orders.models import Carrier, OrderStatus
from orders.services import order_set_shipping, order_set_status
from tests.backoffice.helpers import shop_order
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _ship(order) -> None:  # noqa: ANN001
    yamato = Carrier.objects.get(code="yamato")
    order_set_shipping(
        order_id=order.pk,
        carrier_id=yamato.pk,
        tracking_number="1234-5678-9012",
        shipped_on=dt.date(2027, 3, 12),
    )
    order_set_status(order_id=order.pk, status=OrderStatus.SHIPPED)


def test_shipping_an_order_mails_the_tracking_link_once_after_commit(
    django_capture_on_commit_callbacks, mailoutbox
) -> None:  # noqa: ANN001
    # given an order being prepared
    order = shop_order()

    # when it is shipped with a Yamato tracking number
    with django_capture_on_commit_callbacks(execute=True):
        _ship(order)

    # then one shipped mail is logged against the order and sent, with the number and its link
    mails = Notification.objects.filter(ref=order_ref(order.pk))
    assert [m.kind for m in mails] == ["mail:shipped"]
    assert mails[0].status == NotificationStatus.SENT
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert "1234-5678-9012" in body
    assert "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=1234-5678-9012" in body
    assert "ヤマト運輸" in body and order.customer.name in body and "14時〜16時" in body
    assert order.number in mailoutbox[0].subject


def test_a_rolled_back_move_writes_and_sends_nothing(django_capture_on_commit_callbacks, mailoutbox) -> None:  # noqa: ANN001
    order = shop_order()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        order_set_status(order_id=order.pk, status=OrderStatus.SHIPPED)
        raise RuntimeError
    assert not Notification.objects.filter(ref=order_ref(order.pk)).exists()
    assert mailoutbox == []


def test_a_template_switched_off_sends_nothing(django_capture_on_commit_callbacks, mailoutbox) -> None:  # noqa: ANN001
    MailTemplate.objects.filter(event="shipped").update(enabled=False)
    order = shop_order()
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.SHIPPED)
    assert mailoutbox == []
    assert not Notification.objects.filter(ref=order_ref(order.pk)).exists()


def test_an_english_customer_gets_the_english_version(django_capture_on_commit_callbacks, mailoutbox) -> None:  # noqa: ANN001
    order = shop_order(customer=CustomerFactory(language="en"))
    with django_capture_on_commit_callbacks(execute=True):
        _ship(order)
    assert mailoutbox[0].subject.startswith("[")
    assert "Your order has shipped" in mailoutbox[0].subject
    assert "Tracking number: 1234-5678-9012" in mailoutbox[0].body
    assert "Delivery: 03/15/2027 2–4 pm" in mailoutbox[0].body


def test_each_move_sends_its_own_status_mail_and_statuses_without_one_send_none(
    django_capture_on_commit_callbacks, mailoutbox
) -> None:  # noqa: ANN001
    order = shop_order(status=OrderStatus.NEW)
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.READY)  # 出荷準備中: off by default
        order_set_status(order_id=order.pk, status=OrderStatus.CANCELLED)
    assert [m.kind for m in Notification.objects.filter(ref=order_ref(order.pk))] == ["mail:cancelled"]
    assert len(mailoutbox) == 1


def test_the_thanks_mail_goes_once_per_order(django_capture_on_commit_callbacks, mailoutbox) -> None:  # noqa: ANN001
    order = shop_order(status=OrderStatus.NEW)
    with django_capture_on_commit_callbacks(execute=True):
        assert order_mail_received(order=order) is not None
        assert order_mail_received(order=order) is None
    assert len(mailoutbox) == 1 and "ご注文ありがとうございます" in mailoutbox[0].subject


def test_a_failed_send_is_visible_retried_and_a_sent_one_can_be_resent(
    django_capture_on_commit_callbacks, mailoutbox
) -> None:  # noqa: ANN001
    order = shop_order()
    # given the mail server is down when the order ships
    smtp_down = mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("smtp down")
    )
    with smtp_down, django_capture_on_commit_callbacks(execute=True):
        _ship(order)
    notice = Notification.objects.get(ref=order_ref(order.pk))
    assert notice.status == NotificationStatus.FAILED and "smtp down" in notice.error

    # when the failed mails are retried with the server back
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_retry_failed() == 1
    notice.refresh_from_db()
    assert notice.status == NotificationStatus.SENT and notice.retries == 1
    assert len(mailoutbox) == 1

    # and staff resend it: a second row, a second mail, the first untouched
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification_id=notice.pk)
    assert Notification.objects.filter(ref=order_ref(order.pk)).count() == 2
    assert len(mailoutbox) == 2
    assert notification_retry_failed() == 0


def test_retries_stop_after_the_limit(django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    order = shop_order()
    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("smtp down")
    ):
        with django_capture_on_commit_callbacks(execute=True):
            _ship(order)
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                notification_retry_failed(max_retries=2)
    notice = Notification.objects.get(ref=order_ref(order.pk))
    assert notice.status == NotificationStatus.FAILED and notice.retries == 2


def test_the_context_has_every_placeholder_for_an_unshipped_order() -> None:
    order = shop_order(status=OrderStatus.NEW, delivery_time_slot="")
    context = order_mail_context(order, language="ja")
    assert context["tracking_url"] == "" and context["carrier"] == ""
    assert context["total"] == "¥4,480"
    assert context["mypage_url"].endswith("/mypage/")
    assert context["payment_method"] == "クレジットカード"


def test_the_retry_command_sends_the_failed_mails(django_capture_on_commit_callbacks, mailoutbox) -> None:  # noqa: ANN001
    from django.core.management import call_command

    order = shop_order()
    smtp_down = mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("smtp down")
    )
    with smtp_down, django_capture_on_commit_callbacks(execute=True):
        _ship(order)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retry_failed_mails")
    assert Notification.objects.get(ref=order_ref(order.pk)).status == NotificationStatus.SENT
    assert len(mailoutbox) == 1
