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
    PaymentPolicy,
)
from billing.selectors import offline_payment_guide
from notifications.services import notification_send
from orders.models import Order
from orders.models import PaymentStatus as P
from subscriptions.actors import Actor
from subscriptions.models import AttentionReason, CancelReason, Subscription, SubscriptionStatus
from subscriptions.services import (
    subscription_add_attention,
    subscription_cancel,
    subscription_clear_attention,
    subscription_suspend,
)

from ._orders import (
    PAYMENT_HOLD_REASONS,
    order_await_payment,
    order_cancel_unpaid,
    order_hold_for_payment,
    order_mark_ready,
    order_release_payment_hold,
    payment_set_status,
)

logger = logging.getLogger(__name__)
# The subscription flags a successful charge may clear (dunning_on_success).
PAYMENT_ATTENTION = frozenset({AttentionReason.PAYMENT_FAILED, AttentionReason.NEEDS_AUTHENTICATION})
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


def payment_attention_set(*, order: Order, reason: str, add: bool) -> None:
    if order.subscription_id is None:
        return
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
    order_hold_for_payment(order=order, reason=AttentionReason.PAYMENT_FAILED, note=attempt.idempotency_key)
    payment_attention_set(order=order, reason=AttentionReason.PAYMENT_FAILED, add=True)
    if case.failures == 1 and PaymentPolicy.current().email_on_first_failure and not step.exhausted:
        _notify(order, "payment_failed", "first", retry_on=step.retry_on, hard=case.hard_decline)
    if step.warn and step.retry_on:
        _notify(order, "payment_retry_last", f"retry={case.failures}", retry_on=step.retry_on)
    if step.exhausted:
        _final_action(order, case)
    return case


def _final_action(order: Order, case: DunningCase) -> None:
    """Every retry failed, or the decline was hard: the shop's choice, and this order is cancelled."""
    action = PaymentPolicy.current().final_action
    case.status = DunningStatus.EXHAUSTED
    case.next_retry_on = None
    case.save(update_fields=["status", "next_retry_on", "updated_at"])
    payment_set_status(order=order, target=P.CANCELLED, note=f"dunning exhausted: {action}")
    order_cancel_unpaid(order=order, note="決済不可のためキャンセル")
    subscription_id = order.subscription_id
    if subscription_id is not None and action != FinalAction.SKIP:
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
    order_hold_for_payment(
        order=order, reason=AttentionReason.NEEDS_AUTHENTICATION, note=attempt.idempotency_key
    )
    payment_attention_set(order=order, reason=AttentionReason.NEEDS_AUTHENTICATION, add=True)
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
    order_release_payment_hold(order=order, note="決済完了")
    if order.subscription_id is None:
        return
    flags = Subscription.objects.filter(pk=order.subscription_id).values_list("needs_attention", flat=True)
    if not set(flags.first() or ()) & PAYMENT_ATTENTION:
        return  # nothing to clear (the usual first charge): no lock, no other query
    # The flag stays while another order of the subscription is still being chased.
    still_open = DunningCase.objects.filter(
        order__subscription_id=order.subscription_id, status=DunningStatus.OPEN
    ).values_list("reason", flat=True)
    reasons = set(still_open)
    if DunningReason.CARD_FAILED not in reasons:
        payment_attention_set(order=order, reason=AttentionReason.PAYMENT_FAILED, add=False)
    if DunningReason.REQUIRES_ACTION not in reasons:
        payment_attention_set(order=order, reason=AttentionReason.NEEDS_AUTHENTICATION, add=False)


def dunning_close(*, order: Order) -> None:
    DunningCase.objects.filter(order=order, status=DunningStatus.OPEN).update(
        status=DunningStatus.RESOLVED, next_retry_on=None, updated_at=timezone.now()
    )


def dunning_await_offline(*, order: Order, kind: str, today: date) -> DunningCase | None:
    """Bank transfer / konbini: wait until the deadline. COD: ship now, collect at the door."""
    policy = PaymentPolicy.current()
    terms = offline_terms(kind=kind, created_on=today, deadline_days=policy.offline_deadline_days)
    if kind not in PREPAID_KINDS:
        order_mark_ready(order=order, note="代金引換")
        return None
    case, _created = DunningCase.objects.update_or_create(
        order=order,
        defaults={
            "reason": DunningReason.AWAITING_OFFLINE,
            "status": DunningStatus.OPEN,
            "deadline": terms.deadline,
        },
    )
    order_await_payment(order=order, note=kind)
    _notify(
        order, "payment_offline_instructions", "instructions", kind=kind, deadline=terms.deadline,
        pay_to=offline_payment_guide(kind),
    )  # fmt: skip
    return case


# The nightly stage ----------------------------------------------------------------------------------


def dunning_offline_run(*, run_date: date) -> dict[str, int]:
    """Remind about offline payments near their deadline; cancel those past it."""
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
                payment_set_status(order=order, target=P.CANCELLED, note="payment deadline passed")
                order_cancel_unpaid(order=order, note="お支払期限切れのためキャンセル")
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
                _notify(
                    order, "payment_offline_reminder", "reminder", deadline=case.deadline,
                    kind=order.payment_kind, pay_to=offline_payment_guide(order.payment_kind, policy),
                )  # fmt: skip
                reminded += 1
    return {"offline_reminded": reminded, "offline_cancelled": cancelled}


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
]
