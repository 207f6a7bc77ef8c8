"""Billing's writes in bulk: the nightly run's settlement and the importer's payment methods.

payments_bulk_settle: the charge stage's orders that never reach the gateway, settled a batch at a
time instead of one order per lock, transaction and rate-limit token. It leaves each order exactly
as payment_charge_order does (tests/billing/test_bulk_settle.py runs both on the same orders):

- nothing to charge (total 0): payment not required, the order ready (出荷準備中) with its mail;
- cash on delivery (代金引換): awaiting payment at the door, the order ready with its mail;
- bank transfer and konbini: awaiting payment, a dunning case with the deadline, the order awaiting
  payment (入金待ち) with its mail, and the payment instructions.

Held orders are not the charge stage's (chargeable_orders takes new ones only) and are left alone
here too. Card orders go on to payment_charge_order, whose gateway calls share the rate budget.

payment_methods_bulk_create is the set-based version of saving a payment method, for imports: the
card was verified against the gateway by the caller (or the method is offline), so no gateway call
is made here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing.gateways.offline import OFFLINE_KINDS, PREPAID_KINDS, offline_terms
from billing.models import DunningCase, DunningReason, DunningStatus, PaymentMethod, PaymentPolicy
from billing.payment_states import payment_transition_allowed
from billing.selectors import offline_payment_guide
from core.copy import insert_rows
from notifications.bulk import QueuedMail, notifications_bulk_queue
from notifications.rendering import mail_ref
from notifications.services import notice_render
from orders.bulk import BulkMove, orders_bulk_apply_moves
from orders.mails import PAYMENT_MAIL
from orders.models import Order, OrderStatus
from orders.models import PaymentStatus as P
from subscriptions.selectors import today_in_shop

SETTLE_BATCH_SIZE = 2000
# Orders the gateway has no part in: free ones, and offline kinds whether set on the order or only
# on its payment method (payment_charge_order's _order_kind; no kind and no method means card).
NO_GATEWAY = (
    Q(total=0)
    | Q(payment_kind__in=OFFLINE_KINDS)
    | (Q(payment_kind="") & Q(payment_method__kind__in=OFFLINE_KINDS))
)


def settleable_orders(*, order_ids: Iterable[int] | None = None, run_date: date | None = None):  # noqa: ANN201
    """Chargeable orders (new, unpaid) that need no gateway call."""
    qs = Order.objects.filter(NO_GATEWAY, payment_status=P.UNPAID, status=OrderStatus.NEW)
    if order_ids is not None:
        qs = qs.filter(pk__in=list(order_ids))
    if run_date is not None:
        qs = qs.filter(creation_date__lte=run_date)
    return qs


def payments_bulk_settle(
    *,
    run_date: date | None = None,
    order_ids: Iterable[int] | None = None,
    batch_size: int = SETTLE_BATCH_SIZE,
    asynchronous_commit: bool = False,
) -> dict[str, int]:
    """Settle the free and offline orders among `order_ids` (default: all) created on or before
    `run_date` (default: any day), a batch per transaction; payment deadlines count from `run_date`
    (default today in the shop), as payment_charge_order's `today`. Rows another process holds (a
    charge of the same order in flight) are skipped and left to payment_charge_order.
    Returns {"awaiting_offline": offline orders settled, "not_required": free ones}.

    `asynchronous_commit`: the batches commit without waiting for the WAL flush, as generation's do
    (on a busy disk the flush took longer than the batch). Only for a caller that holds the mail
    deliveries back until a synchronous commit has flushed them (billing.stages): a PostgreSQL
    crash can then lose the last batches whole, never a mail for one, and the next run settles
    them again."""
    today = run_date or today_in_shop()
    ids = list(
        settleable_orders(order_ids=order_ids, run_date=run_date).order_by("pk").values_list("pk", flat=True)
    )
    counts = {"awaiting_offline": 0, "not_required": 0}
    policy = PaymentPolicy.current()
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            if connection.vendor == "postgresql":
                _batch_settings(asynchronous_commit)
            batch = _settle_batch(ids[start : start + batch_size], run_date=today, policy=policy)
        for key, value in batch.items():
            counts[key] += value
    return counts


def _batch_settings(asynchronous_commit: bool) -> None:
    # JIT never pays in a batch (see scheduler.generation's _batch_settings).
    sql = "SET LOCAL jit = off" + ("; SET LOCAL synchronous_commit TO OFF" if asynchronous_commit else "")
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _lock_batch(ids: list[int]) -> list[tuple]:
    """(id, total, payment kind, method kind, customer id, language, email) of the batch's orders that
    are still settleable, locked. Re-checked under the lock: a row settled or charged since it was
    listed drops out, one another process holds is skipped. Three primary-key lookups: with the
    settleable conditions in the locking query, stale statistics led the planner to a bitmap over
    every unpaid order for each batch (300 ms a batch at a million orders)."""
    if connection.vendor != "postgresql":
        return list(
            settleable_orders(order_ids=ids)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", "total", "payment_kind", "payment_method__kind", "customer_id",
                         "customer__language", "customer__user__email")
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, status, payment_status, total, payment_kind, payment_method_id, customer_id "
            "FROM orders_order WHERE id = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED",
            [ids],
        )
        locked = cursor.fetchall()
        cursor.execute(
            "SELECT id, kind FROM billing_paymentmethod WHERE id = ANY(%s)",
            [list({r[5] for r in locked if r[5]})],
        )
        method_kinds = dict(cursor.fetchall())
        cursor.execute(
            "SELECT c.id, c.language, u.email FROM customers_customer c JOIN auth_user u ON u.id = c.user_id "
            "WHERE c.id = ANY(%s)",
            [list({r[6] for r in locked})],
        )
        customers = {r[0]: r[1:] for r in cursor.fetchall()}
    rows = []
    for order_id, status, payment_status, total, kind, method_id, customer_id in locked:
        method_kind = method_kinds.get(method_id)
        no_gateway = total == 0 or kind in OFFLINE_KINDS or (kind == "" and method_kind in OFFLINE_KINDS)
        if status == OrderStatus.NEW and payment_status == P.UNPAID and no_gateway:  # settleable_orders
            rows.append((order_id, total, kind, method_kind, customer_id, *customers[customer_id]))
    return rows


def _settle_batch(ids: list[int], *, run_date: date, policy: PaymentPolicy) -> dict[str, int]:
    """One transaction: the payment and status moves with their events and mails (orders.bulk), the
    dunning cases with the payment deadline, the payment instructions (by reference)."""
    rows = _lock_batch(ids)
    deadlines = {
        kind: offline_terms(
            kind=kind, created_on=run_date, deadline_days=policy.offline_deadline_days
        ).deadline
        for kind in PREPAID_KINDS
    }
    moves: list[BulkMove] = []
    prepaid: list[tuple[int, str, int, str]] = []
    free = 0
    for order_id, total, order_kind, method_kind, customer_id, language, email in rows:
        kind = order_kind or method_kind or "card"  # payment_charge_order's _order_kind
        common = {"order_id": order_id, "status_before": OrderStatus.NEW, "customer_id": customer_id,
                  "email": email, "language": language, "payment_kind": order_kind, "payment_before": P.UNPAID}  # fmt: skip
        if total == 0:
            free += 1
            moves.append(BulkMove(**common, status=OrderStatus.READY, note="", payment_status=P.NOT_REQUIRED))
        elif kind in PREPAID_KINDS:
            prepaid.append((order_id, kind, customer_id, email))
            moves.append(
                BulkMove(**common, status=OrderStatus.AWAITING_PAYMENT, note=kind,
                         payment_status=P.AWAITING_OFFLINE, payment_note=kind)
            )  # fmt: skip
        else:  # cash on delivery: collected at the door, the order ready at once
            moves.append(
                BulkMove(**common, status=OrderStatus.READY, note="代金引換",
                         payment_status=P.AWAITING_OFFLINE, payment_note=kind)
            )  # fmt: skip
    for move in moves:  # billing's table of payment moves, checked as payment_set_status does
        assert move.payment_status not in PAYMENT_MAIL  # these moves send no payment mail
        assert payment_transition_allowed(P.UNPAID, move.payment_status)
    _open_offline_cases([(order_id, deadlines[kind]) for order_id, kind, _c, _e in prepaid])
    orders_bulk_apply_moves(moves=moves)
    notifications_bulk_queue(
        mails=[
            QueuedMail(
                key=f"{INSTRUCTIONS}:order={order_id}:instructions",
                kind=INSTRUCTIONS,
                customer_id=customer_id,
                to_email=email,
                ref="",
                render=mail_ref(
                    INSTRUCTIONS, order_id=order_id, kind=kind, deadline=deadlines[kind].isoformat()
                ),
            )
            for order_id, kind, customer_id, email in prepaid
        ]
    )
    return {"awaiting_offline": len(rows) - free, "not_required": free}


def _open_offline_cases(cases: list[tuple[int, date]]) -> None:
    """dunning_await_offline's case for many orders: opened (or a case left from before reopened)
    for the offline payment, with its deadline."""
    if not cases:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO billing_dunningcase (order_id, reason, status, deadline, failures, hard_decline, "
                "last_error_code, created_at, updated_at) "
                "SELECT o, %s, %s, d, 0, false, '', %s, %s FROM unnest(%s::bigint[], %s::date[]) AS c(o, d) "
                "ON CONFLICT (order_id) DO UPDATE SET reason = EXCLUDED.reason, status = EXCLUDED.status, "
                "deadline = EXCLUDED.deadline, updated_at = EXCLUDED.updated_at",
                [DunningReason.AWAITING_OFFLINE, DunningStatus.OPEN, now, now,
                 [o for o, _d in cases], [d for _o, d in cases]],
            )  # fmt: skip
        return
    DunningCase.objects.bulk_create(
        [
            DunningCase(
                order_id=order_id,
                reason=DunningReason.AWAITING_OFFLINE,
                status=DunningStatus.OPEN,
                deadline=deadline,
                created_at=now,
                updated_at=now,
            )
            for order_id, deadline in cases
        ],
        update_conflicts=True,
        unique_fields=["order"],
        update_fields=["reason", "status", "deadline", "updated_at"],
        batch_size=1000,
    )


INSTRUCTIONS = "payment_offline_instructions"


def offline_instructions_render(refs: list[dict]) -> list[tuple[str, str] | Exception]:
    """The notifications.rendering renderer of the payment instructions (dunning_await_offline's
    notice): the same template and context, the orders read in one query."""
    orders = Order.objects.select_related("customer").in_bulk({ref["order_id"] for ref in refs})
    policy = PaymentPolicy.current()
    out: list[tuple[str, str] | Exception] = []
    for ref in refs:
        order = orders.get(ref["order_id"])
        if order is None:
            out.append(LookupError(f"order {ref['order_id']} is gone"))
            continue
        context = {"order": order, "customer": order.customer, "kind": ref["kind"],
                   "deadline": date.fromisoformat(ref["deadline"]),
                   "pay_to": offline_payment_guide(ref["kind"], policy)}  # fmt: skip
        out.append(notice_render(kind=INSTRUCTIONS, customer=order.customer, context=context))
    return out


PAYMENT_METHOD_FIELDS = (
    "customer_id",
    "kind",
    "stripe_payment_method_id",
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "is_default",
    "is_active",
)


def payment_methods_bulk_create(*, methods: list[dict]) -> list[int]:
    """Create one payment method per dict (PAYMENT_METHOD_FIELDS); their ids in order."""
    for method in methods:
        unknown = set(method) - set(PAYMENT_METHOD_FIELDS)
        if unknown:
            raise ValueError(f"payment_methods_bulk_create: unknown fields {sorted(unknown)}")
    return insert_rows(
        PaymentMethod,
        [{**m, "brand": (m.get("brand") or "")[:20], "last4": (m.get("last4") or "")[:4]} for m in methods],
    )
