"""Sending notices. Each notice has a key; the log row is inserted first, so a key is mailed once."""

from __future__ import annotations

import logging
from datetime import timedelta
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
    transaction.on_commit(lambda: _deliver(notice.pk), robust=True)
    return notice


def _language(customer: Any) -> str:
    language = getattr(customer, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _deliver(notification_id: int) -> None:
    """Mail one pending notice. The row is locked while the mail goes out (SKIP LOCKED), so the
    after-commit delivery and the sweeper never both send it; a process that dies mid-send leaves it
    pending for the sweeper."""
    with transaction.atomic():
        notice = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status=NotificationStatus.PENDING)
            .first()
        )
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
        Notification.objects.filter(pk=notice.pk).update(
            status=NotificationStatus.SENT, sent_at=timezone.now()
        )


# A notice is normally mailed a moment after its transaction commits; one pending longer than this
# lost its delivery (the process died, or an earlier after-commit callback raised).
SWEEP_AFTER = timedelta(minutes=2)


def notification_sweep(*, older_than: timedelta = SWEEP_AFTER) -> int:
    """Mail the notices whose delivery after commit never ran (notifications.outbox.outbox_sweep)."""
    ids = list(
        Notification.objects.filter(
            status=NotificationStatus.PENDING, created_at__lt=timezone.now() - older_than
        )
        .order_by("id")
        .values_list("id", flat=True)[:5000]
    )
    for notification_id in ids:
        _deliver(notification_id)
    return len(ids)
