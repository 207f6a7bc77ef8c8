"""Bulk-print invoices or delivery slips before shipping: one PDF, a page (or more) per order.

python manage.py print_documents --kind slip --delivery-date 2027-03-15 --out slips.pdf
python manage.py print_documents --kind invoice --order 12 13 --out invoices.pdf   # or --order 12 --order 13
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from orders.documents.render import DocumentKind, documents_render, orders_for_documents
from orders.models import OrderStatus


class Command(BaseCommand):
    help = "Write the invoices (適格請求書) or delivery slips (納品書) of the selected orders to one PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=DocumentKind.values)
        # Both spellings a person types: --order 12 13 and --order 12 --order 13.
        parser.add_argument(
            "--order", type=int, nargs="+", action="extend", dest="order_ids", metavar="ID", default=[]
        )
        parser.add_argument("--delivery-date", type=date.fromisoformat, metavar="YYYY-MM-DD")
        parser.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")

    def handle(
        self,
        *args: object,
        kind: str,
        order_ids: list[int],
        delivery_date: date | None,
        out: Path,
        **options: object,
    ) -> None:
        if not order_ids and delivery_date is None:
            raise CommandError("--order か --delivery-date で対象の受注を指定してください。")
        orders = orders_for_documents().order_by("delivery_date", "pk")
        if order_ids:
            orders = orders.filter(pk__in=order_ids)
            missing = sorted(set(order_ids) - {o.pk for o in orders})
            if missing:
                raise CommandError(f"存在しない受注IDがあります: {', '.join(map(str, missing))}")
        if delivery_date is not None:
            orders = orders.filter(delivery_date=delivery_date).exclude(
                status__in=(OrderStatus.CANCELLED, OrderStatus.RETURNED)
            )
        selected = list(orders)
        if not selected:
            raise CommandError("対象の受注がありません。")
        try:
            pdf = documents_render(orders=selected, kind=kind)
        except DomainError as error:
            raise CommandError(error.message) from error
        out.write_bytes(pdf)
        self.stdout.write(f"{len(selected)}件の{DocumentKind(kind).label}を {out} に書き出しました。")
