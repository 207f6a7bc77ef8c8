"""Downloads: every chart's numbers as CSV (cp932 by default, UTF-8 on request) and the purchase list PDF.

The PDF uses reportlab's built-in Japanese CID font, as orders/documents does: no system font,
and the text stays extractable.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date

from django.http import HttpResponse
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from core.errors import DomainError

from .models import Supplier
from .selectors import PurchaseLine

ENCODINGS = {"cp932": "cp932", "utf-8": "utf-8-sig"}
FONT = "HeiseiKakuGo-W5"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def csv_response(
    name: str, header: Sequence[str], rows: Iterable[Sequence[object]], *, encoding: str = "cp932"
) -> HttpResponse:
    """A CSV download. cp932 (Excel in Japan) by default; a character cp932 cannot hold is written
    as "?" rather than failing the whole file; ?encoding=utf-8 keeps every character."""
    codec = ENCODINGS.get(encoding)
    if codec is None:
        raise DomainError("invalid_encoding", _("encoding は cp932 または utf-8 を指定してください。"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    body = out.getvalue().encode(codec, errors="replace")
    response = HttpResponse(
        body, content_type=f"text/csv; charset={'shift_jis' if codec == 'cp932' else 'utf-8'}"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def purchase_rows(plan: list[tuple[Supplier, list[PurchaseLine]]]) -> tuple[list[str], list[list[object]]]:
    header = [
        _("仕入先"), _("SKU"), _("商品名"), _("発注期限"), _("発注数"), _("発注単位"), _("リードタイム（日）"),
        _("現在庫"), _("入荷予定"), _("在庫切れ予測日"), _("期限超過"),
    ]  # fmt: skip
    rows = [
        [supplier.name, line.sku, line.name, line.order_by.isoformat(), line.quantity, line.order_unit,
         line.lead_time_days, line.stock, line.incoming, line.runs_out.isoformat() if line.runs_out else "",
         _("はい") if line.overdue else ""]
        for supplier, lines in plan
        for line in lines
    ]  # fmt: skip
    return header, rows


def purchase_pdf(plan: list[tuple[Supplier, list[PurchaseLine]]], *, today: date) -> bytes:
    """One page (or more) per supplier: what to order, how many, and by when."""
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height))
    canvas.setTitle(_("発注リスト"))
    margin = 15 * mm
    columns = [
        (_("SKU"), 0, False), (_("商品名"), 35, False), (_("発注期限"), 140, False), (_("発注数"), 175, True),
        (_("発注単位"), 192, True), (_("現在庫"), 212, True), (_("入荷予定"), 232, True),
        (_("在庫切れ予測日"), 250, False),
    ]  # fmt: skip

    def text(x: float, y: float, value: str, size: float = 9, right: bool = False) -> None:
        canvas.setFont(FONT, size)
        (canvas.drawRightString if right else canvas.drawString)(x, y, value)

    if not plan:
        text(margin, height - margin, _("発注リスト"), 16)
        text(margin, height - margin - 24, _("予測期間内に発注が必要な商品はありません。"), 10)
    for supplier, lines in plan:
        y = height - margin
        text(margin, y, _("発注リスト"), 16)
        text(width - margin, y, _("作成日: %(day)s") % {"day": today.isoformat()}, 9, right=True)
        y -= 22
        text(
            margin, y, f"{supplier.name}　{supplier.contact}　{supplier.email}　{supplier.phone}".strip(), 11
        )
        y -= 20
        for label, offset, right in columns:
            text(margin + offset * mm + (15 * mm if right else 0), y, label, 9, right=right)
        y -= 4
        canvas.line(margin, y, width - margin, y)
        for line in lines:
            y -= 14
            if y < margin:
                canvas.showPage()
                y = height - margin
            values = [
                line.sku, line.name[:40], line.order_by.isoformat() + (" ！" if line.overdue else ""),
                f"{line.quantity:,}", f"{line.order_unit:,}", f"{line.stock:,}", f"{line.incoming:,}",
                line.runs_out.isoformat() if line.runs_out else "—",
            ]  # fmt: skip
            for (_label, offset, right), value in zip(columns, values, strict=True):
                text(margin + offset * mm + (15 * mm if right else 0), y, value, 9, right=right)
        y -= 24
        text(
            margin,
            max(y, margin),
            _("！: 発注期限を過ぎています。至急発注してください（入荷は在庫切れ予測日より遅れます）。"),
            8,
        )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
