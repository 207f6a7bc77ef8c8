"""Order status moves that payments cause, through the orders app's one status service.

Payments own Order.payment_status (billing.payment_states); the order status pipeline
(orders.models.ORDER_TRANSITIONS) belongs to orders.services.order_set_status, so every move here
goes through it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from billing.payment_states import payment_transition_allowed
from core.errors import Conflict
from orders.mails import order_mail_on_payment
from orders.models import Order, OrderEvent, OrderStatus
from orders.services import order_release_hold, order_set_status
from subscriptions.models import AttentionReason

# Hold reasons payments add and remove; an order held only for these may still be charged by dunning.
PAYMENT_HOLD_REASONS = frozenset({AttentionReason.PAYMENT_FAILED, AttentionReason.NEEDS_AUTHENTICATION})


def _set_status(order: Order, status: str, note: str = "", *, notify: bool = True) -> None:
    updated = order_set_status(order_id=order.pk, status=status, note=note, notify=notify)
    order.status = updated.status
    order.hold_reasons = updated.hold_reasons


def _set_hold_reasons(order: Order, reasons: list[str]) -> None:
    # orders.services has no service for the reasons themselves; the row is locked by our caller.
    order.hold_reasons = reasons
    order.save(update_fields=["hold_reasons", "updated_at"])


def held_for_payment_only(*, order: Order) -> bool:
    return (
        order.status == OrderStatus.ON_HOLD
        and bool(order.hold_reasons)
        and set(order.hold_reasons) <= PAYMENT_HOLD_REASONS
    )


def order_hold_for_payment(*, order: Order, reason: str, note: str = "") -> None:
    """Put a not-yet-shipped order on hold (要対応) with a payment reason."""
    if order.status not in (
        OrderStatus.NEW,
        OrderStatus.ON_HOLD,
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.READY,
    ):
        return
    if order.status != OrderStatus.ON_HOLD:
        _set_status(order, OrderStatus.ON_HOLD, note)
    if reason not in order.hold_reasons:
        _set_hold_reasons(order, [*order.hold_reasons, reason])


def order_release_payment_hold(*, order: Order, note: str = "") -> None:
    """Drop the payment reasons; an order held for nothing else goes back to NEW."""
    if not set(order.hold_reasons) & PAYMENT_HOLD_REASONS:
        return
    reasons = [r for r in order.hold_reasons if r not in PAYMENT_HOLD_REASONS]
    if reasons or order.status != OrderStatus.ON_HOLD:
        _set_hold_reasons(order, reasons)
        return
    updated = order_release_hold(order_id=order.pk, note=note)
    order.status, order.hold_reasons = updated.status, updated.hold_reasons


def order_mark_ready(*, order: Order, note: str = "") -> None:
    """Paid (or collected at delivery): the order can be prepared for shipping (出荷準備中)."""
    if order.status in (OrderStatus.NEW, OrderStatus.AWAITING_PAYMENT):
        _set_status(order, OrderStatus.READY, note)


def order_await_payment(*, order: Order, note: str = "") -> None:
    if order.status == OrderStatus.NEW:
        _set_status(order, OrderStatus.AWAITING_PAYMENT, note)


def order_cancel_unpaid(*, order: Order, note: str = "") -> None:
    if order.status in (
        OrderStatus.NEW,
        OrderStatus.ON_HOLD,
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.READY,
    ):
        # Dunning and the offline deadline send their own cancellation notice: not the shop's too.
        _set_status(order, OrderStatus.CANCELLED, note, notify=False)


def payment_set_status(*, order: Order, target: str, note: str = "") -> None:
    """Move a locked order's payment status along PAYMENT_TRANSITIONS and write an order event."""
    current = order.payment_status
    if current == target:
        return
    if not payment_transition_allowed(current, target):
        raise Conflict(
            "payment_transition_forbidden",
            _("決済状態を%(current)sから%(target)sに変更できません。")
            % {"current": current, "target": target},
        )
    order.payment_status = target
    order.save(update_fields=["payment_status", "updated_at"])
    event = OrderEvent.objects.create(
        order=order,
        kind="payment_status_changed",
        before={"payment_status": current},
        after={"payment_status": target},
        note=note,
    )
    # 入金確認 / 返金: the shop's mail, in this transaction, once per move.
    order_mail_on_payment(order=order, payment_status=target, order_event=event)
