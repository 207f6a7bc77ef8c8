"""python manage.py retry_failed_mails [--max-retries N] — for cron or a beat entry."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from notifications.services import MAX_RETRIES, notification_retry_failed


class Command(BaseCommand):
    help = "送信に失敗したメールを再試行します（1通につき最大 --max-retries 回）。"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--max-retries", type=int, default=MAX_RETRIES)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        count = notification_retry_failed(max_retries=options["max_retries"])
        self.stdout.write(f"retried {count} failed mail(s)")
