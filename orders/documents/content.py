"""What each document says, as plain rows of text; render.py only lays them out.

Kept apart from drawing so tests and other outputs (HTML, CSV) can use the same wording and numbers.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date

from core.formats import jp_date
from core.money import format_yen
from core.tax import REDUCED_LEGEND, REDUCED_MARK, REDUCED_RATE, tax_summary


@dataclass(frozen=True)
class Issuer:
    name: str
    registration_number: str
    address: str = ""


@dataclass
class Document:
    title: str
    number_lines: list[str]  # top right: order number, dates
    to_lines: list[str]  # top left: recipient
    from_lines: list[str]  # issuer (invoice) or shop (slip)
    headers: list[str]
    rows: list[list[str]]
    totals: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _jp(day: date | None) -> str:
    return jp_date(day) if day else "-"


def _norm(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def is_gift(order) -> bool:  # noqa: ANN001
    """A gift order (flagged, or sent to someone other than the orderer) shows no prices on its slip."""
    return bool(order.is_gift) or _norm(order.ship_name) != _norm(order.customer.name)


def _address_lines(order) -> list[str]:  # noqa: ANN001
    return [
        f"〒{order.ship_postal_code}",
        f"{order.ship_prefecture}{order.ship_city}{order.ship_line1}",
        *([order.ship_line2] if order.ship_line2 else []),
    ]


def order_tax_summary(order, lines) -> dict[str, dict[str, int]]:  # noqa: ANN001
    """The stored per-rate summary; orders priced before it existed get it from their lines."""
    if order.tax_summary:
        return order.tax_summary
    bases: dict[int, int] = {}
    for line in lines:
        bases[line.tax_rate] = bases.get(line.tax_rate, 0) + line.line_total
    return tax_summary(bases)


def invoice(order, lines, *, issuer: Issuer, issued_on: date) -> Document:  # noqa: ANN001
    rows = []
    for line in lines:
        mark = f" {REDUCED_MARK}" if line.tax_rate == REDUCED_RATE else ""
        rows.append(
            [
                f"{line.product_name}{mark}",
                str(line.quantity),
                format_yen(line.unit_price),
                f"{line.tax_rate}%",
                format_yen(line.line_total),
            ]
        )
    totals = [("商品小計", format_yen(order.items_subtotal))]
    if order.discount_total:
        totals.append(("割引", format_yen(-order.discount_total)))
    if order.shipping_fee:
        totals.append(("送料", format_yen(order.shipping_fee)))
    if order.cod_fee:
        totals.append(("代引手数料", format_yen(order.cod_fee)))
    if order.points_used:
        totals.append(("ポイント利用", format_yen(-order.points_used)))
    totals.append(("ご請求金額（税込）", format_yen(order.total)))
    summary = order_tax_summary(order, lines)
    # Standard rate first; JSONB does not keep the stored key order.
    for rate in sorted(summary, key=lambda r: -int(r)):
        row = summary[rate]
        totals.append((f"{rate}%対象", f"{format_yen(row['base'])}（内消費税 {format_yen(row['tax'])}）"))
    return Document(
        title="適格請求書",
        number_lines=[
            f"注文番号: {order.number}",
            f"発行日: {_jp(issued_on)}",
            f"注文日: {_jp(order.creation_date)}",
        ],
        to_lines=[f"{order.customer.name} 様"],
        from_lines=[issuer.name, f"登録番号: {issuer.registration_number}", issuer.address],
        headers=["品名", "数量", "単価（税込）", "税率", "金額（税込）"],
        rows=rows,
        totals=totals,
        notes=[REDUCED_LEGEND, "金額はすべて税込です。値引き・送料・ポイントは税率ごとに按分しています。"],
    )


def delivery_slip(order, lines, *, issuer: Issuer) -> Document:  # noqa: ANN001
    gift = is_gift(order)
    if gift:
        headers = ["品名", "数量"]
        rows = [[line.product_name, str(line.quantity)] for line in lines]
        totals: list[tuple[str, str]] = []
    else:
        headers = ["品名", "数量", "単価（税込）", "金額（税込）"]
        rows = [
            [line.product_name, str(line.quantity), format_yen(line.unit_price), format_yen(line.line_total)]
            for line in lines
        ]
        totals = [("合計（税込）", format_yen(order.total))]
    return Document(
        title="納品書",
        number_lines=[f"注文番号: {order.number}", f"お届け日: {_jp(order.delivery_date)}"],
        to_lines=[*_address_lines(order), f"{order.ship_name} 様"],
        from_lines=[issuer.name, issuer.address],
        headers=headers,
        rows=rows,
        totals=totals,
        notes=["ご注文ありがとうございます。下記の通り納品いたします。"],
    )
