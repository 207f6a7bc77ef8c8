"""`python manage.py sweep_outbox`: send what the outbox holds now (as the every-minute beat task does).

Prints a JSON line with the counts; exits with status 1 while the broker is still unreachable.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from notifications.models import OutboxTask, OutboxTaskStatus
from notifications.outbox import outbox_sweep


class Command(BaseCommand):
    help = "Send outbox tasks left pending (broker down) and mails whose delivery never ran."

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        counters = outbox_sweep()
        self.stdout.write(json.dumps(counters))
        if OutboxTask.objects.filter(status=OutboxTaskStatus.PENDING).exists():
            raise CommandError("outbox tasks still pending: is the broker reachable?", returncode=1)
