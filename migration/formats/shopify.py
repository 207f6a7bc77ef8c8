"""The Shopify Subscriptions contract CSV: one row per line item, rows of a contract grouped by
`handle` (the first row carries the contract, the following ones only handle and line_* columns).

Shopify names products by variant id and customers by Shopify id; the engine matches products by
SKU and customers by e-mail, so the file also carries `line_sku`, `teiki_email` and the extension
columns (formats/extension.py). `upcoming_billing_date` is the next delivery: Shopify bills and
creates the order on that date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _

from core.textio import CsvRow
from customers.models import PREFECTURES

from .. import cells
from ..record import Problem, SourceSubscription
from . import base, extension
from .base import Column, RowReader

NAME = "shopify"

PLATFORM_COLUMNS = [
    Column("handle", "契約を識別する番号。複数商品の契約は同じ handle の行が続きます", True),
    Column("upcoming_billing_date", "次回の請求日（= 次回お届け日）。日付部分を使います", True),
    Column("customer_id", "Shopify の顧客ID（取り込みでは使いません。出力では空）"),
    Column("currency_code", "通貨（JPY のみ）"),
    Column("status", "ACTIVE / PAUSED / CANCELLED（EXPIRED・FAILED は解約済み）", True),
    Column("cadence_interval", "周期の単位: DAY / WEEK / MONTH / YEAR（YEAR は12ヶ月ごと）", True),
    Column("cadence_interval_count", "周期の間隔", True),
    Column("customer_payment_method_id", "Shopify の支払方法ID（取り込みでは使いません）"),
    Column("delivery_price", "送料（取り込みでは使いません。送料はショップ設定で計算します）"),
    Column("delivery_method_type", "SHIPPING のみ"),
    Column("delivery_address_first_name", "お届け先の名"),
    Column("delivery_address_last_name", "お届け先の姓"),
    Column("delivery_address_address1", "番地", True),
    Column("delivery_address_address2", "建物名・部屋番号"),
    Column("delivery_address_phone", "お届け先電話番号"),
    Column("delivery_address_city", "市区町村", True),
    Column("delivery_address_province_code", "都道府県コード（JP-13 / 13 / 東京都）", True),
    Column("delivery_address_country_code", "国（JP のみ）"),
    Column("delivery_address_company", "会社名（取り込みでは使いません）"),
    Column("delivery_address_zip", "郵便番号", True),
    Column("line_variant_id", "Shopify のバリアントID（取り込みでは使いません）"),
    Column("line_sku", "商品の SKU（この列で商品を照合します）", True),
    Column("line_quantity", "数量", True),
    Column("line_current_price", "単価（取り込みでは使いません。価格はコースの回数別価格で決まります）"),
    Column("line_selling_plan_id", "Shopify の販売プランID（取り込みでは使いません）"),
    Column("line_selling_plan_name", "販売プラン名（取り込みでは使いません）"),
    Column("teiki_email", "お客様のメールアドレス（必須。Shopify の CSV にないため追加）", True),
]
COLUMNS = PLATFORM_COLUMNS + extension.COLUMNS

FIELD_COLUMNS = {
    **extension.FIELD_COLUMNS,
    "handle": "handle",
    "email": "teiki_email",
    "name": "delivery_address_last_name",
    "recipient_name": "delivery_address_last_name",
    "postal_code": "delivery_address_zip",
    "prefecture": "delivery_address_province_code",
    "city": "delivery_address_city",
    "line1": "delivery_address_address1",
    "line2": "delivery_address_address2",
    "items": "line_sku",
    "status": "status",
    "cycle_unit": "cadence_interval",
    "cycle_interval": "cadence_interval_count",
    "next_delivery_date": "upcoming_billing_date",
    "payment_kind": "teiki_payment_kind",
}

STATUS_IN = {
    "active": "active",
    "paused": "paused",
    "cancelled": "cancelled",
    "expired": "cancelled",
    "failed": "cancelled",
}
STATUS_OUT = {"active": "ACTIVE", "paused": "PAUSED", "suspended": "PAUSED", "cancelled": "CANCELLED"}
UNIT_IN = {"day": "day", "week": "week", "month": "month"}


def header() -> list[str]:
    return [column.name for column in COLUMNS]


def missing_columns(names: list[str]) -> list[Problem]:
    return base.missing_columns(names, COLUMNS)


def prefecture_from_code(value: str) -> str:
    """JP-13, 13 or 東京都 → 東京都 (JIS X 0401 codes are the index in PREFECTURES + 1)."""
    code = value.upper().removeprefix("JP-").removeprefix("JP")
    if code.isdigit() and 1 <= int(code) <= len(PREFECTURES):
        return PREFECTURES[int(code) - 1]
    return value


def read(rows: Iterable[CsvRow]) -> Iterator[tuple[SourceSubscription | None, list[Problem]]]:
    """Consecutive rows of one handle make one contract."""
    record: SourceSubscription | None = None
    problems: list[Problem] = []
    for row in rows:
        handle = cells.text(row.cells.get("handle"))
        if record is not None and handle == record.handle:
            _add_line(RowReader(row, problems, handle), record)
            continue
        if record is not None:
            yield record, problems
        problems = []
        reader = RowReader(row, problems, handle)
        record = _contract(reader)
        _add_line(reader, record)
    if record is not None:
        yield record, problems


def _add_line(r: RowReader, record: SourceSubscription) -> None:
    sku = r.raw("line_sku")
    quantity = r.get("line_quantity", lambda v: cells.parse_int(v, default=1, low=1, high=999), 1)
    if sku:
        record.items.append((sku, quantity))
    else:
        r.fail("line_sku", "", _("商品の SKU（line_sku）が空です。"))


def _contract(r: RowReader) -> SourceSubscription:
    last, first = r.raw("delivery_address_last_name"), r.raw("delivery_address_first_name")
    name = " ".join(part for part in (last, first) if part)
    unit_text = r.raw("cadence_interval").lower()
    interval = r.get("cadence_interval_count", lambda v: cells.parse_int(v, default=1, low=1, high=999), 1)
    if unit_text == "year":
        unit_text, interval = "month", interval * 12
    country = r.raw("delivery_address_country_code").upper()
    if country not in ("", "JP"):
        r.fail("delivery_address_country_code", country, _("日本国内のお届け先のみ取り込めます。"))
    currency = r.raw("currency_code").upper()
    if currency not in ("", "JPY"):
        r.fail("currency_code", currency, _("通貨は JPY のみ取り込めます。"))
    stripe_pm = r.raw("teiki_stripe_payment_method_id")
    record = SourceSubscription(
        handle=r.raw("handle"),
        row=r.row.number,
        email=r.raw("teiki_email"),
        name=name,
        recipient_name=name,
        postal_code=r.raw("delivery_address_zip"),
        prefecture=prefecture_from_code(r.raw("delivery_address_province_code")),
        city=r.raw("delivery_address_city"),
        line1=r.raw("delivery_address_address1"),
        line2=r.raw("delivery_address_address2"),
        address_phone=r.raw("delivery_address_phone"),
        status=STATUS_IN.get(r.raw("status").lower(), r.raw("status").lower()),
        cycle_unit=UNIT_IN.get(unit_text, unit_text),
        cycle_interval=interval,
        next_delivery_date=r.get("upcoming_billing_date", lambda v: cells.parse_date(v, optional=False)),
        payment_kind="card" if stripe_pm else "",
    )
    extension.apply(r, record)
    return record


def write(record: SourceSubscription) -> list[list[str]]:
    last, _sep, first = record.recipient_name.partition(" ")
    contract = {
        "handle": record.handle,
        "upcoming_billing_date": f"{cells.format_date(record.next_delivery_date)}T00:00:00+09:00",
        "currency_code": "JPY",
        "status": STATUS_OUT[record.status],
        "cadence_interval": record.cycle_unit.upper(),
        "cadence_interval_count": str(record.cycle_interval),
        "delivery_method_type": "SHIPPING",
        "delivery_address_first_name": first,
        "delivery_address_last_name": last,
        "delivery_address_address1": record.line1,
        "delivery_address_address2": record.line2,
        "delivery_address_phone": record.address_phone,
        "delivery_address_city": record.city,
        "delivery_address_province_code": f"JP-{PREFECTURES.index(record.prefecture) + 1:02d}"
        if record.prefecture in PREFECTURES
        else record.prefecture,
        "delivery_address_country_code": "JP",
        "delivery_address_zip": record.postal_code,
        "teiki_email": record.email,
        **extension.values(record),
    }
    rows = []
    for index, (sku, quantity) in enumerate(record.items):
        cells_of_row = contract if index == 0 else {"handle": record.handle}
        line = {**cells_of_row, "line_sku": sku, "line_quantity": str(quantity)}
        rows.append([line.get(name, "") for name in header()])
    return rows
