"""Staff edit mail templates with a preview from a real order, and see and resend an order's mails."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from notifications.models import MailTemplate, Notification, NotificationStatus
from orders.mails import order_ref
from orders.models import OrderStatus
from orders.services import order_set_status
from tests.backoffice.helpers import shop_order
from tests.factories import UserFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):  # noqa: ANN001, ANN201
    staff_login(client, UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_template_page_previews_the_mail_filled_with_a_real_order(staff) -> None:  # noqa: ANN001
    order = shop_order(tracking_number="9999")
    template = MailTemplate.objects.get(event="shipped", language="ja")
    url = reverse("admin:notifications_mailtemplate_change", args=[template.pk])

    page = staff.get(f"{url}?preview_order={order.pk}").content.decode()

    assert f"商品を発送しました（受注番号 {order.number}）" in page
    assert f"{order.customer.name} 様" in page
    assert "{customer_name}" in page  # the placeholder list beside the form


def test_an_unknown_placeholder_is_a_form_error_not_a_mail_with_braces(staff) -> None:  # noqa: ANN001
    template = MailTemplate.objects.get(event="shipped", language="ja")
    url = reverse("admin:notifications_mailtemplate_change", args=[template.pk])
    response = staff.post(
        url,
        {"event": "shipped", "language": "ja", "enabled": "on", "subject": "{price}", "body": "x"},
    )
    assert response.status_code == 200
    assert "使えない差し込み項目があります: {price}" in response.content.decode()
    template.refresh_from_db()
    assert template.subject != "{price}"


def test_the_order_page_lists_its_mails_and_resends_or_retries(
    staff, django_capture_on_commit_callbacks, mailoutbox
) -> None:  # noqa: ANN001
    order = shop_order()
    smtp_down = mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("smtp down")
    )
    with smtp_down, django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=OrderStatus.SHIPPED)
    change = reverse("admin:orders_order_change", args=[order.pk])
    page = staff.get(change).content.decode()
    assert "送信失敗" in page and "smtp down" in page and "再試行" in page

    notice = Notification.objects.get(ref=order_ref(order.pk))
    resend = reverse("admin:orders_order_mail_resend", args=[order.pk])
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(resend, {"mail": notice.pk})
    notice.refresh_from_db()
    assert notice.status == NotificationStatus.SENT and len(mailoutbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(resend, {"mail": notice.pk})
    assert Notification.objects.filter(ref=order_ref(order.pk)).count() == 2
    assert len(mailoutbox) == 2
