"""`manage.py import_subscriptions --format FORMAT FILE [--dry-run]`: move subscriptions in."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from core.textio import ENCODINGS
from migration.formats import FORMATS
from migration.importer import subscriptions_import
from migration.report import report_lines


class Command(BaseCommand):
    help = "他のプラットフォームの定期購入を取り込みます。--dry-run で確認のみ（何も書き込みません）。"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("file", help="取り込む CSV ファイル")
        parser.add_argument("--format", required=True, choices=sorted(FORMATS), help="ファイルの形式")
        parser.add_argument(
            "--dry-run", action="store_true", help="確認のみ: 問題と件数を表示し、何も書き込みません"
        )
        parser.add_argument(
            "--encoding", default="auto", choices=ENCODINGS, help="文字コード（既定: 自動判別）"
        )

    def handle(self, *args, **options) -> None:
        try:
            with open(options["file"], "rb") as stream:
                report = subscriptions_import(
                    stream=stream,
                    format=options["format"],
                    dry_run=options["dry_run"],
                    encoding=options["encoding"],
                )
        except OSError as exc:
            raise CommandError(f"{options['file']}: {exc.strerror}") from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for line in report_lines(report):
            self.stdout.write(line)
        if report.errors:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
