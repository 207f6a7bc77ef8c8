"""Charging orders through the gateway, at most once.

How an order is charged (payment_charge_order):
1. Take the order's charge lock (a PostgreSQL session advisory lock; a process lock on SQLite).
   Whoever holds it is the only one talking to the gateway about this order; a worker that dies
   loses its connection and with it the lock, so "lock free + attempt still open" means "orphaned".
2. Reconcile open attempts (pending or unknown) with the gateway before anything else: by the
   PaymentIntent id when we stored it, else by the attempt's idempotency key sent as metadata.
3. Write the attempt row (pending, idempotency key order-<id>-attempt-<n>-<random>) and commit it.
4. Call the gateway outside any transaction; a missing answer leaves the attempt UNKNOWN.
5. Record the outcome (payment_attempt_record), which webhooks and the 3-D Secure page also use.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateways import ChargeResult, ChargeStatus, GatewayError, GatewayUnavailable, get_gateway
from billing.gateways.offline import OFFLINE_KINDS
from billing.models import (
    CaptureMethod,
    PaymentAttempt,
    PaymentAttemptStatus,
    PaymentKind,
    PaymentPolicy,
    PaymentRefund,
)
from billing.payment_states import SETTLED, payment_transition_allowed
from billing.ratelimit import payment_rate_limiter
from core.errors import Conflict, DomainError, NotFound
from orders.models import Order, OrderEvent, OrderStatus
from orders.models import PaymentStatus as P
from subscriptions.selectors import today_in_shop

from . import dunning
from ._orders import held_for_payment_only, order_mark_ready, payment_set_status
from .payment_methods import (  # noqa: F401 - the payment-method services are part of this module's API
    payment_method_detach,
    payment_method_list,
    payment_method_save,
    payment_method_set_default,
    payment_method_setup_intent,
)

logger = logging.getLogger(__name__)
A = PaymentAttemptStatus

# An attempt's status only moves up this ladder, so results arriving late or twice (webhooks in any
# order, a retried task) never undo a later one.
_RANK = {
    A.PENDING: 0,
    A.UNKNOWN: 0,
    A.REQUIRES_ACTION: 1,
    A.AUTHORIZED: 2,
    A.SUCCEEDED: 3,
    A.FAILED: 3,
    A.CANCELED: 3,
}
_FROM_GATEWAY = {
    ChargeStatus.SUCCEEDED: A.SUCCEEDED,
    ChargeStatus.AUTHORIZED: A.AUTHORIZED,
    ChargeStatus.REQUIRES_ACTION: A.REQUIRES_ACTION,
    ChargeStatus.FAILED: A.FAILED,
    ChargeStatus.CANCELED: A.CANCELED,
}
# Order payment statuses a new charge may start from: first charge, dunning retry.
CHARGEABLE = frozenset({P.UNPAID, P.FAILED})
LOCK_NAMESPACE = 0x7465696B  # "teik": keeps our advisory lock keys apart from anyone else's

_local_locks: dict[int, threading.Lock] = {}
_local_locks_guard = threading.Lock()


def idempotency_key(order_id: int, number: int) -> str:
    """`order-<id>-attempt-<n>-<96 random bits>`, made once per attempt row and never changed.

    Order ids come back after a restored backup, a reset staging database or in a second shop on
    the same Stripe account; Stripe answers a repeated key with the first request's result for 24
    hours, and reconciliation looks PaymentIntents up by this key in their metadata. The random part
    makes the key this row's alone, so neither can take another database's charge for this one.
    """
    return f"order-{order_id}-attempt-{number}-{uuid.uuid4().hex[:24]}"


@contextmanager
def order_charge_lock(order_id: int) -> Iterator[bool]:
    """Yields True when this process may talk to the gateway about the order, False when another does."""
    if connection.vendor == "postgresql":
        key = (LOCK_NAMESPACE << 32) | order_id
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    # The embedded default runs in one process: a lock per order in memory is enough.
    with _local_locks_guard:
        lock = _local_locks.setdefault(order_id, threading.Lock())
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()


def _order_kind(order: Order) -> str:
    if order.payment_kind:
        return order.payment_kind
    return order.payment_method.kind if order.payment_method_id else PaymentKind.CARD


# Charging -------------------------------------------------------------------------------------------


def payment_charge_order(
    *, order_id: int, retry: bool = False, today: date | None = None
) -> PaymentAttempt | None:
    """Charge an order once. Returns the attempt made or reconciled, None when there was nothing to do
    (held, already paid/authorised/processing elsewhere, offline, free, or gone).

    `retry`: a dunning retry, which may charge an order held only for a payment reason.
    `today`: the business date (the nightly run's date); default today in the shop's time zone.
    """
    today = today or today_in_shop()
    with order_charge_lock(order_id) as acquired:
        if not acquired:
            return None
        still_open, settled = _reconcile_open_attempts(order_id, today)
        if still_open is not None:
            return still_open
        attempt = _begin_attempt(order_id, retry=retry, today=today)
        if attempt is None:
            return settled  # the charge a dead worker or a timeout left behind, now recorded
        # Only a call to the gateway spends the payment rate budget: offline, free and held orders
        # settle above at the database's pace instead of queueing behind the card charges.
        payment_rate_limiter().acquire()
        return _send_attempt(attempt, today)


def _begin_attempt(
    order_id: int, *, retry: bool, today: date, allow_from: frozenset[str] = CHARGEABLE
) -> PaymentAttempt | None:
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("payment_method", "customer")
            .filter(pk=order_id)
            .first()
        )
        if order is None or order.status in (
            OrderStatus.CANCELLED,
            OrderStatus.RETURNED,
            OrderStatus.COMPLETED,
        ):
            return None
        if order.status == OrderStatus.ON_HOLD and not (retry and held_for_payment_only(order=order)):
            return None
        if order.payment_status not in allow_from:
            return None
        if order.total == 0:
            payment_set_status(order=order, target=P.NOT_REQUIRED)
            order_mark_ready(order=order)
            return None
        kind = _order_kind(order)
        if kind in OFFLINE_KINDS:
            if order.payment_status == P.UNPAID:
                payment_set_status(order=order, target=P.AWAITING_OFFLINE, note=kind)
                dunning.dunning_await_offline(order=order, kind=kind, today=today)
            return None
        policy = PaymentPolicy.current()
        number = (
            order.payment_attempts.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        method = order.payment_method
        attempt = PaymentAttempt.objects.create(
            order=order,
            number=number,
            idempotency_key=idempotency_key(order.pk, number),
            payment_method=method,
            amount=order.total,
            capture_method=policy.capture_method,
        )
        payment_set_status(order=order, target=P.PROCESSING, note=attempt.idempotency_key)
        return attempt


def _send_attempt(attempt: PaymentAttempt, today: date) -> PaymentAttempt:
    order = attempt.order
    method = attempt.payment_method
    customer_id = order.customer.stripe_customer_id
    if method is None or not method.is_active or not method.stripe_payment_method_id or not customer_id:
        result = ChargeResult(
            status=ChargeStatus.FAILED,
            error_code="no_payment_method",
            message=_("有効なクレジットカードが登録されていません。"),
        )
        return payment_attempt_record(attempt_id=attempt.pk, result=result, today=today)
    try:
        result = get_gateway().charge(
            customer_id=customer_id,
            payment_method_id=method.stripe_payment_method_id,
            amount=attempt.amount,
            currency=attempt.currency,
            capture_manually=attempt.capture_method == CaptureMethod.MANUAL,
            metadata={"order_id": str(order.pk), "attempt": attempt.idempotency_key},
            idempotency_key=attempt.idempotency_key,
        )
    except GatewayUnavailable as exc:
        # The gateway may have charged: nothing new is tried until this attempt is reconciled.
        PaymentAttempt.objects.filter(pk=attempt.pk, status=A.PENDING).update(
            status=A.UNKNOWN,
            error_code="gateway_unavailable",
            error_message=str(exc)[:500],
            updated_at=timezone.now(),
        )
        attempt.refresh_from_db()
        return attempt
    except GatewayError as exc:
        result = ChargeResult(
            status=ChargeStatus.FAILED, error_code=exc.code or "gateway_error", message=exc.message
        )
    return payment_attempt_record(attempt_id=attempt.pk, result=result, today=today)


def _reconcile_open_attempts(
    order_id: int, today: date
) -> tuple[PaymentAttempt | None, PaymentAttempt | None]:
    """Settle pending/unknown attempts of an order whose charge lock we hold. Returns (an attempt still
    open afterwards: gateway unreachable or waiting for 3-D Secure, the last attempt settled here)."""
    settled = None
    open_attempts = PaymentAttempt.objects.filter(
        order_id=order_id, status__in=(A.PENDING, A.UNKNOWN, A.REQUIRES_ACTION)
    ).select_related("order__customer")
    for attempt in open_attempts.order_by("number"):
        if attempt.status == A.REQUIRES_ACTION:
            return attempt, settled  # the customer has to act; a new charge would not help
        try:
            result = _lookup(attempt)
        except (GatewayUnavailable, GatewayError):
            return attempt, settled
        if result is None:
            _close_unsent(attempt)
            continue
        recorded = payment_attempt_record(attempt_id=attempt.pk, result=result, today=today)
        if recorded.status in (A.PENDING, A.UNKNOWN, A.REQUIRES_ACTION):
            return recorded, settled
        settled = recorded
    return None, settled


def _lookup(attempt: PaymentAttempt) -> ChargeResult | None:
    gateway = get_gateway()
    if attempt.gateway_payment_intent_id:
        return gateway.payment_intent_retrieve(attempt.gateway_payment_intent_id)
    found = gateway.payment_intents_find(
        customer_id=attempt.order.customer.stripe_customer_id, metadata={"attempt": attempt.idempotency_key}
    )
    if not found:
        return None
    # One request per key, so one PaymentIntent; should a server have made two, the charged one wins.
    found.sort(key=lambda r: r.status not in (ChargeStatus.SUCCEEDED, ChargeStatus.AUTHORIZED))
    result = found[0]
    if result.status == ChargeStatus.NOT_CONFIRMED:
        gateway.cancel(result.payment_intent_id)
        return ChargeResult(status=ChargeStatus.CANCELED, payment_intent_id=result.payment_intent_id)
    return result


def _close_unsent(attempt: PaymentAttempt) -> None:
    """The gateway never saw this attempt: close it and let the order be charged afresh."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=attempt.order_id)
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            status=A.CANCELED, error_code="not_received_by_gateway", updated_at=timezone.now()
        )
        if order.payment_status == P.PROCESSING:
            payment_set_status(order=order, target=P.UNPAID, note=f"{attempt.idempotency_key} not received")


def payment_attempt_record(
    *, attempt_id: int, result: ChargeResult, today: date | None = None
) -> PaymentAttempt:
    """Apply a gateway outcome to an attempt and its order, idempotently and in any order: an attempt
    never moves down _RANK, so a late or repeated result changes nothing."""
    to_void: list[str] = []
    with transaction.atomic():
        order_id = PaymentAttempt.objects.values_list("order_id", flat=True).get(pk=attempt_id)
        # Order first, then attempt: every path takes the locks in this order.
        order = Order.objects.select_for_update().get(pk=order_id)
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        new_status = _FROM_GATEWAY.get(result.status)
        if result.payment_intent_id and not attempt.gateway_payment_intent_id:
            attempt.gateway_payment_intent_id = result.payment_intent_id
        if result.charge_id:
            attempt.gateway_charge_id = result.charge_id
        if new_status is None or _RANK[new_status] <= _RANK[attempt.status]:
            attempt.save(update_fields=["gateway_payment_intent_id", "gateway_charge_id", "updated_at"])
            return attempt
        attempt.status = new_status
        attempt.error_code = result.error_code[:64]
        attempt.decline_code = result.decline_code[:64]
        attempt.error_message = result.message[:500]
        if new_status == A.AUTHORIZED:
            attempt.authorized_at = timezone.now()
        if new_status == A.SUCCEEDED:
            attempt.captured_amount = result.amount_captured or result.amount or attempt.amount
        attempt.save()
        _apply_to_order(order, attempt, today or today_in_shop())
        if new_status in (A.AUTHORIZED, A.SUCCEEDED) and attempt.number > 1:
            # A renewed authorisation replaces the older one, which is released.
            older = order.payment_attempts.filter(status=A.AUTHORIZED, number__lt=attempt.number)
            to_void = list(older.values_list("gateway_payment_intent_id", flat=True))
            older.update(status=A.CANCELED, error_code="authorization_replaced", updated_at=timezone.now())
    for pi in to_void:
        payment_void_quietly(payment_intent_id=pi)
    return attempt


def _apply_to_order(order: Order, attempt: PaymentAttempt, today: date) -> None:
    target = {
        A.SUCCEEDED: P.PAID,
        A.AUTHORIZED: P.AUTHORIZED,
        A.REQUIRES_ACTION: P.ACTION_REQUIRED,
        A.FAILED: P.FAILED,
    }.get(attempt.status)
    if attempt.status == A.CANCELED:
        if order.payment_status in (P.PROCESSING, P.ACTION_REQUIRED):
            target = P.FAILED
        elif (
            order.payment_status == P.AUTHORIZED
            and not order.payment_attempts.filter(status=A.AUTHORIZED).exists()
        ):
            target = P.CANCELLED
    if target is None or order.payment_status == target:
        return
    if not payment_transition_allowed(order.payment_status, target):
        # e.g. the order was cancelled while the charge was in flight: an admin must refund by hand.
        logger.warning("order %s: payment %s arrived in status %s", order.pk, target, order.payment_status)
        OrderEvent.objects.create(
            order=order,
            kind="payment_needs_review",
            after={"attempt": attempt.idempotency_key, "result": target},
        )
        return
    payment_set_status(order=order, target=target, note=attempt.idempotency_key)
    if target in (P.PAID, P.AUTHORIZED):
        dunning.dunning_on_success(order=order)
        order_mark_ready(order=order)
    elif target == P.FAILED:
        dunning.dunning_on_failure(order=order, attempt=attempt, today=today)
    elif target == P.ACTION_REQUIRED:
        dunning.dunning_on_action_required(order=order, attempt=attempt, today=today)


def payment_void_quietly(*, payment_intent_id: str) -> None:
    if not payment_intent_id:
        return
    try:
        get_gateway().cancel(payment_intent_id)
    except (GatewayError, GatewayUnavailable) as exc:
        # A lapsed authorisation releases itself after 7 days; nothing is charged.
        logger.warning("could not release authorisation %s: %s", payment_intent_id, exc)


def payment_attempt_refresh(*, attempt_id: int) -> PaymentAttempt:
    """Fetch the attempt's PaymentIntent again (after 3-D Secure, or for a webhook) and record it."""
    attempt = PaymentAttempt.objects.select_related("order__customer").get(pk=attempt_id)
    result = _lookup(attempt)
    if result is None:
        return attempt
    return payment_attempt_record(attempt_id=attempt.pk, result=result)


def chargeable_orders(*, order_ids: list[int] | None = None, run_date: date | None = None) -> QuerySet[Order]:
    """New, unpaid orders (index order_payment_idx: payment_status, creation_date)."""
    qs = Order.objects.filter(payment_status=P.UNPAID, status=OrderStatus.NEW)
    if order_ids is not None:
        qs = qs.filter(pk__in=order_ids)
    if run_date is not None:
        qs = qs.filter(creation_date__lte=run_date)
    return qs.order_by("pk")


def orphaned_charges(*, run_date: date | None = None) -> QuerySet[Order]:
    """Orders left "processing" with an attempt still open (pending or unknown): a worker died during
    the charge, or the gateway did not answer. payment_charge_order reconciles them with the gateway
    under the order's charge lock (a live worker still holds it, and then nothing happens)."""
    qs = Order.objects.filter(
        payment_status=P.PROCESSING,
        status=OrderStatus.NEW,
        payment_attempts__status__in=(A.PENDING, A.UNKNOWN),
    )
    if run_date is not None:
        qs = qs.filter(creation_date__lte=run_date)
    return qs.distinct().order_by("pk")


# Capture, refunds, cancellation --------------------------------------------------------------------


def _locked_order(order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound("order_not_found", _("受注が見つかりません。"))
    return order


def payment_capture_order(*, order_id: int, amount: int | None = None) -> PaymentAttempt:
    """売上確定 at shipment: capture the authorisation (at most what was authorised)."""
    with transaction.atomic():
        order = _locked_order(order_id)
        attempt = order.payment_attempts.filter(status=A.AUTHORIZED).order_by("-number").first()
        if attempt is None:
            if order.payment_status == P.PAID:
                return order.payment_attempts.filter(status=A.SUCCEEDED).order_by("-number").first()
            raise Conflict("not_authorized", _("与信済みの決済がありません。"))
        amount = min(order.total, attempt.amount) if amount is None else amount
        if not 0 < amount <= attempt.amount:
            raise DomainError("invalid_amount", _("売上確定できる金額を超えています。"), field="amount")
        try:
            result = get_gateway().capture(
                payment_intent_id=attempt.gateway_payment_intent_id,
                amount=amount,
                idempotency_key=f"{attempt.idempotency_key}-capture",
            )
        except GatewayError:
            # Already captured by an earlier call whose answer we lost: the PaymentIntent knows.
            result = get_gateway().payment_intent_retrieve(attempt.gateway_payment_intent_id)
        if result.status != ChargeStatus.SUCCEEDED:
            raise Conflict("capture_failed", _("売上確定に失敗しました。"))
        attempt.status = A.SUCCEEDED
        attempt.captured_amount = amount
        attempt.save(update_fields=["status", "captured_amount", "updated_at"])
        payment_set_status(order=order, target=P.PAID, note=f"{attempt.idempotency_key} captured {amount}")
        return attempt


def payment_renew_authorizations(*, today: date | None = None) -> int:
    """Re-authorise 与信 that would lapse (Stripe: 7 days) before the order ships. Returns how many."""
    today = today or today_in_shop()
    policy = PaymentPolicy.current()
    cutoff = timezone.now() - timezone.timedelta(days=policy.authorization_renew_after_days)
    order_ids = (
        PaymentAttempt.objects.filter(status=A.AUTHORIZED, authorized_at__lte=cutoff)
        .exclude(order__status__in=(OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.CANCELLED))
        .values_list("order_id", flat=True)
    )
    renewed = 0
    for order_id in list(order_ids):
        with order_charge_lock(order_id) as acquired:
            if not acquired or _reconcile_open_attempts(order_id, today)[0] is not None:
                continue
            attempt = _begin_attempt(order_id, retry=True, today=today, allow_from=frozenset({P.AUTHORIZED}))
            if attempt is not None:
                _send_attempt(attempt, today)
                renewed += 1
    return renewed


def payment_refund_order(*, order_id: int, amount: int | None = None, reason: str = "") -> PaymentRefund:
    """Refund (返金) all or part of what was captured; on cancellation or a return."""
    with transaction.atomic():
        order = _locked_order(order_id)
        attempt = order.payment_attempts.filter(status=A.SUCCEEDED).order_by("-number").first()
        if attempt is None:
            raise Conflict("not_paid", _("返金できる決済がありません。"))
        refundable = attempt.captured_amount - attempt.refunded_amount
        amount = refundable if amount is None else amount
        if not 0 < amount <= refundable:
            raise DomainError(
                "invalid_amount",
                _("返金できる金額は%(max)d円までです。") % {"max": refundable},
                field="amount",
            )
        number = attempt.refunds.count() + 1
        refund = PaymentRefund.objects.create(
            attempt=attempt,
            number=number,
            idempotency_key=f"{attempt.idempotency_key}-refund-{number}",
            amount=amount,
            reason=reason[:200],
        )
        try:
            result = get_gateway().refund(
                payment_intent_id=attempt.gateway_payment_intent_id,
                amount=amount,
                idempotency_key=refund.idempotency_key,
            )
        except (GatewayError, GatewayUnavailable) as exc:
            raise Conflict(
                "refund_failed", _("返金に失敗しました。時間をおいて再度お試しください。")
            ) from exc
        refund.gateway_refund_id = result.id
        refund.save(update_fields=["gateway_refund_id"])
        attempt.refunded_amount += amount
        attempt.save(update_fields=["refunded_amount", "updated_at"])
        fully = attempt.refunded_amount >= attempt.captured_amount
        payment_set_status(
            order=order, target=P.REFUNDED if fully else P.PARTIALLY_REFUNDED, note=refund.idempotency_key
        )
        return refund


def payment_cancel_order(*, order_id: int) -> str:
    """Settle payments of an order being cancelled: void an authorisation, refund a charge, cancel a
    pending authentication or offline payment. Returns the new payment status."""
    with order_charge_lock(order_id):
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            raise NotFound("order_not_found", _("受注が見つかりません。"))
        if order.payment_status == P.PAID and not order.payment_attempts.filter(status=A.SUCCEEDED).exists():
            return _refund_by_hand(order)
        if order.payment_status == P.PAID:
            payment_refund_order(order_id=order_id, reason="cancel")
            return P.REFUNDED
        with transaction.atomic():
            order = _locked_order(order_id)
            for attempt in order.payment_attempts.filter(status__in=(A.AUTHORIZED, A.REQUIRES_ACTION)):
                payment_void_quietly(payment_intent_id=attempt.gateway_payment_intent_id)
                attempt.status = A.CANCELED
                attempt.save(update_fields=["status", "updated_at"])
            if order.payment_status not in SETTLED or order.payment_status == P.AUTHORIZED:
                if order.payment_status == P.PROCESSING:
                    raise Conflict("payment_in_progress", _("決済処理中のためキャンセルできません。"))
                payment_set_status(order=order, target=P.CANCELLED, note="order cancelled")
            dunning.dunning_close(order=order)
            return order.payment_status


def _refund_by_hand(order: Order) -> str:
    """Money that came offline (振込, コンビニ, 代引き) goes back offline: no gateway can refund it. The
    order stays PAID and gets a refund_by_hand event an admin acts on (once per order)."""
    if not OrderEvent.objects.filter(order=order, kind="refund_by_hand").exists():
        logger.warning("order %s: cancelled after an offline payment; refund by hand", order.pk)
        OrderEvent.objects.create(
            order=order,
            kind="refund_by_hand",
            after={"payment_kind": order.payment_kind, "amount": order.total},
            note="オフライン決済の返金は手動で行ってください。",
        )
    return order.payment_status


def payment_mark_paid(*, order_id: int, note: str = "") -> Order:
    """An admin records that an offline payment (振込, コンビニ, 代引き) has arrived."""
    with transaction.atomic():
        order = _locked_order(order_id)
        if order.payment_status != P.AWAITING_OFFLINE:
            raise Conflict("not_awaiting_payment", _("入金待ちの受注ではありません。"))
        payment_set_status(order=order, target=P.PAID, note=note or "offline payment received")
        dunning.dunning_close(order=order)
        order_mark_ready(order=order)
        return order
