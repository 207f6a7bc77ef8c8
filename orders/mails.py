"""The shop's mails about an order: the placeholders filled from the order, queued in the outbox.

A status move queues the mail of the status it reaches (STATUS_MAIL), in the transaction of the
move, keyed by the move's OrderEvent: one mail per move, however often the same import or action
is repeated. Payments queue theirs (入金確認, 返金) through order_mail_queue the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import formats, translation

from core.money import format_yen
from notifications.attachments import Attachment, attachment_ref
from notifications.bulk import QueuedMail
from notifications.models import MailEvent, MailTemplate, Notification
from notifications.rendering import mail_ref
from notifications.services import mail_template_for, mail_template_render, notification_send_template
from subscriptions.models import TimeSlot
from subscriptions.selectors import today_in_shop

from .documents.render import DocumentKind, document_render, orders_for_documents
from .models import Order, OrderEvent, OrderLine, OrderStatus

# The mail an order's status sends when the order reaches it (received is sent by whoever creates it).
STATUS_MAIL: dict[str, str] = {
    OrderStatus.ON_HOLD: MailEvent.ON_HOLD,
    OrderStatus.AWAITING_PAYMENT: MailEvent.AWAITING_PAYMENT,
    OrderStatus.READY: MailEvent.READY,
    OrderStatus.SHIPPED: MailEvent.SHIPPED,
    OrderStatus.COMPLETED: MailEvent.COMPLETED,
    OrderStatus.CANCELLED: MailEvent.CANCELLED,
    OrderStatus.RETURNED: MailEvent.RETURNED,
}

# The qualified invoice (適格請求書) goes with the mail that closes the payment: a bank transfer's 入金確認
# (staff marked it paid), a card order's 発送完了 and 完了 (the card was charged before shipping).
INVOICE_MAILS: dict[str, frozenset[str]] = {
    "bank_transfer": frozenset({MailEvent.PAYMENT_CONFIRMED}),
    "card": frozenset({MailEvent.SHIPPED, MailEvent.COMPLETED}),
}
# The mail a payment move sends (the other payment moves send none).
PAYMENT_MAIL: dict[str, str] = {"paid": MailEvent.PAYMENT_CONFIRMED, "refunded": MailEvent.REFUNDED}


def order_ref(order_id: int) -> str:
    """How the outbox names an order (Notification.ref)."""
    return f"order:{order_id}"


def order_mail_context(order: Order, *, language: str, mypage_url: str | None = None) -> dict[str, Any]:
    """Every placeholder of notifications.mail_templates.PLACEHOLDERS for this order, in a language.
    `mypage_url`: mypage_url_for(language), when the caller fills many mails (reverse() under a
    language override was a third of the bulk path's time)."""
    with translation.override(language):
        lines = "\n".join(
            f"{line.product_name} × {line.quantity}  {format_yen(line.line_total)}"
            for line in order.lines.all()
        )
        slot = TimeSlot(order.delivery_time_slot).label if order.delivery_time_slot in TimeSlot.values else ""
        return {
            "customer_name": order.customer.name,
            "order_number": order.number,
            "order_date": _date(order.creation_date),
            "items": lines,
            "items_subtotal": format_yen(order.items_subtotal),
            "discount_total": format_yen(order.discount_total),
            "shipping_fee": format_yen(order.shipping_fee),
            "cod_fee": format_yen(order.cod_fee),
            "points_used": f"{order.points_used:,}",
            "total": format_yen(order.total),
            "payment_method": order.get_payment_kind_display(),
            "delivery_date": _date(order.delivery_date),
            "delivery_time_slot": str(slot),
            "ship_name": order.ship_name,
            "ship_address": f"〒{order.ship_postal_code} {order.ship_prefecture}{order.ship_city}"
            f"{order.ship_line1} {order.ship_line2}".strip(),
            "carrier": order.carrier.name if order.carrier_id else "",
            "tracking_number": order.tracking_number,
            "tracking_url": order.tracking_url,
            "shipped_date": _date(order.shipped_on),
            "mypage_url": mypage_url if mypage_url is not None else mypage_url_for(language),
            "shop_name": settings.INVOICE_ISSUER_NAME,
        }


def mypage_url_for(language: str) -> str:
    with translation.override(language):
        return settings.SITE_URL.rstrip("/") + reverse("mypage:home")


def _date(value: Any) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def _language(order: Order) -> str:
    language = order.customer.language or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _invoice_attachments(order: Order, event: str) -> list[dict[str, Any]]:
    if event not in INVOICE_MAILS.get(order.payment_kind, ()):
        return []
    # The issue date is fixed now: a retry next week or a resend prints the same invoice.
    return [attachment_ref("invoice", order_id=order.pk, issued_on=today_in_shop().isoformat())]


def invoice_attachment(*, order_id: int, issued_on: str) -> Attachment:
    """The order's 適格請求書 as a PDF (orders.documents), rendered when the mail is sent."""
    order = orders_for_documents().get(pk=order_id)
    pdf = document_render(order=order, kind=DocumentKind.INVOICE, issued_on=date.fromisoformat(issued_on))
    return Attachment(filename=f"invoice-{order.number}.pdf", content=pdf, mimetype="application/pdf")


def order_mail_queue(*, order: Order, event: str, key: str) -> Notification | None:
    """Queue the shop's `event` mail for an order, once per key; None when that mail is off.

    The invoice goes with it as an attachment reference when INVOICE_MAILS says so."""
    language = _language(order)
    return notification_send_template(
        key=key,
        event=event,
        to_email=order.customer.user.email,
        language=language,
        context=order_mail_context(order, language=language),
        customer=order.customer,
        ref=order_ref(order.pk),
        attachments=_invoice_attachments(order, event),
    )


def order_mail_on_move(*, order: Order, order_event: OrderEvent) -> Notification | None:
    """The mail of the status the order just reached, keyed by the move (one per move)."""
    event = STATUS_MAIL.get(order.status)
    if event is None:
        return None
    return order_mail_queue(order=order, event=event, key=f"order-mail:{order.pk}:{event}:{order_event.pk}")


def order_mail_on_payment(
    *, order: Order, payment_status: str, order_event: OrderEvent
) -> Notification | None:
    """入金確認 when a payment is marked paid, 返金 when refunded; nothing for the other payment moves."""
    event = PAYMENT_MAIL.get(payment_status)
    if event is None:
        return None
    return order_mail_queue(order=order, event=event, key=f"order-mail:{order.pk}:{event}:{order_event.pk}")


def order_mail_received(*, order: Order) -> Notification | None:
    """The サンクスメール for a new order, once per order."""
    return order_mail_queue(order=order, event=MailEvent.RECEIVED, key=f"order-mail:{order.pk}:received")


@dataclass(frozen=True, slots=True)
class MovedOrder:
    """What the shop's mail of a bulk move needs to be queued (orders.bulk): rendered at send."""

    order_id: int
    mail: str  # the MailEvent: STATUS_MAIL of the status reached, PAYMENT_MAIL of the payment move
    event_id: int
    payment_kind: str
    customer_id: int
    email: str
    language: str


def order_mail_refs(*, moves: list[MovedOrder]) -> list[QueuedMail]:
    """order_mail_on_move and order_mail_on_payment for many moves (orders.bulk): the same key, kind,
    recipient, ref and attachments, the text written at send (ORDER_MAIL_KIND). Each (event,
    language) template is read once here, and a mail that is off is not queued, as
    notification_send_template leaves it."""
    enabled: dict[tuple[str, str], bool] = {}
    mails = []
    for move in moves:
        event = move.mail
        language = move.language if move.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        if (event, language) not in enabled:
            template = mail_template_for(event=event, language=language)
            enabled[event, language] = template is not None and template.enabled
        if not enabled[event, language]:
            continue
        attachments = ()
        if event in INVOICE_MAILS.get(move.payment_kind, ()):
            attachments = (
                attachment_ref("invoice", order_id=move.order_id, issued_on=today_in_shop().isoformat()),
            )
        mails.append(
            QueuedMail(
                key=f"order-mail:{move.order_id}:{event}:{move.event_id}",
                kind=f"mail:{event}",
                customer_id=move.customer_id,
                to_email=move.email,
                ref=order_ref(move.order_id),
                render=mail_ref(ORDER_MAIL_KIND, order_id=move.order_id, event=event, language=language),
                attachments=attachments,
            )
        )
    return mails


ORDER_MAIL_KIND = "order_mail"


def order_mails_render(refs: list[dict[str, Any]]) -> list[tuple[str, str] | Exception]:
    """The notifications.rendering renderer of ORDER_MAIL_KIND: the shop's template filled from the
    order as it is now (a few seconds after the move), the orders read in one query."""
    orders = (
        Order.objects.select_related("customer__user", "carrier")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("pk")))
        .in_bulk({ref["order_id"] for ref in refs})
    )
    templates: dict[tuple[str, str], MailTemplate | None] = {}
    urls: dict[str, str] = {}
    out: list[tuple[str, str] | Exception] = []
    for ref in refs:
        order, event, language = orders.get(ref["order_id"]), ref["event"], ref["language"]
        if (event, language) not in templates:
            templates[event, language] = mail_template_for(event=event, language=language)
        template = templates[event, language]
        if order is None or template is None:
            out.append(LookupError(f"order {ref['order_id']} or its {event} mail ({language}) is gone"))
            continue
        if language not in urls:
            urls[language] = mypage_url_for(language)
        context = order_mail_context(order, language=language, mypage_url=urls[language])
        out.append(
            mail_template_render(template=template, context={"site_url": settings.SITE_URL, **context})
        )
    return out
