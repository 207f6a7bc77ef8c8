"""Billing's reactions to changes made elsewhere.

- The card-update hook: when a subscription's payment method changes (subscriptions writes a
  timeline event for it), billing retries that subscription's failed payments at once.
- Order status moves: cancelling or returning an order gives its coupon use and points back and
  settles its payment (void, refund); completing it earns points; shipping captures an
  authorisation when the shop captures at shipment (売上確定).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.models import CaptureMethod, PaymentPolicy
from billing.tasks import capture_order, retry_subscription_payments, settle_cancelled_order
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
    subscription_id = instance.subscription_id
    transaction.on_commit(lambda: retry_subscription_payments.delay(subscription_id))


# Order status moves (orders.signals) --------------------------------------------------------------
# Inside the status change's transaction: coupon and point bookkeeping, so a cancelled order can
# never keep its coupon use or its points. After commit, through a task: the calls to the gateway.


@receiver(order_status_changed, dispatch_uid="billing.on_order_status_changed")
def on_order_status_changed(sender, order, before: str, after: str, **kwargs) -> None:  # noqa: ANN001, ANN003
    order_id = order.pk
    if after in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
        coupon_release_for_order(order_id=order_id)
        points_revert_for_order(order_id=order_id)
        transaction.on_commit(lambda: settle_cancelled_order.delay(order_id))
    elif after == OrderStatus.COMPLETED:
        points_earn_for_order(order=order)
    elif (
        after == OrderStatus.SHIPPED
        and order.payment_status == PaymentStatus.AUTHORIZED
        and PaymentPolicy.current().capture_method == CaptureMethod.MANUAL
    ):
        transaction.on_commit(lambda: capture_order.delay(order_id))
