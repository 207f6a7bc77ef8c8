"""python manage.py import_order_updates FILE [--dry-run] [--encoding auto|cp932|utf-8]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backoffice.order_updates import order_updates_import


class Command(BaseCommand):
    help = "受注の一括更新CSV（受注番号, 対応状況, 発送日, 配送業者, 配送伝票番号）を取り込みます。"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="確認のみ（何も書き込みません）")
        parser.add_argument("--encoding", choices=["auto", "cp932", "utf-8"], default="auto")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        with path.open("rb") as stream:
            report = order_updates_import(
                stream=stream, encoding=options["encoding"], dry_run=options["dry_run"]
            )
        for plan in report.rows:
            for column, before, after in plan.changes:
                self.stdout.write(f"{plan.row}\t{plan.order_number}\t{column}\t{before} -> {after}")
        for error in report.errors:
            self.stderr.write(f"{error.row}\t{error.column}\t{error.message}")
        self.stdout.write(f"{report.summary()} ({report.encoding})")
        if report.errors:
            raise CommandError(f"{len(report.errors)} error(s)", returncode=2)
