"""Card charges a batch at a time: what the nightly fan-out's billing.charge_orders task runs.

The steps of payment_charge_order (payments.py), each taken for the whole batch at once:

1. the orders' charge locks (session advisory locks) in one statement. An order with an attempt
   still open (pending, unknown, waiting for 3-D Secure) or that is not a new, unpaid card order is
   left to payment_charge_order alone once the batch's locks are released (it takes its own);
2. one transaction: the orders locked, their attempt rows written (pending, with the idempotency
   key) and the orders moved to processing with their events, committed before any gateway call;
3. the gateway calls, CHARGE_THREADS at a time, each under the shared rate limit, with no database
   work in the threads;
4. the outcomes: a success on an order still new and processing, not held, on its first attempt and
   with no payment flag on its subscription is recorded for the batch in one transaction (attempt,
   paid or authorised, ready, events, mails by reference, open dunning cases resolved) exactly as
   payment_attempt_record leaves one order; every other outcome goes through
   payment_attempt_record one order at a time (dunning, holds, flags, released authorisations);
5. the locks released.

A worker that dies anywhere leaves what payment_charge_order's would: attempts committed before
the call, its locks gone with its connection, orphaned_charges reconciles them on the next run.
About 1 statement per charge instead of 43, and the gateway waits overlap.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateways import ChargeResult, ChargeStatus, GatewayError, GatewayUnavailable, get_gateway
from billing.models import (
    CaptureMethod,
    DunningCase,
    DunningStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
    PaymentKind,
    PaymentPolicy,
)
from billing.ratelimit import payment_rate_limiter
from orders.bulk import BulkMove, orders_bulk_apply_moves
from orders.models import Order, OrderStatus
from orders.models import PaymentStatus as P
from subscriptions.models import Subscription
from subscriptions.selectors import today_in_shop

from .dunning import PAYMENT_ATTENTION
from .payments import (
    LOCK_NAMESPACE,
    _order_kind,
    idempotency_key,
    payment_attempt_record,
    payment_charge_order,
)

A = PaymentAttemptStatus
CHARGE_THREADS = 8
_OPEN = (A.PENDING, A.UNKNOWN, A.REQUIRES_ACTION)
_TARGET = {A.SUCCEEDED: P.PAID, A.AUTHORIZED: P.AUTHORIZED}
_executor: ThreadPoolExecutor | None = None


@dataclass
class _Call:
    attempt: PaymentAttempt
    result: ChargeResult | None = None  # None: the gateway did not answer (unknown)
    error: str = ""


def payments_charge_batch(
    *, order_ids: list[int], today: date | None = None
) -> dict[int, PaymentAttempt | None]:
    """payment_charge_order for each order, the batch's database work set-based and its gateway calls
    side by side. Returns each order's attempt (None: nothing to do, or another process has it)."""
    today = today or today_in_shop()
    if connection.vendor != "postgresql":  # the embedded default: one by one, as before
        return {i: payment_charge_order(order_id=i, today=today) for i in order_ids}
    results: dict[int, PaymentAttempt | None] = dict.fromkeys(order_ids)
    held = _lock(order_ids)
    alone: list[int] = []
    try:
        with_open = set(
            PaymentAttempt.objects.filter(order_id__in=held, status__in=_OPEN).values_list(
                "order_id", flat=True
            )
        )
        calls, others = _begin(sorted(set(held) - with_open), today)
        alone = sorted(with_open | set(others))
        _call_gateway(calls)
        results.update(_record(calls, today))
    finally:
        _unlock(held)
    for order_id in alone:
        results[order_id] = payment_charge_order(order_id=order_id, today=today)
    return results


def _keys(order_ids: list[int]) -> list[int]:
    return [(LOCK_NAMESPACE << 32) | i for i in order_ids]


def _lock(order_ids: list[int]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o FROM unnest(%s::bigint[]) AS o WHERE pg_try_advisory_lock((%s::bigint << 32) | o)",
            [order_ids, LOCK_NAMESPACE],
        )
        return [row[0] for row in cursor.fetchall()]


def _unlock(order_ids: list[int]) -> None:
    if order_ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(k) FROM unnest(%s::bigint[]) AS k", [_keys(order_ids)])


def _begin(order_ids: list[int], today: date) -> tuple[list[_Call], list[int]]:
    """_begin_attempt for the plain new card orders; the ids of the others (for the one-by-one path)."""
    if not order_ids:
        return [], []
    with transaction.atomic():
        orders = list(
            Order.objects.select_for_update(of=("self",))
            .select_related("payment_method", "customer__user")
            .filter(pk__in=order_ids)
            .order_by("pk")
        )
        plain = [
            o
            for o in orders
            if o.status == OrderStatus.NEW
            and o.payment_status == P.UNPAID
            and o.total != 0
            and _order_kind(o) == PaymentKind.CARD
        ]
        others = [o.pk for o in orders if o not in plain]
        if not plain:
            return [], others
        policy = PaymentPolicy.current()
        last = dict(
            PaymentAttempt.objects.filter(order__in=plain)
            .values("order_id")
            .annotate(n=Max("number"))
            .values_list("order_id", "n")
        )
        attempts = PaymentAttempt.objects.bulk_create(
            [
                PaymentAttempt(
                    order=o,
                    number=last.get(o.pk, 0) + 1,
                    idempotency_key=idempotency_key(o.pk, last.get(o.pk, 0) + 1),
                    payment_method=o.payment_method,
                    amount=o.total,
                    capture_method=policy.capture_method,
                )
                for o in plain
            ]
        )
        orders_bulk_apply_moves(
            moves=[
                _move(a.order, status="", before=P.UNPAID, after=P.PROCESSING, note=a.idempotency_key)
                for a in attempts
            ]
        )
        for a in attempts:
            a.order.payment_status = P.PROCESSING
    return [_Call(a) for a in attempts], others


def _move(order: Order, *, status: str, before: str, after: str, note: str) -> BulkMove:
    return BulkMove(
        order_id=order.pk,
        status_before=order.status,
        status=status,
        note="",
        customer_id=order.customer_id,
        email=order.customer.user.email,
        language=order.customer.language,
        payment_kind=order.payment_kind,
        payment_before=before,
        payment_status=after,
        payment_note=note,
    )


def _call_gateway(calls: list[_Call]) -> None:
    """_send_attempt's gateway call for each attempt, CHARGE_THREADS at a time."""
    global _executor
    sendable = []
    for call in calls:
        method, customer_id = call.attempt.payment_method, call.attempt.order.customer.stripe_customer_id
        if method is None or not method.is_active or not method.stripe_payment_method_id or not customer_id:
            call.result = ChargeResult(
                status=ChargeStatus.FAILED,
                error_code="no_payment_method",
                message=_("有効なクレジットカードが登録されていません。"),
            )
        else:
            sendable.append(call)
    if not sendable:
        return
    if _executor is None:  # made in the worker process that uses it (never before a fork)
        _executor = ThreadPoolExecutor(max_workers=CHARGE_THREADS, thread_name_prefix="charge")
    list(_executor.map(_send, sendable))


def _send(call: _Call) -> None:
    attempt = call.attempt
    payment_rate_limiter().acquire()  # only a gateway call spends the payment rate budget
    try:
        call.result = get_gateway().charge(
            customer_id=attempt.order.customer.stripe_customer_id,
            payment_method_id=attempt.payment_method.stripe_payment_method_id,
            amount=attempt.amount,
            currency=attempt.currency,
            capture_manually=attempt.capture_method == CaptureMethod.MANUAL,
            metadata={"order_id": str(attempt.order_id), "attempt": attempt.idempotency_key},
            idempotency_key=attempt.idempotency_key,
        )
    except GatewayUnavailable as exc:
        call.error = str(exc)[:500]
    except GatewayError as exc:
        call.result = ChargeResult(
            status=ChargeStatus.FAILED, error_code=exc.code or "gateway_error", message=exc.message
        )


def _record(calls: list[_Call], today: date) -> dict[int, PaymentAttempt]:
    """Each call's outcome: unknown ones marked, plain successes together, the rest one by one."""
    out: dict[int, PaymentAttempt] = {}
    for call in calls:
        if call.result is None:  # the gateway may have charged: reconciled before anything new
            PaymentAttempt.objects.filter(pk=call.attempt.pk, status=A.PENDING).update(
                status=A.UNKNOWN,
                error_code="gateway_unavailable",
                error_message=call.error,
                updated_at=timezone.now(),
            )
            call.attempt.refresh_from_db()
            out[call.attempt.order_id] = call.attempt
    successes = [c for c in calls if c.result is not None and c.result.status in (ChargeStatus.SUCCEEDED, ChargeStatus.AUTHORIZED)]  # fmt: skip
    recorded = _record_successes(successes) if successes else set()
    for call in calls:
        if call.result is not None and call.attempt.pk not in recorded:
            out[call.attempt.order_id] = payment_attempt_record(
                attempt_id=call.attempt.pk, result=call.result, today=today
            )
        elif call.attempt.pk in recorded:
            out[call.attempt.order_id] = call.attempt
    return out


def _record_successes(calls: list[_Call]) -> set[int]:
    """payment_attempt_record for the plain successes, in one transaction; the attempt ids recorded."""
    with transaction.atomic():
        # Order first, then attempt: every path takes the locks in this order.
        orders = Order.objects.select_for_update(of=("self",)).select_related("customer__user")
        orders = orders.in_bulk([c.attempt.order_id for c in calls])
        locked = PaymentAttempt.objects.select_for_update().in_bulk([c.attempt.pk for c in calls])
        flagged = _subscriptions_with_payment_flags([o.subscription_id for o in orders.values()])
        plain = []
        for call in calls:
            order, attempt = orders.get(call.attempt.order_id), locked.get(call.attempt.pk)
            if (
                order is not None
                and attempt is not None
                and attempt.status == A.PENDING
                and attempt.number == 1
                and order.status == OrderStatus.NEW
                and order.payment_status == P.PROCESSING
                and not order.hold_reasons
                and order.subscription_id not in flagged
            ):
                plain.append((call, order, attempt))
        now = timezone.now()
        for call, _order, attempt in plain:
            result = call.result
            attempt.status = A.SUCCEEDED if result.status == ChargeStatus.SUCCEEDED else A.AUTHORIZED
            attempt.gateway_payment_intent_id = attempt.gateway_payment_intent_id or result.payment_intent_id
            attempt.gateway_charge_id = result.charge_id or attempt.gateway_charge_id
            attempt.error_code, attempt.decline_code = result.error_code[:64], result.decline_code[:64]
            attempt.error_message = result.message[:500]
            if attempt.status == A.AUTHORIZED:
                attempt.authorized_at = now
            else:
                attempt.captured_amount = result.amount_captured or result.amount or attempt.amount
            attempt.updated_at = now
            call.attempt = attempt
        _save_outcomes([a for _c, _o, a in plain], now)
        # payment_set_status (paid / authorised, 入金確認), dunning_on_success, order_mark_ready (出荷準備中).
        orders_bulk_apply_moves(
            moves=[
                _move(
                    o,
                    status=OrderStatus.READY,
                    before=P.PROCESSING,
                    after=_TARGET[a.status],
                    note=a.idempotency_key,
                )
                for _c, o, a in plain
            ]
        )
        DunningCase.objects.filter(
            order_id__in=[o.pk for _c, o, _a in plain], status=DunningStatus.OPEN
        ).update(status=DunningStatus.RESOLVED, next_retry_on=None, updated_at=now)
    return {a.pk for _c, _o, a in plain}


def _save_outcomes(attempts: list[PaymentAttempt], now) -> None:  # noqa: ANN001
    """attempt.save() for many: one UPDATE from arrays (bulk_update's CASE per row and column was a
    third of a worker's time)."""
    if not attempts:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_paymentattempt AS a SET status = v.st, gateway_payment_intent_id = v.pi, "
            "gateway_charge_id = v.ch, error_code = v.ec, decline_code = v.dc, error_message = v.em, "
            "authorized_at = v.au, captured_amount = v.ca, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
            "%s::timestamptz[], %s::int[]) AS v(id, st, pi, ch, ec, dc, em, au, ca) WHERE a.id = v.id",
            [now, *(list(column) for column in zip(*(
                (a.pk, a.status, a.gateway_payment_intent_id, a.gateway_charge_id, a.error_code, a.decline_code,
                 a.error_message, a.authorized_at, a.captured_amount)
                for a in attempts
            ), strict=True))],
        )  # fmt: skip


def _subscriptions_with_payment_flags(subscription_ids: list[int | None]) -> set[int]:
    ids = [i for i in subscription_ids if i is not None]
    rows = Subscription.objects.filter(pk__in=ids).values_list("pk", "needs_attention")
    return {pk for pk, flags in rows if set(flags or ()) & PAYMENT_ATTENTION}
