"""The WooCommerce Subscriptions importer CSV: one row per subscription.

`order_items` holds the line items, `;` between items and `|` between an item's `key:value` pairs
(`product_id:12|name:…|quantity:1|total:980`); the engine matches products by SKU, so each item also
carries `sku:…`. Stored Stripe cards come in `payment_method_post_meta`
(`_stripe_customer_id:cus_…|_stripe_source_id:pm_…`). `next_payment_date` is the next delivery.
Dates are taken by their date part.
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

NAME = "woocommerce"

PLATFORM_COLUMNS = [
    Column("subscription_id", "WooCommerce の定期購入ID。2回目以降の取り込みはこれで同じ定期購入と判断します", True),
    Column("customer_email", "お客様のメールアドレス", True),
    Column("billing_first_name", "お客様の名"),
    Column("billing_last_name", "お客様の姓"),
    Column("billing_phone", "お客様の電話番号"),
    Column("shipping_first_name", "お届け先の名"),
    Column("shipping_last_name", "お届け先の姓"),
    Column("shipping_address_1", "番地", True),
    Column("shipping_address_2", "建物名・部屋番号"),
    Column("shipping_city", "市区町村", True),
    Column("shipping_state", "都道府県（JP13 / 13 / 東京都）", True),
    Column("shipping_postcode", "郵便番号", True),
    Column("shipping_country", "国（JP のみ）"),
    Column("shipping_phone", "お届け先電話番号"),
    Column("subscription_status", "wc-active / wc-on-hold（休止）/ wc-cancelled・wc-expired・wc-pending-cancel（解約）", True),
    Column("start_date", "開始日（取り込みでは使いません）"),
    Column("next_payment_date", "次回の請求日（= 次回お届け日）", True),
    Column("last_payment_date", "前回の請求日（取り込みでは使いません）"),
    Column("end_date", "終了日（取り込みでは使いません）"),
    Column("billing_period", "周期の単位: day / week / month / year（year は12ヶ月ごと）", True),
    Column("billing_interval", "周期の間隔", True),
    Column("order_items", "商品: 「sku:SKU|quantity:数量」を「;」区切り（product_id・name・total は参考）", True),
    Column("order_shipping", "送料（取り込みでは使いません）"),
    Column("order_total", "合計（取り込みでは使いません）"),
    Column("order_currency", "通貨（JPY のみ）"),
    Column("payment_method", "stripe（カード）/ bacs（銀行振込）/ cod（代金引換）/ konbini", True),
    Column("payment_method_post_meta", "カードのとき: _stripe_customer_id:cus_…|_stripe_source_id:pm_…"),
    Column("customer_note", "備考"),
]  # fmt: skip
COLUMNS = PLATFORM_COLUMNS + extension.COLUMNS

FIELD_COLUMNS = {
    **extension.FIELD_COLUMNS,
    "handle": "subscription_id",
    "email": "customer_email",
    "name": "billing_last_name",
    "postal_code": "shipping_postcode",
    "prefecture": "shipping_state",
    "city": "shipping_city",
    "line1": "shipping_address_1",
    "line2": "shipping_address_2",
    "items": "order_items",
    "status": "subscription_status",
    "cycle_unit": "billing_period",
    "cycle_interval": "billing_interval",
    "next_delivery_date": "next_payment_date",
    "payment_kind": "payment_method",
    "stripe_customer_id": "payment_method_post_meta",
    "stripe_payment_method_id": "payment_method_post_meta",
}

STATUS_IN = {
    "active": "active",
    "on-hold": "paused",
    "cancelled": "cancelled",
    "expired": "cancelled",
    "pending-cancel": "cancelled",
}
STATUS_OUT = {
    "active": "wc-active",
    "paused": "wc-on-hold",
    "suspended": "wc-on-hold",
    "cancelled": "wc-cancelled",
}
PAYMENT_IN = {"stripe": "card", "bacs": "bank_transfer", "cod": "cod", "konbini": "konbini"}
PAYMENT_OUT = {v: k for k, v in PAYMENT_IN.items()}


def header() -> list[str]:
    return [column.name for column in COLUMNS]


def missing_columns(names: list[str]) -> list[Problem]:
    return base.missing_columns(names, COLUMNS)


def _pairs(value: str) -> dict[str, str]:
    pairs = {}
    for part in value.split("|"):
        key, _sep, val = part.partition(":")
        pairs[key.strip()] = val.strip()
    return pairs


def parse_order_items(value: str) -> list[tuple[str, int]]:
    items = []
    for entry in cells.text(value).split(";"):
        if not entry.strip():
            continue
        pairs = _pairs(entry)
        if not pairs.get("sku"):
            raise cells.CellError(_("商品ごとに sku:SKU を書いてください（例: sku:AOJIRU-30|quantity:1）。"))
        items.append((pairs["sku"], cells.parse_int(pairs.get("quantity"), default=1, low=1, high=999)))
    return items


def read(rows: Iterable[CsvRow]) -> Iterator[tuple[SourceSubscription | None, list[Problem]]]:
    for row in rows:
        problems: list[Problem] = []
        yield _record(RowReader(row, problems, cells.text(row.cells.get("subscription_id")))), problems


def _record(r: RowReader) -> SourceSubscription:
    name = " ".join(p for p in (r.raw("billing_last_name"), r.raw("billing_first_name")) if p)
    recipient = " ".join(p for p in (r.raw("shipping_last_name"), r.raw("shipping_first_name")) if p)
    unit = r.raw("billing_period").lower()
    interval = r.get("billing_interval", lambda v: cells.parse_int(v, default=1, low=1, high=999), 1)
    if unit == "year":
        unit, interval = "month", interval * 12
    for column, allowed in (("shipping_country", "JP"), ("order_currency", "JPY")):
        value = r.raw(column).upper()
        if value not in ("", allowed):
            r.fail(column, value, _("%(allowed)s のみ取り込めます。") % {"allowed": allowed})
    status = r.raw("subscription_status").lower().removeprefix("wc-")
    payment = r.raw("payment_method").lower()
    meta = _pairs(r.raw("payment_method_post_meta"))
    record = SourceSubscription(
        handle=r.raw("subscription_id"),
        row=r.row.number,
        email=r.raw("customer_email"),
        name=name or recipient,
        phone=r.raw("billing_phone"),
        recipient_name=recipient or name,
        postal_code=r.raw("shipping_postcode"),
        prefecture=_prefecture(r.raw("shipping_state")),
        city=r.raw("shipping_city"),
        line1=r.raw("shipping_address_1"),
        line2=r.raw("shipping_address_2"),
        address_phone=r.raw("shipping_phone"),
        items=r.get("order_items", parse_order_items, []),
        status=STATUS_IN.get(status, status),
        cycle_unit=unit,
        cycle_interval=interval,
        next_delivery_date=r.get("next_payment_date", lambda v: cells.parse_date(v, optional=False)),
        payment_kind=PAYMENT_IN.get(payment, payment),
        stripe_customer_id=meta.get("_stripe_customer_id", ""),
        stripe_payment_method_id=meta.get("_stripe_source_id", ""),
        remarks=r.raw("customer_note"),
    )
    extension.apply(r, record)
    return record


def _prefecture(value: str) -> str:
    code = value.upper().removeprefix("JP-").removeprefix("JP")
    if code.isdigit() and 1 <= int(code) <= len(PREFECTURES):
        return PREFECTURES[int(code) - 1]
    return value


def write(record: SourceSubscription) -> list[list[str]]:
    last, _sep, first = record.name.partition(" ")
    ship_last, _sep, ship_first = record.recipient_name.partition(" ")
    meta = ""
    if record.stripe_payment_method_id:
        meta = f"_stripe_customer_id:{record.stripe_customer_id}|_stripe_source_id:{record.stripe_payment_method_id}"
    values = {
        "subscription_id": record.handle,
        "customer_email": record.email,
        "billing_first_name": first,
        "billing_last_name": last,
        "billing_phone": record.phone,
        "shipping_first_name": ship_first,
        "shipping_last_name": ship_last,
        "shipping_address_1": record.line1,
        "shipping_address_2": record.line2,
        "shipping_city": record.city,
        "shipping_state": f"JP{PREFECTURES.index(record.prefecture) + 1:02d}"
        if record.prefecture in PREFECTURES
        else record.prefecture,
        "shipping_postcode": record.postal_code,
        "shipping_country": "JP",
        "shipping_phone": record.address_phone,
        "subscription_status": STATUS_OUT[record.status],
        "next_payment_date": cells.as_datetime_text(record.next_delivery_date),
        "billing_period": record.cycle_unit,
        "billing_interval": str(record.cycle_interval),
        "order_items": ";".join(f"sku:{sku}|quantity:{quantity}" for sku, quantity in record.items),
        "order_currency": "JPY",
        "payment_method": PAYMENT_OUT.get(record.payment_kind, record.payment_kind),
        "payment_method_post_meta": meta,
        "customer_note": record.remarks,
        **extension.values(record),
    }
    return [[values.get(name, "") for name in header()]]
