"""The card-update hook: when a subscription's payment method changes (subscriptions writes a
timeline event for it), billing retries that subscription's failed payments at once."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from subscriptions.models import SubscriptionEvent

PAYMENT_METHOD_CHANGED = "payment_method_changed"


@receiver(post_save, sender=SubscriptionEvent, dispatch_uid="billing.retry_on_new_card")
def retry_on_new_card(sender, instance: SubscriptionEvent, created: bool, **kwargs) -> None:  # noqa: ANN001, ANN003
    if not created or instance.kind != PAYMENT_METHOD_CHANGED:
        return
    from billing.tasks import retry_subscription_payments

    subscription_id = instance.subscription_id
    transaction.on_commit(lambda: retry_subscription_payments.delay(subscription_id))
