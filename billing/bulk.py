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

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from billing.gateways.offline import OFFLINE_KINDS, PREPAID_KINDS, offline_terms
from billing.models import DunningCase, DunningReason, DunningStatus, PaymentMethod, PaymentPolicy
from billing.payment_states import payment_transition_allowed
from core.copy import insert_rows
from notifications.services import notification_send_many
from orders.bulk import orders_bulk_set_status
from orders.mails import PAYMENT_MAIL
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
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
) -> dict[str, int]:
    """Settle the free and offline orders among `order_ids` (default: all) created on or before
    `run_date` (default: any day), a batch per transaction; payment deadlines count from `run_date`
    (default today in the shop), as payment_charge_order's `today`. Rows another process holds (a
    charge of the same order in flight) are skipped and left to payment_charge_order.
    Returns {"awaiting_offline": offline orders settled, "not_required": free ones}."""
    today = run_date or today_in_shop()
    ids = list(
        settleable_orders(order_ids=order_ids, run_date=run_date).order_by("pk").values_list("pk", flat=True)
    )
    counts = {"awaiting_offline": 0, "not_required": 0}
    policy = PaymentPolicy.current()
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            batch = _settle_batch(ids[start : start + batch_size], run_date=today, policy=policy)
        for key, value in batch.items():
            counts[key] += value
    return counts


def _lock_batch(ids: list[int]) -> list[Order]:
    # Re-checked under the lock: a row settled or charged since it was listed drops out here.
    locked = list(
        settleable_orders(order_ids=ids)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return list(
        Order.objects.filter(pk__in=locked)
        .select_related("customer__user", "payment_method", "carrier")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("pk")))
        .order_by("pk")
    )


def _kind(order: Order) -> str:
    return order.payment_kind or (order.payment_method.kind if order.payment_method_id else "card")


def _settle_batch(ids: list[int], *, run_date: date, policy: PaymentPolicy) -> dict[str, int]:
    orders = _lock_batch(ids)
    free = [o for o in orders if o.total == 0]
    offline = [o for o in orders if o.total != 0]
    kinds = {o.pk: _kind(o) for o in offline}
    _payment_bulk_set_status(orders=free, target=P.NOT_REQUIRED, notes={})
    _payment_bulk_set_status(orders=offline, target=P.AWAITING_OFFLINE, notes=kinds)
    prepaid = [o for o in offline if kinds[o.pk] in PREPAID_KINDS]
    cod = [o for o in offline if kinds[o.pk] not in PREPAID_KINDS]
    deadlines = {
        o.pk: offline_terms(
            kind=kinds[o.pk], created_on=run_date, deadline_days=policy.offline_deadline_days
        ).deadline
        for o in prepaid
    }
    now = timezone.now()
    DunningCase.objects.bulk_create(
        [
            DunningCase(
                order=o,
                reason=DunningReason.AWAITING_OFFLINE,
                status=DunningStatus.OPEN,
                deadline=deadlines[o.pk],
                created_at=now,
                updated_at=now,
            )
            for o in prepaid
        ],
        update_conflicts=True,
        unique_fields=["order"],
        update_fields=["reason", "status", "deadline", "updated_at"],
        batch_size=1000,
    )
    # In the order payment_charge_order takes: ready (free, then COD) before awaiting payment.
    orders_bulk_set_status(orders=free, status=OrderStatus.READY, notes={})
    orders_bulk_set_status(orders=cod, status=OrderStatus.READY, notes={o.pk: "代金引換" for o in cod})
    orders_bulk_set_status(orders=prepaid, status=OrderStatus.AWAITING_PAYMENT, notes=kinds)
    notification_send_many(
        notices=[
            {
                "key": f"payment_offline_instructions:order={o.pk}:instructions",
                "kind": "payment_offline_instructions",
                "to_email": o.customer.user.email,
                "customer": o.customer,
                "context": {
                    "order": o,
                    "customer": o.customer,
                    "kind": kinds[o.pk],
                    "deadline": deadlines[o.pk],
                },
            }
            for o in prepaid
        ]
    )
    return {"awaiting_offline": len(offline), "not_required": len(free)}


def _payment_bulk_set_status(*, orders: list[Order], target: str, notes: dict[int, str]) -> None:
    """billing.services._orders.payment_set_status for many locked unpaid orders."""
    if not orders:
        return
    # The moves made here send no payment mail (PAYMENT_MAIL: paid and refunded only).
    assert target not in PAYMENT_MAIL and payment_transition_allowed(P.UNPAID, target)
    now = timezone.now()
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(payment_status=target, updated_at=now)
    for order in orders:
        order.payment_status, order.updated_at = target, now
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                kind="payment_status_changed",
                before={"payment_status": P.UNPAID},
                after={"payment_status": target},
                note=notes.get(order.pk, ""),
            )
            for order in orders
        ],
        batch_size=1000,
    )


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
