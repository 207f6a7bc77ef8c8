"""Stripe webhooks: verified, recorded once by event id, handled idempotently in any order.

Handlers never trust the state inside the payload (events arrive late, twice and out of order);
they take the object's id, fetch the current object from Stripe and apply it through the same
idempotent services the charging path uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from billing.gateways import GatewayError, GatewayUnavailable, get_gateway
from billing.models import PaymentAttempt, PaymentMethod, WebhookEvent
from core.errors import DomainError
from customers.models import Customer
from orders.models import Order
from orders.models import PaymentStatus as P

from .payment_methods import payment_method_deactivate, payment_method_store_card
from .payments import payment_attempt_record, payment_set_status

logger = logging.getLogger(__name__)


class InvalidWebhook(DomainError):
    status = 400


def webhook_verify(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event, if STRIPE_WEBHOOK_SECRET signed it; else InvalidWebhook (the view answers 400)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise InvalidWebhook("webhook_not_configured", "STRIPE_WEBHOOK_SECRET is not set.")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise InvalidWebhook("invalid_signature", "Invalid webhook signature.") from exc
    return event.to_dict() if hasattr(event, "to_dict") else dict(event)


def webhook_receive(*, event: dict[str, Any]) -> bool:
    """Record and handle a verified event. Returns False when this event id was handled before.

    The event row and the handling share one transaction: if handling fails, the row is rolled back
    too and Stripe's redelivery gets another chance.
    """
    obj = (event.get("data") or {}).get("object") or {}
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                event_id=event["id"], type=event.get("type", ""), object_id=obj.get("id", "")[:100]
            )
            handler = HANDLERS.get(event.get("type", ""))
            if handler is not None:
                handler(obj)
    except IntegrityError:
        return False
    return True


def _attempt_for(obj: dict[str, Any]) -> PaymentAttempt | None:
    attempt = PaymentAttempt.objects.filter(gateway_payment_intent_id=obj.get("id", "")).first()
    if attempt is None:
        # The worker died before storing the PaymentIntent id: the metadata names the attempt.
        key = (obj.get("metadata") or {}).get("attempt", "")
        attempt = PaymentAttempt.objects.filter(idempotency_key=key).first() if key else None
    return attempt


def _on_payment_intent(obj: dict[str, Any]) -> None:
    attempt = _attempt_for(obj)
    if attempt is None:
        logger.info("webhook for unknown PaymentIntent %s", obj.get("id"))
        return
    result = get_gateway().payment_intent_retrieve(obj["id"])
    payment_attempt_record(attempt_id=attempt.pk, result=result)


def _on_setup_intent_succeeded(obj: dict[str, Any]) -> None:
    customer = Customer.objects.filter(stripe_customer_id=obj.get("customer") or "-").first()
    pm = obj.get("payment_method")
    pm_id = pm if isinstance(pm, str) else (pm or {}).get("id")
    if customer is None or not pm_id:
        return
    card = get_gateway().payment_method_retrieve(pm_id)
    if card.customer_id and card.customer_id != customer.stripe_customer_id:
        return
    payment_method_store_card(customer=customer, card=card)


def _on_charge_refunded(obj: dict[str, Any]) -> None:
    """A refund made in the Stripe dashboard: mirror the refunded amount (never lower it)."""
    pi = obj.get("payment_intent")
    pi_id = pi if isinstance(pi, str) else (pi or {}).get("id", "")
    attempt = PaymentAttempt.objects.filter(gateway_payment_intent_id=pi_id).first() if pi_id else None
    if attempt is None:
        return
    # The refund may arrive before the payment's own success event: bring the attempt up to date first.
    result = get_gateway().payment_intent_retrieve(pi_id)
    payment_attempt_record(attempt_id=attempt.pk, result=result)
    order = Order.objects.select_for_update().get(pk=attempt.order_id)
    attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
    refunded = max(int(obj.get("amount_refunded") or 0), result.amount_refunded)
    if refunded <= attempt.refunded_amount:
        return
    attempt.refunded_amount = refunded
    attempt.save(update_fields=["refunded_amount", "updated_at"])
    target = P.REFUNDED if refunded >= (attempt.captured_amount or attempt.amount) else P.PARTIALLY_REFUNDED
    if order.payment_status in (P.PAID, P.PARTIALLY_REFUNDED):
        payment_set_status(order=order, target=target, note=f"charge.refunded {obj.get('id', '')}")


def _on_payment_method_detached(obj: dict[str, Any]) -> None:
    for method in PaymentMethod.objects.select_for_update().filter(
        stripe_payment_method_id=obj.get("id", "-"), is_active=True
    ):
        payment_method_deactivate(method=method)


HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "payment_intent.succeeded": _on_payment_intent,
    "payment_intent.payment_failed": _on_payment_intent,
    "payment_intent.canceled": _on_payment_intent,
    "payment_intent.requires_action": _on_payment_intent,
    "payment_intent.amount_capturable_updated": _on_payment_intent,
    "setup_intent.succeeded": _on_setup_intent_succeeded,
    "charge.refunded": _on_charge_refunded,
    "payment_method.detached": _on_payment_method_detached,
}

__all__ = ["GatewayError", "GatewayUnavailable", "InvalidWebhook", "webhook_receive", "webhook_verify"]
