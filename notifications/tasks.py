"""Thin Celery tasks for the mail outbox (beat runs them; see the 0007 migration's entry)."""

from __future__ import annotations

from celery import shared_task

from .services import notification_deliver_many, notification_retry_failed


@shared_task(name="notifications.retry_failed_mails", soft_time_limit=240, time_limit=300)
def retry_failed_mails() -> int:
    """Every 15 minutes (beat): failed mails are tried again, each at most MAX_RETRIES times, so a mail
    server that was down for a while catches up without staff pressing 再試行."""
    return notification_retry_failed()


@shared_task(name="notifications.deliver_mails", acks_late=True, soft_time_limit=240, time_limit=300)
def deliver_mails(notification_ids: list[int]) -> int:
    """Mail (rendering them first when written by reference) the given pending notices; a second
    delivery finds them sent and does nothing."""
    return notification_deliver_many(ids=notification_ids)
