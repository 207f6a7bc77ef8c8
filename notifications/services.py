"""Sending notices. Each notice has a key; the log row is inserted first, so a key is mailed once."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification, NotificationStatus

logger = logging.getLogger(__name__)


def notification_send(
    *,
    key: str,
    kind: str,
    to_email: str,
    context: dict[str, Any],
    customer: Any = None,
) -> Notification | None:
    """Render `notifications/<kind>_subject.txt` and `_body.txt` and mail them once per key.

    The mail is in the customer's language (Customer.language), in the shop's without a customer.
    Returns the new Notification, or None when this key was already sent (or queued) before.
    The mail goes out after the surrounding transaction commits, so a rolled-back run sends nothing.
    """
    with translation.override(_language(customer)):
        ctx = {"site_url": settings.SITE_URL, **context}
        subject = " ".join(render_to_string(f"notifications/{kind}_subject.txt", ctx).split())
        body = render_to_string(f"notifications/{kind}_body.txt", ctx)
    try:
        with transaction.atomic():
            notice = Notification.objects.create(
                key=key, kind=kind, customer=customer, to_email=to_email, subject=subject, body=body
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _deliver(notice.pk))
    return notice


def _language(customer: Any) -> str:
    language = getattr(customer, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _deliver(notification_id: int) -> None:
    notice = Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).first()
    if notice is None:
        return
    try:
        send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [notice.to_email])
    except Exception as exc:  # noqa: BLE001 - a mail server error must not undo the business change
        logger.warning("notification %s failed: %s", notice.key, exc)
        Notification.objects.filter(pk=notice.pk).update(
            status=NotificationStatus.FAILED, error=str(exc)[:2000]
        )
        return
    Notification.objects.filter(pk=notice.pk).update(status=NotificationStatus.SENT, sent_at=timezone.now())
