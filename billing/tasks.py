"""Thin Celery tasks: ids in, one service call, quiet when the row is gone."""

from __future__ import annotations

from celery import shared_task

from billing.models import PaymentAttemptStatus
from billing.services.charge_batch import payments_charge_batch
from billing.services.dunning_runs import dunning_retry_subscription
from billing.services.payments import payment_cancel_order, payment_capture_order, payment_charge_order
from orders.models import Order


@shared_task(
    name="billing.charge_order",
    bind=True,
    acks_late=True,
    max_retries=5,
    default_retry_delay=60,
    soft_time_limit=60,
    time_limit=90,
)
def charge_order(self, order_id: int) -> str | None:  # noqa: ANN001
    """Charge one order; its gateway call, if any, waits for the global payment rate limit. Delivered twice, it charges once: the
    order's charge lock and its attempt rows make the second delivery a no-op.

    Not Celery's `rate_limit=`: that one is enforced per worker process, so N workers would send N
    times the rate. billing.ratelimit keeps one budget in Redis for all of them.
    """
    attempt = payment_charge_order(order_id=order_id)
    if attempt is None:
        return None
    if attempt.status == PaymentAttemptStatus.UNKNOWN:
        # The gateway did not answer: come back later, reconciliation runs before anything new.
        raise self.retry()
    return attempt.status


@shared_task(
    name="billing.charge_orders",
    bind=True,
    acks_late=True,
    max_retries=5,
    default_retry_delay=60,
    soft_time_limit=120,
    time_limit=150,
)
def charge_orders(self, order_ids: list[int]) -> int:  # noqa: ANN001
    """charge_order for a batch (the nightly fan-out): each order charged once however often the
    batch is delivered; the orders the gateway did not answer for come back later, alone."""
    results = payments_charge_batch(order_ids=order_ids)
    unknown = [i for i, a in results.items() if a is not None and a.status == PaymentAttemptStatus.UNKNOWN]
    if unknown:
        raise self.retry(args=[unknown])
    return sum(a is not None for a in results.values())


@shared_task(name="billing.retry_subscription_payments", acks_late=True, soft_time_limit=120, time_limit=150)
def retry_subscription_payments(subscription_id: int) -> int:
    return len(dunning_retry_subscription(subscription_id=subscription_id))


@shared_task(
    name="billing.settle_cancelled_order",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def settle_cancelled_order(order_id: int) -> str | None:
    """Void or refund the payment of an order that was cancelled or returned (once: the attempt and
    refund rows make a redelivery find nothing left to do)."""
    if not Order.objects.filter(pk=order_id).exists():
        return None
    return payment_cancel_order(order_id=order_id)


@shared_task(
    name="billing.capture_order",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def capture_order(order_id: int) -> str | None:
    """売上確定 at shipment for shops that authorise first."""
    if not Order.objects.filter(pk=order_id).exists():
        return None
    attempt = payment_capture_order(order_id=order_id)
    return attempt.status if attempt else None
