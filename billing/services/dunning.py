"""Dunning (督促): retrying failed card payments by the rule table, chasing 3-D Secure and offline
payments, and the shop's final action. The decisions themselves are pure (billing.dunning_rules);
this module applies them to rows, emails and the subscription's needs-attention flags."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing.dunning_rules import Rule, is_hard_decline, next_step
from billing.gateways.offline import (
    OFFLINE_KINDS,
    PREPAID_KINDS,
    deadline_passed,
    offline_terms,
    reminder_due,
)
from billing.models import (
    DunningCase,
    DunningReason,
    DunningRule,
    DunningStatus,
    FinalAction,
    PaymentAttempt,
    PaymentAttemptStatus,
    PaymentKind,
    PaymentPolicy,
)
from notifications.services import notification_send
from orders.models import Order, OrderEvent, OrderStatus
from orders.models import PaymentStatus as P
from subscriptions.actors import Actor
from subscriptions.models import AttentionReason, CancelReason, SubscriptionStatus
from subscriptions.selectors import today_in_shop

from ._orders import (
    PAYMENT_HOLD_REASONS,
    held_for_payment_only,
    order_await_payment,
    order_cancel_unpaid,
    order_hold_for_payment,
    order_mark_ready,
    order_release_payment_hold,
)

logger = logging.getLogger(__name__)
AUTH_TOKEN_SALT = "billing.authenticate"


def _notify(order: Order, notice: str, key_suffix: str, **context: object) -> None:
    customer = order.customer
    notification_send(
        key=f"{notice}:order={order.pk}:{key_suffix}",
        kind=notice,
        to_email=customer.user.email,
        customer=customer,
        context={"order": order, "customer": customer, **context},
    )


def _attention(order: Order, reason: str, *, add: bool) -> None:
    if order.subscription_id is None:
        return
    from subscriptions.services import subscription_add_attention, subscription_clear_attention

    if add:
        subscription_add_attention(subscription_id=order.subscription_id, reason=reason, actor=Actor.system())
    else:
        subscription_clear_attention(
            subscription_id=order.subscription_id, reason=reason, actor=Actor.system()
        )


def _rules() -> list[Rule]:
    return [Rule(r.retry, r.days_after_failure, r.email_before) for r in DunningRule.objects.all()]


# Outcomes of attempts (called by billing.services.payments with the order locked) -------------------


def dunning_on_failure(*, order: Order, attempt: PaymentAttempt, today: date) -> DunningCase:
    case, _created = DunningCase.objects.select_for_update().get_or_create(
        order=order, defaults={"reason": DunningReason.CARD_FAILED, "first_failed_on": today}
    )
    if case.status != DunningStatus.OPEN or case.reason != DunningReason.CARD_FAILED:
        case.status, case.reason = DunningStatus.OPEN, DunningReason.CARD_FAILED
        case.first_failed_on = case.first_failed_on or today
    case.failures += 1
    case.last_error_code = (attempt.decline_code or attempt.error_code)[:64]
    case.hard_decline = is_hard_decline(error_code=attempt.error_code, decline_code=attempt.decline_code)
    step = next_step(
        rules=_rules(),
        first_failed_on=case.first_failed_on,
        failures=case.failures,
        hard=case.hard_decline,
        today=today,
    )
    case.next_retry_on = step.retry_on
    case.save()
    order_hold_for_payment(order, AttentionReason.PAYMENT_FAILED, note=attempt.idempotency_key)
    _attention(order, AttentionReason.PAYMENT_FAILED, add=True)
    if case.failures == 1 and PaymentPolicy.current().email_on_first_failure and not step.exhausted:
        _notify(order, "payment_failed", "first", retry_on=step.retry_on, hard=case.hard_decline)
    if step.warn and step.retry_on:
        _notify(order, "payment_retry_last", f"retry={case.failures}", retry_on=step.retry_on)
    if step.exhausted:
        _final_action(order, case)
    return case


def _final_action(order: Order, case: DunningCase) -> None:
    """Every retry failed, or the decline was hard: the shop's choice, and this order is cancelled."""
    from billing.services.payments import payment_set_status

    action = PaymentPolicy.current().final_action
    case.status = DunningStatus.EXHAUSTED
    case.next_retry_on = None
    case.save(update_fields=["status", "next_retry_on", "updated_at"])
    payment_set_status(order, P.CANCELLED, note=f"dunning exhausted: {action}")
    order_cancel_unpaid(order, note="決済不可のためキャンセル")
    subscription_id = order.subscription_id
    if subscription_id is not None and action != FinalAction.SKIP:
        from subscriptions.services import subscription_cancel, subscription_suspend

        status = order.subscription.status
        if action == FinalAction.SUSPEND and status == SubscriptionStatus.ACTIVE:
            subscription_suspend(
                subscription_id=subscription_id, reason=str(_final_note()), actor=Actor.system()
            )
        elif action == FinalAction.CANCEL and status != SubscriptionStatus.CANCELLED:
            subscription_cancel(
                subscription_id=subscription_id, reason=CancelReason.PAYMENT, actor=Actor.system()
            )
    _notify(order, "payment_final", "final", action=action, hard=case.hard_decline)


def _final_note() -> str:
    return "決済エラーが続いたため停止"


def dunning_on_action_required(*, order: Order, attempt: PaymentAttempt, today: date) -> DunningCase:
    case, _created = DunningCase.objects.select_for_update().get_or_create(
        order=order, defaults={"reason": DunningReason.REQUIRES_ACTION, "first_failed_on": today}
    )
    case.reason, case.status = DunningReason.REQUIRES_ACTION, DunningStatus.OPEN
    days = PaymentPolicy.current().authentication_link_days
    case.deadline = today + timedelta(days=days)
    case.save()
    order_hold_for_payment(order, AttentionReason.NEEDS_AUTHENTICATION, note=attempt.idempotency_key)
    _attention(order, AttentionReason.NEEDS_AUTHENTICATION, add=True)
    _notify(
        order,
        "payment_action_required",
        attempt.idempotency_key,
        link=authentication_url(attempt),
        deadline=case.deadline,
    )
    return case


def authentication_token(attempt: PaymentAttempt) -> str:
    return signing.dumps({"attempt": attempt.pk}, salt=AUTH_TOKEN_SALT, compress=True)


def authentication_url(attempt: PaymentAttempt) -> str:
    path = reverse("billing:authenticate", kwargs={"token": authentication_token(attempt)})
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def attempt_from_token(token: str) -> PaymentAttempt | None:
    days = PaymentPolicy.current().authentication_link_days
    try:
        data = signing.loads(token, salt=AUTH_TOKEN_SALT, max_age=timedelta(days=days))
    except signing.BadSignature:
        return None
    return PaymentAttempt.objects.select_related("order__customer").filter(pk=data.get("attempt")).first()


def dunning_on_success(*, order: Order) -> None:
    DunningCase.objects.filter(order=order, status=DunningStatus.OPEN).update(
        status=DunningStatus.RESOLVED, next_retry_on=None, updated_at=timezone.now()
    )
    order_release_payment_hold(order, note="決済完了")
    if order.subscription_id is None:
        return
    # The flag stays while another order of the subscription is still being chased.
    still_open = DunningCase.objects.filter(
        order__subscription_id=order.subscription_id, status=DunningStatus.OPEN
    ).values_list("reason", flat=True)
    reasons = set(still_open)
    if DunningReason.CARD_FAILED not in reasons:
        _attention(order, AttentionReason.PAYMENT_FAILED, add=False)
    if DunningReason.REQUIRES_ACTION not in reasons:
        _attention(order, AttentionReason.NEEDS_AUTHENTICATION, add=False)


def dunning_close(*, order: Order) -> None:
    DunningCase.objects.filter(order=order, status=DunningStatus.OPEN).update(
        status=DunningStatus.RESOLVED, next_retry_on=None, updated_at=timezone.now()
    )


def dunning_await_offline(*, order: Order, kind: str, today: date) -> DunningCase | None:
    """Bank transfer / konbini: wait until the deadline. COD: ship now, collect at the door."""
    policy = PaymentPolicy.current()
    terms = offline_terms(kind=kind, created_on=today, deadline_days=policy.offline_deadline_days)
    if kind not in PREPAID_KINDS:
        order_mark_ready(order, note="代金引換")
        return None
    case, _created = DunningCase.objects.update_or_create(
        order=order,
        defaults={
            "reason": DunningReason.AWAITING_OFFLINE,
            "status": DunningStatus.OPEN,
            "deadline": terms.deadline,
        },
    )
    order_await_payment(order, note=kind)
    _notify(order, "payment_offline_instructions", "instructions", kind=kind, deadline=terms.deadline)
    return case


# The nightly stage ----------------------------------------------------------------------------------


def dunning_run(*, run_date: date) -> dict[str, int]:
    """Retry failed payments whose day has come, remind and cancel overdue offline payments, and
    renew authorisations that would lapse before shipment."""
    from billing.ratelimit import payment_rate_limiter
    from billing.services.payments import payment_charge_order, payment_renew_authorizations

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
    limiter = payment_rate_limiter()
    for order_id in list(due):
        limiter.acquire()
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


def dunning_offline_run(*, run_date: date) -> dict[str, int]:
    """Remind about offline payments near their deadline; cancel those past it."""
    from billing.services.payments import payment_set_status

    policy = PaymentPolicy.current()
    reminded = cancelled = 0
    cases = DunningCase.objects.filter(
        status=DunningStatus.OPEN,
        reason=DunningReason.AWAITING_OFFLINE,
        deadline__lte=run_date + timedelta(days=policy.offline_reminder_days_before),
    ).values_list("pk", flat=True)
    for case_id in list(cases):
        with transaction.atomic():
            case = (
                DunningCase.objects.select_for_update()
                .select_related("order__customer__user")
                .get(pk=case_id)
            )
            order = Order.objects.select_for_update().get(pk=case.order_id)
            if case.status != DunningStatus.OPEN or order.payment_status != P.AWAITING_OFFLINE:
                continue
            if deadline_passed(deadline=case.deadline, today=run_date):
                case.status = DunningStatus.EXHAUSTED
                case.save(update_fields=["status", "updated_at"])
                payment_set_status(order, P.CANCELLED, note="payment deadline passed")
                order_cancel_unpaid(order, note="お支払期限切れのためキャンセル")
                _notify(order, "payment_offline_cancelled", "cancelled", deadline=case.deadline)
                cancelled += 1
            elif reminder_due(
                deadline=case.deadline,
                today=run_date,
                days_before=policy.offline_reminder_days_before,
                reminded_on=case.reminded_on,
            ):
                case.reminded_on = run_date
                case.save(update_fields=["reminded_on", "updated_at"])
                _notify(order, "payment_offline_reminder", "reminder", deadline=case.deadline)
                reminded += 1
    return {"offline_reminded": reminded, "offline_cancelled": cancelled}


# A new card ----------------------------------------------------------------------------------------


def dunning_retry_subscription(*, subscription_id: int) -> list[PaymentAttempt]:
    """The customer chose another payment method: its unpaid orders use it; failed ones are retried at
    once on a new card, or turned into an offline payment (振込・コンビニ: awaiting payment with a
    deadline; 代引き: ready to ship) when the customer chose to pay that way."""
    from billing.services.payments import order_charge_lock, payment_charge_order

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
        if order.payment_status == P.UNPAID and not held_for_payment_only(order):
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
    from billing.services.payments import payment_set_status

    payment_set_status(order, P.AWAITING_OFFLINE, note=f"switched to {kind}")
    dunning_close(order=order)
    order_release_payment_hold(order, note="お支払い方法の変更")
    _attention(order, AttentionReason.PAYMENT_FAILED, add=False)
    _attention(order, AttentionReason.NEEDS_AUTHENTICATION, add=False)
    if kind == PaymentKind.COD and order.cod_fee == 0:
        # The order was priced for a card: the shop decides whether to add the COD fee (代引手数料).
        OrderEvent.objects.create(
            order=order, kind="payment_needs_review", after={"switched_to": kind, "cod_fee": 0}
        )
    dunning_await_offline(order=order, kind=kind, today=today_in_shop())


def _abandon_authentication(order: Order) -> None:
    """A pending 3-D Secure attempt on the old card is cancelled before charging the new one."""
    from billing.services.payments import _void_quietly, payment_set_status

    for attempt in order.payment_attempts.filter(status=PaymentAttemptStatus.REQUIRES_ACTION):
        _void_quietly(attempt.gateway_payment_intent_id)
        attempt.status = PaymentAttemptStatus.CANCELED
        attempt.error_code = "replaced_by_new_card"
        attempt.save(update_fields=["status", "error_code", "updated_at"])
    if order.payment_status == P.ACTION_REQUIRED:
        payment_set_status(order, P.FAILED, note="new card")


__all__ = [
    "PAYMENT_HOLD_REASONS",
    "attempt_from_token",
    "authentication_url",
    "dunning_await_offline",
    "dunning_close",
    "dunning_offline_run",
    "dunning_on_action_required",
    "dunning_on_failure",
    "dunning_on_success",
    "dunning_retry_subscription",
    "dunning_run",
]
