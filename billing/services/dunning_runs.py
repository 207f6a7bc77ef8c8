"""Dunning runs that charge: the nightly retry of failed cards and the immediate retry on a new
card. They sit above payments (they call payment_charge_order); the case bookkeeping that payments
call back into lives below it, in billing.services.dunning."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction

from billing.gateways.offline import OFFLINE_KINDS
from billing.models import (
    DunningCase,
    DunningReason,
    DunningStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
    PaymentKind,
)
from orders.models import Order, OrderEvent, OrderStatus
from orders.models import PaymentStatus as P
from subscriptions.models import AttentionReason
from subscriptions.selectors import today_in_shop

from ._orders import held_for_payment_only, order_release_payment_hold, payment_set_status
from .dunning import dunning_await_offline, dunning_close, dunning_offline_run, payment_attention_set
from .payments import (
    order_charge_lock,
    payment_charge_order,
    payment_renew_authorizations,
    payment_void_quietly,
)

# The nightly stage ----------------------------------------------------------------------------------


def dunning_run(*, run_date: date) -> dict[str, int]:
    """Retry failed payments whose day has come, remind and cancel overdue offline payments, and
    renew authorisations that would lapse before shipment."""
    counts = {
        "retried": 0,
        "retry_succeeded": 0,
        "retry_failed": 0,
        "offline_reminded": 0,
        "offline_cancelled": 0,
    }
    due = DunningCase.objects.filter(
        status=DunningStatus.OPEN, reason=DunningReason.CARD_FAILED, next_retry_on__lte=run_date
    ).values_list("order_id", flat=True)
    for order_id in list(due):  # each gateway call takes from the shared rate budget
        attempt = payment_charge_order(order_id=order_id, retry=True, today=run_date)
        if attempt is None:
            continue
        counts["retried"] += 1
        if attempt.status in (PaymentAttemptStatus.SUCCEEDED, PaymentAttemptStatus.AUTHORIZED):
            counts["retry_succeeded"] += 1
        elif attempt.status == PaymentAttemptStatus.FAILED:
            counts["retry_failed"] += 1
    counts.update(dunning_offline_run(run_date=run_date))
    counts["authorizations_renewed"] = payment_renew_authorizations(today=run_date)
    return counts


# A new card ----------------------------------------------------------------------------------------


def dunning_retry_subscription(*, subscription_id: int) -> list[PaymentAttempt]:
    """The customer chose another payment method: its unpaid orders use it; failed ones are retried at
    once on a new card, or turned into an offline payment (振込・コンビニ: awaiting payment with a
    deadline; 代引き: ready to ship) when the customer chose to pay that way."""
    orders = Order.objects.filter(subscription_id=subscription_id).exclude(
        status__in=(OrderStatus.CANCELLED, OrderStatus.RETURNED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
    )
    attempts = []
    for order in orders.select_related("subscription__payment_method"):
        if order.payment_status not in (P.UNPAID, P.FAILED, P.ACTION_REQUIRED):
            continue
        method = order.subscription.payment_method
        with order_charge_lock(order.pk) as acquired:
            if not acquired:
                continue
            with transaction.atomic():
                locked = Order.objects.select_for_update().get(pk=order.pk)
                locked.payment_method = method
                # The kind follows the method: a card order whose customer now pays by transfer is
                # no longer charged as a card (payments read payment_kind first).
                locked.payment_kind = method.kind if method is not None else locked.payment_kind
                locked.save(update_fields=["payment_method", "payment_kind", "updated_at"])
                _abandon_authentication(locked)
                if method is not None and method.kind in OFFLINE_KINDS and locked.payment_status != P.UNPAID:
                    _switch_to_offline(locked, method.kind)
                    continue
        if order.payment_status == P.UNPAID and not held_for_payment_only(order=order):
            continue  # not charged yet: the nightly run will use the new method
        if not settings.STRIPE_SECRET_KEY:
            continue  # no gateway to retry with
        attempt = payment_charge_order(order_id=order.pk, retry=True)
        if attempt is not None:
            attempts.append(attempt)
    return attempts


def _switch_to_offline(order: Order, kind: str) -> None:
    """A failed card payment becomes an offline one: the card's dunning ends, the payment hold and
    the subscription's payment flag go, and the offline terms start from today."""
    payment_set_status(order=order, target=P.AWAITING_OFFLINE, note=f"switched to {kind}")
    dunning_close(order=order)
    order_release_payment_hold(order=order, note="お支払い方法の変更")
    payment_attention_set(order=order, reason=AttentionReason.PAYMENT_FAILED, add=False)
    payment_attention_set(order=order, reason=AttentionReason.NEEDS_AUTHENTICATION, add=False)
    if kind == PaymentKind.COD and order.cod_fee == 0:
        # The order was priced for a card: the shop decides whether to add the COD fee (代引手数料).
        OrderEvent.objects.create(
            order=order, kind="payment_needs_review", after={"switched_to": kind, "cod_fee": 0}
        )
    dunning_await_offline(order=order, kind=kind, today=today_in_shop())


def _abandon_authentication(order: Order) -> None:
    """A pending 3-D Secure attempt on the old card is cancelled before charging the new one."""
    for attempt in order.payment_attempts.filter(status=PaymentAttemptStatus.REQUIRES_ACTION):
        payment_void_quietly(payment_intent_id=attempt.gateway_payment_intent_id)
        attempt.status = PaymentAttemptStatus.CANCELED
        attempt.error_code = "replaced_by_new_card"
        attempt.save(update_fields=["status", "error_code", "updated_at"])
    if order.payment_status == P.ACTION_REQUIRED:
        payment_set_status(order=order, target=P.FAILED, note="new card")
