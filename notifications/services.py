"""Sending notices. Each notice has a key; the log row is inserted first, so a key is mailed once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, connection, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.errors import DomainError

from .attachments import attachments_render
from .default_mails import default_rows
from .mail_templates import fill
from .models import MailCampaign, MailEvent, MailTemplate, Notification, NotificationStatus
from .rendering import mails_render

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
    subject, body = notice_render(kind=kind, customer=customer, context=context)
    notice = _create_once(
        key=key, kind=kind, customer=customer, to_email=to_email, subject=subject, body=body
    )
    if notice is None:
        return None
    _deliver_after_commit(notice.pk)
    return notice


def _create_once(**fields: Any) -> Notification | None:
    """The outbox row, or None when its key is already in the log. On PostgreSQL one INSERT … ON
    CONFLICT DO NOTHING: a savepoint around a plain INSERT cost two more round trips per mail."""
    if connection.vendor != "postgresql":
        try:
            with transaction.atomic():
                return Notification.objects.create(**fields)
        except IntegrityError:
            return None
    notice = Notification(**fields)
    concrete = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(notice, add=True), connection) for f in concrete]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in concrete)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO notifications_notification ({columns}) VALUES ({', '.join(['%s'] * len(values))}) "
            "ON CONFLICT (key) DO NOTHING RETURNING id",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return None
    notice.pk = row[0]
    notice._state.adding = False
    return notice


def notice_render(*, kind: str, customer: Any, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of `notifications/<kind>_subject.txt` and `_body.txt` in the customer's language."""
    with translation.override(_language(customer)):
        ctx = {"site_url": settings.SITE_URL, **context}
        subject = " ".join(render_to_string(f"notifications/{kind}_subject.txt", ctx).split())
        return subject, render_to_string(f"notifications/{kind}_body.txt", ctx)


def _language(customer: Any) -> str:
    language = getattr(customer, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


_after_commit = threading.local()


def _deliver_after_commit(notification_id: int) -> None:
    """Mail the notice once the surrounding transaction commits, together with the others queued in
    it (a card charge queues two: one lock, one connection, one UPDATE for both instead of each).
    Every mail registers the callback; the first to run takes them all and the rest find none. An
    id whose transaction rolled back is no longer pending and is passed over."""
    pending = getattr(_after_commit, "ids", None)
    if pending is None:
        pending = _after_commit.ids = []
    pending.append(notification_id)
    transaction.on_commit(_deliver_pending, robust=True)


def _deliver_pending() -> None:
    ids, _after_commit.ids = getattr(_after_commit, "ids", None) or [], []
    if ids:
        notification_deliver_many(ids=ids)


def _deliver(notification_id: int) -> None:
    notification_deliver_many(ids=[notification_id])


def notification_deliver_many(*, ids: list[int], chunk: int = 500) -> int:
    """Mail pending notices; returns how many went. Each chunk's rows are locked while their mails go
    out (SKIP LOCKED), so the after-commit delivery, a delivery task and the sweeper never both send
    one; a process that dies mid-send leaves them pending for the sweeper. Rows written by reference
    (notifications.rendering) are rendered here, a chunk at a time, and keep what was sent. One
    mail-server connection and one status UPDATE per chunk; a failure marks that mail failed only."""
    sent_count = 0
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            notices = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("customer")
                .filter(pk__in=ids[start : start + chunk], status=NotificationStatus.PENDING)
                .order_by("pk")
            )
            if not notices:
                continue
            failed, rendered = _render_references(notices)
            sent: list[Notification] = []
            with get_connection() as mail_connection:
                for notice in notices:
                    error = failed.get(notice.pk)
                    if error is None:
                        try:
                            _send(notice, mail_connection)
                        except Exception as exc:  # noqa: BLE001 - a mail server error must not undo the change
                            error = exc
                    if error is not None:
                        logger.warning("notification %s failed: %s", notice.key, error)
                        Notification.objects.filter(pk=notice.pk).update(
                            status=NotificationStatus.FAILED, error=str(error)[:2000]
                        )
                        continue
                    sent.append(notice)
            _mark_sent(sent, rendered)
            sent_count += len(sent)
    return sent_count


def _render_references(notices: list[Notification]) -> tuple[dict[int, Exception], set[int]]:
    """Fill subject and body of the rows written by reference: (the failures by row id, the ids
    rendered)."""
    todo = [n for n in notices if n.render and not n.subject and not n.body]
    failed: dict[int, Exception] = {}
    rendered: set[int] = set()
    for notice, result in zip(todo, mails_render([n.render for n in todo]), strict=True):
        if isinstance(result, Exception):
            failed[notice.pk] = result
            continue
        subject, body = result
        notice.subject, notice.body = subject[:200], body
        rendered.add(notice.pk)
    return failed, rendered


def _send(notice: Notification, mail_connection: Any) -> None:
    message = EmailMessage(
        notice.subject,
        notice.body,
        settings.DEFAULT_FROM_EMAIL,
        [notice.to_email],
        connection=mail_connection,
    )
    if notice.attachments:
        # The files are made now from their references, in the customer's language.
        with translation.override(_language(notice.customer)):
            files = attachments_render(notice.attachments)
        for file in files:
            message.attach(file.filename, file.content, file.mimetype)
    message.send()


def _mark_sent(sent: list[Notification], rendered: set[int]) -> None:
    now = timezone.now()
    written = [n for n in sent if n.pk in rendered]
    if written and connection.vendor == "postgresql":
        # One UPDATE from arrays: bulk_update's CASE per row and column cost more than the mails.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE notifications_notification AS n SET subject = v.s, body = v.b, status = %s, "
                "sent_at = %s FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(i, s, b) WHERE n.id = v.i",
                [NotificationStatus.SENT, now, [n.pk for n in written], [n.subject for n in written],
                 [n.body for n in written]],
            )  # fmt: skip
    elif written:
        for notice in written:
            notice.status, notice.sent_at = NotificationStatus.SENT, now
        Notification.objects.bulk_update(written, ["subject", "body", "status", "sent_at"], batch_size=500)
    Notification.objects.filter(pk__in=[n.pk for n in sent if n.pk not in rendered]).update(
        status=NotificationStatus.SENT, sent_at=now
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


# --- Mails the shop writes (MailTemplate), resend and retry --------------------------------------
# Same outbox as notification_send: the row is written in the caller's transaction, mailed after
# commit by _deliver, once per key.


def mail_template_for(*, event: str, language: str) -> MailTemplate | None:
    """The template for an event in a language, falling back to Japanese when that one is missing."""
    templates = {t.language: t for t in MailTemplate.objects.filter(event=event)}
    return templates.get(language) or templates.get(settings.LANGUAGE_CODE)


def mail_template_render(*, template: MailTemplate, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) with the placeholders filled; the subject on one line."""
    return " ".join(fill(template.subject, context).split()), fill(template.body, context)


def notification_queue_mail(
    *,
    key: str,
    kind: str,
    to_email: str,
    subject: str,
    body: str,
    customer: Any = None,
    ref: str = "",
    attachments: list[dict[str, Any]] | None = None,
    render: dict[str, Any] | None = None,
) -> Notification | None:
    """Write a ready mail to the outbox (once per key) and send it after commit; None if the key exists.

    `attachments` are references (notifications.attachments.attachment_ref), rendered at send."""
    notice = _create_once(
        key=key,
        kind=kind,
        customer=customer,
        to_email=to_email,
        subject=subject,
        body=body,
        ref=ref,
        attachments=attachments or [],
        render=render or {},
    )
    if notice is None:
        return None
    _deliver_after_commit(notice.pk)
    return notice


def notification_send_template(
    *,
    key: str,
    event: str,
    to_email: str,
    language: str,
    context: dict[str, Any],
    customer: Any = None,
    ref: str = "",
    attachments: list[dict[str, Any]] | None = None,
) -> Notification | None:
    """The shop's template for `event`, filled and queued once per key; None when off or missing."""
    template = mail_template_for(event=event, language=language)
    if template is None or not template.enabled:
        return None
    subject, body = mail_template_render(
        template=template, context={"site_url": settings.SITE_URL, **context}
    )
    return notification_queue_mail(
        key=key,
        kind=f"mail:{event}",
        to_email=to_email,
        subject=subject,
        body=body,
        customer=customer,
        ref=ref,
        attachments=attachments,
    )


def notification_resend(*, notification_id: int) -> Notification:
    """Send a mail again as a new outbox row (the log keeps both); the staff's 再送 button."""
    original = Notification.objects.get(pk=notification_id)
    copies = Notification.objects.filter(key__startswith=f"{original.key}:resend:").count()
    notice = notification_queue_mail(
        key=f"{original.key}:resend:{copies + 1}",
        kind=original.kind,
        to_email=original.to_email,
        subject=original.subject,
        body=original.body,
        customer=original.customer,
        ref=original.ref,
        attachments=original.attachments,
        render=original.render,
    )
    assert notice is not None  # the key is new: counted above under the caller's view of the log
    return notice


MAX_RETRIES = 5


def notification_retry_failed(*, max_retries: int = MAX_RETRIES, ids: list[int] | None = None) -> int:
    """Try failed mails again (each at most max_retries times); returns how many were queued."""
    with transaction.atomic():
        rows = Notification.objects.select_for_update(skip_locked=True).filter(
            status=NotificationStatus.FAILED, retries__lt=max_retries
        )
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        picked = list(rows.values_list("pk", flat=True))
        Notification.objects.filter(pk__in=picked).update(
            status=NotificationStatus.PENDING, retries=models.F("retries") + 1
        )
        for pk in picked:
            transaction.on_commit(lambda pk=pk: _deliver(pk))
    return len(picked)


def mail_templates_install_defaults() -> int:
    """Create the starting templates (default_mails) that are missing; returns how many were made."""
    from_rows = default_rows()
    existing = set(MailTemplate.objects.values_list("event", "language"))
    missing = [MailTemplate(**row) for row in from_rows if (row["event"], row["language"]) not in existing]
    MailTemplate.objects.bulk_create(missing)
    return len(missing)


# --- Segment mail (セグメント配信) ------------------------------------------------------------------

CAMPAIGN_CHUNK = 500


def mail_campaign_send(
    *,
    token: str,
    segment: str,
    segment_label: str,
    event: str,
    recipients: Iterable[tuple[Any, str, str, dict[str, Any]]],
    actor_user: Any = None,
) -> MailCampaign:
    """Send the shop's `event` template to every (customer, email, language, context), once each.

    A campaign is one row per confirmation token: submitting the same form again continues the same
    campaign and every recipient already queued is skipped by the outbox's unique key
    (`campaign:<id>:<customer id>`). Queued in transactions of CAMPAIGN_CHUNK mails, each delivered
    after its commit; the template is used even when switched off for its order event (staff chose
    it for this mail), in each customer's language with Japanese as the fallback.
    """
    if event not in MailEvent.values:
        raise DomainError("invalid_event", gettext("メールテンプレートを選んでください。"), field="event")
    templates = {t.language: t for t in MailTemplate.objects.filter(event=event)}
    if not templates:
        raise DomainError("template_missing", gettext("このメールテンプレートはありません。"), field="event")
    campaign, _created = MailCampaign.objects.get_or_create(
        token=token,
        defaults={
            "segment": segment,
            "segment_label": segment_label,
            "event": event,
            "created_by": actor_user,
        },
    )
    chunk: list[tuple[Any, str, str, dict[str, Any]]] = []
    queued = 0

    def flush() -> int:
        sent = 0
        with transaction.atomic():
            for customer, to_email, language, context in chunk:
                template = templates.get(language) or templates.get(settings.LANGUAGE_CODE)
                if template is None or not to_email:
                    continue
                subject, body = mail_template_render(
                    template=template, context={"site_url": settings.SITE_URL, **context}
                )
                notice = notification_queue_mail(
                    key=f"campaign:{campaign.pk}:{customer.pk}",
                    kind=f"campaign:{event}",
                    to_email=to_email,
                    subject=subject,
                    body=body,
                    customer=customer,
                    ref=f"campaign:{campaign.pk}",
                )
                sent += notice is not None
        chunk.clear()
        return sent

    for recipient in recipients:
        chunk.append(recipient)
        if len(chunk) >= CAMPAIGN_CHUNK:
            queued += flush()
    queued += flush()
    MailCampaign.objects.filter(pk=campaign.pk).update(
        recipients=models.F("recipients") + queued, finished_at=timezone.now()
    )
    campaign.refresh_from_db()
    return campaign
