"""Billing's reactions to changes made elsewhere.

- The card-update hook: when a subscription's payment method changes (subscriptions writes a
  timeline event for it), billing retries that subscription's failed payments at once.
- Order status moves: cancelling or returning an order gives its coupon use and points back and
  settles its payment (void, refund); completing it earns points; shipping captures an
  authorisation when the shop captures at shipment (売上確定).
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from billing import tasks as _tasks  # noqa: F401 - registers the tasks the outbox rows below name
from billing.models import CaptureMethod, PaymentPolicy
from notifications.outbox import outbox_enqueue
from orders.models import OrderStatus, PaymentStatus
from orders.signals import order_status_changed
from pricing.services.coupons import coupon_release_for_order
from pricing.services.points import points_earn_for_order, points_revert_for_order
from subscriptions.models import SubscriptionEvent

PAYMENT_METHOD_CHANGED = "payment_method_changed"


@receiver(post_save, sender=SubscriptionEvent, dispatch_uid="billing.retry_on_new_card")
def retry_on_new_card(sender, instance: SubscriptionEvent, created: bool, **kwargs) -> None:  # noqa: ANN001, ANN003
    if not created or instance.kind != PAYMENT_METHOD_CHANGED:
        return
    outbox_enqueue(
        key=f"billing.retry_subscription_payments:event={instance.pk}",
        task="billing.retry_subscription_payments",
        args=[instance.subscription_id],
    )


# Order status moves (orders.signals) --------------------------------------------------------------
# Inside the status change's transaction: coupon and point bookkeeping, so a cancelled order can
# never keep its coupon use or its points. After commit, through a task: the calls to the gateway.
# Tasks go through the outbox (notifications.outbox): recorded in this transaction, so a broker that is
# down loses nothing and fails nothing; the sweeper sends them when it is back.


@receiver(order_status_changed, dispatch_uid="billing.on_order_status_changed")
def on_order_status_changed(sender, order, before: str, after: str, **kwargs) -> None:  # noqa: ANN001, ANN003
    order_id = order.pk
    if after in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
        coupon_release_for_order(order_id=order_id)
        points_revert_for_order(order_id=order_id)
        outbox_enqueue(
            key=f"billing.settle_cancelled_order:order={order_id}:{after}",
            task="billing.settle_cancelled_order",
            args=[order_id],
        )
    elif after == OrderStatus.COMPLETED:
        points_earn_for_order(order=order)
    elif (
        after == OrderStatus.SHIPPED
        and order.payment_status == PaymentStatus.AUTHORIZED
        and PaymentPolicy.current().capture_method == CaptureMethod.MANUAL
    ):
        outbox_enqueue(
            key=f"billing.capture_order:order={order_id}", task="billing.capture_order", args=[order_id]
        )
