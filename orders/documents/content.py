"""What each document says, as plain rows of text; render.py only lays them out.

Kept apart from drawing so tests and other outputs (HTML, CSV) can use the same wording and numbers.
The fixed text is in the active language: the customer's on the my page (an English invoice for a
customer reading the shop in English), the shop's in the admin and print_documents. Names,
addresses and the issuer stay as stored.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.formats import format_date
from core.money import format_yen
from core.tax import REDUCED_MARK, REDUCED_RATE, tax_summary


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
    return format_date(day) if day else "-"


def _norm(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def is_gift(order) -> bool:  # noqa: ANN001
    """A gift order (flagged, or sent to someone other than the orderer) shows no prices on its slip."""
    return bool(order.is_gift) or _norm(order.ship_name) != _norm(order.customer.name)


def _address_lines(order) -> list[str]:  # noqa: ANN001
    return [
        _("〒%(postal_code)s") % {"postal_code": order.ship_postal_code},
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
    totals = [(_("商品小計"), format_yen(order.items_subtotal))]
    if order.discount_total:
        totals.append((_("割引"), format_yen(-order.discount_total)))
    if order.shipping_fee:
        totals.append((_("送料"), format_yen(order.shipping_fee)))
    if getattr(order, "wrapping_fee", 0):
        totals.append((_("ギフト包装料"), format_yen(order.wrapping_fee)))
    if order.cod_fee:
        totals.append((_("代引手数料"), format_yen(order.cod_fee)))
    if order.points_used:
        totals.append((_("ポイント利用"), format_yen(-order.points_used)))
    totals.append((_("ご請求金額（税込）"), format_yen(order.total)))
    summary = order_tax_summary(order, lines)
    # Standard rate first; JSONB does not keep the stored key order.
    for rate in sorted(summary, key=lambda r: -int(r)):
        row = summary[rate]
        totals.append(
            (
                _("%(rate)s%%対象") % {"rate": rate},
                _("%(base)s（内消費税 %(tax)s）")
                % {"base": format_yen(row["base"]), "tax": format_yen(row["tax"])},
            )
        )
    return Document(
        title=_("適格請求書"),
        number_lines=[
            _("注文番号: %(number)s") % {"number": order.number},
            _("発行日: %(date)s") % {"date": _jp(issued_on)},
            _("注文日: %(date)s") % {"date": _jp(order.creation_date)},
        ],
        to_lines=[pgettext("addressee", "%(name)s 様") % {"name": order.customer.name}],
        from_lines=[
            issuer.name,
            _("登録番号: %(number)s") % {"number": issuer.registration_number},
            issuer.address,
        ],
        headers=[_("品名"), _("数量"), _("単価（税込）"), _("税率"), _("金額（税込）")],
        rows=rows,
        totals=totals,
        notes=[
            _("※は軽減税率対象"),
            _("金額はすべて税込です。値引き・送料・ポイントは税率ごとに按分しています。"),
        ],
    )


def delivery_slip(order, lines, *, issuer: Issuer) -> Document:  # noqa: ANN001
    gift = is_gift(order)
    if gift:
        headers = [_("品名"), _("数量")]
        rows = [[line.product_name, str(line.quantity)] for line in lines]
        totals: list[tuple[str, str]] = []
    else:
        headers = [_("品名"), _("数量"), _("単価（税込）"), _("金額（税込）")]
        rows = [
            [line.product_name, str(line.quantity), format_yen(line.unit_price), format_yen(line.line_total)]
            for line in lines
        ]
        totals = [(_("合計（税込）"), format_yen(order.total))]
    return Document(
        title=_("納品書"),
        number_lines=[
            _("注文番号: %(number)s") % {"number": order.number},
            _("お届け日: %(date)s") % {"date": _jp(order.delivery_date)},
        ],
        to_lines=[*_address_lines(order), pgettext("addressee", "%(name)s 様") % {"name": order.ship_name}],
        from_lines=[issuer.name, issuer.address],
        headers=headers,
        rows=rows,
        totals=totals,
        notes=[_("ご注文ありがとうございます。下記の通り納品いたします。"), *_gift_notes(order)],
    )


def _gift_notes(order) -> list[str]:  # noqa: ANN001
    notes = []
    if getattr(order, "gift_wrapping", False):
        notes.append(_("ギフト包装あり"))
    if getattr(order, "gift_message", ""):
        notes.append(_("ギフトメッセージ: %(message)s") % {"message": order.gift_message})
    return notes
