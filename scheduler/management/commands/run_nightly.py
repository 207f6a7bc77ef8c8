"""`python manage.py run_nightly [--date YYYY-MM-DD] [--dry-run]`: the whole night, in this process.

The last line on stdout is a JSON object with the counters. A stage that could not run (the broker
down for the charges) is listed under `stages_not_run` with its reason, the later stages still run,
and the command exits with status 1. --dry-run runs exactly the same code
inside one transaction that is rolled back at the end: the figures are what a real run would do,
nothing is written, and no email leaves (notices are mailed on commit, and there is none).
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from billing.stages import simulate
from scheduler.generation import BatchResult, count_due
from scheduler.pipeline import STAGES_NOT_RUN, run_pipeline
from subscriptions.selectors import today_in_shop


class _DryRunRollback(Exception):
    pass


class ProgressBar:
    """A one-line bar on stderr, only when stderr is a terminal (never in logs or pipes)."""

    def __init__(self, total: int, stream=None) -> None:  # noqa: ANN001
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()

    def __call__(self, result: BatchResult) -> None:
        self.done += result.due
        if not self.enabled:
            return
        share = min(self.done / self.total, 1.0)
        filled = int(share * 30)
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done:,}/{self.total:,} ")
        if self.done >= self.total:
            self.close()  # end the line before the later stages log
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False


class Command(BaseCommand):
    help = (
        "Run the nightly pipeline (resume, generate orders, later stages) for a date; --dry-run simulates it."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--date", dest="run_date", help="YYYY-MM-DD (default: today in the shop's time zone)"
        )
        parser.add_argument("--dry-run", action="store_true", help="simulate: everything is rolled back")
        parser.add_argument(
            "--batch-size", type=int, default=None, help="rows per batch (NIGHTLY_BATCH_SIZE)"
        )
        parser.add_argument(
            "--workers", type=int, default=1, help="generation lanes in threads (not with --dry-run)"
        )

    def handle(  # noqa: ANN002, ANN003
        self, *args, run_date: str | None, dry_run: bool, batch_size: int | None, workers: int, **options
    ) -> None:
        day = _parse_date(run_date) if run_date else today_in_shop()
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be 1 or more")
        if workers < 1 or (dry_run and workers > 1):
            raise CommandError("--workers must be 1 or more, and 1 with --dry-run (one transaction)")
        bar = ProgressBar(count_due(day))
        counters: dict = {}
        try:
            with transaction.atomic() if dry_run else nullcontext(), simulate() if dry_run else nullcontext():
                counters = run_pipeline(
                    run_date=day,
                    batch_size=batch_size or settings.NIGHTLY_BATCH_SIZE,
                    progress=bar,
                    workers=workers,
                )
                if dry_run:
                    raise _DryRunRollback
        except _DryRunRollback:
            pass
        finally:
            bar.close()
        counters["dry_run"] = dry_run
        self.stdout.write(json.dumps(counters, ensure_ascii=False))
        not_run = counters.get(STAGES_NOT_RUN)
        if not_run:
            # The report is out (its last line); the exit status tells cron and monitoring.
            raise CommandError(f"stages that could not run: {', '.join(sorted(not_run))}", returncode=1)


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"invalid --date {value!r}: expected YYYY-MM-DD") from None
