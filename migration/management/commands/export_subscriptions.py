"""`manage.py export_subscriptions --format FORMAT --out FILE`: every subscription, in an import format."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from migration.exporter import subscriptions_export
from migration.formats import FORMATS


class Command(BaseCommand):
    help = "すべての定期購入を、取り込みと同じ形式の CSV に書き出します。"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--format", required=True, choices=sorted(FORMATS), help="ファイルの形式")
        parser.add_argument("--out", required=True, help="書き出す CSV ファイル（- で標準出力）")
        parser.add_argument(
            "--encoding",
            default="utf-8",
            choices=("utf-8", "cp932"),
            help="文字コード（既定: UTF-8、BOM 付き）",
        )

    def handle(self, *args, **options) -> None:
        try:
            if options["out"] == "-":
                count = subscriptions_export(
                    out=self.stdout._out.buffer, format=options["format"], encoding=options["encoding"]
                )
            else:
                with open(options["out"], "wb") as out:
                    count = subscriptions_export(
                        out=out, format=options["format"], encoding=options["encoding"]
                    )
        except OSError as exc:
            raise CommandError(f"{options['out']}: {exc.strerror}") from exc
        except UnicodeEncodeError as exc:
            raise CommandError(
                f"cp932 で書けない文字があります（{exc.object[exc.start : exc.end]}）。--encoding utf-8 をお使いください。"
            ) from exc
        self.stderr.write(f"{count} 件の定期購入を書き出しました。")
