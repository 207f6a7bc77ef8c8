"""CSV out: orders (per order or per line item, chosen columns), subscriptions, customers.

Streamed: rows are read with a server-side cursor (`.values().iterator()`) and written one encoded
line at a time (core.textio.csv_lines), so memory stays flat for a million orders. cp932 by default
(Excel on Windows), UTF-8 on request; characters cp932 cannot hold are replaced with 〓 and counted
in the EncodeReport the caller passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.payment_kinds import PaymentKind
from core.textio import EncodeReport, csv_lines
from customers.models import Customer
from orders.models import Order, OrderLine, OrderStatus, PaymentStatus
from subscriptions.models import Subscription, SubscriptionStatus, TimeSlot


@dataclass(frozen=True)
class Column:
    key: str
    header: Any  # lazy Japanese header
    fields: tuple[str, ...]  # the values() this column reads
    value: Callable[[dict], object]


def _label(choices: type) -> Callable[[object], str]:
    labels = dict(choices.choices)
    return lambda value: str(labels.get(value, value or ""))


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


_status, _payment, _slot = _label(OrderStatus), _label(PaymentStatus), _label(TimeSlot)
_payment_kind = _label(PaymentKind)


def _blank(value: object) -> object:
    return "" if value is None else value


def _order_columns(prefix: str) -> list[Column]:
    """The order columns staff choose from, reading the order's fields through `prefix` (the line
    export reads them from each line's order)."""
    p = prefix

    def col(key: str, header: str, field: str, show: Callable[[Any], object] = _blank) -> Column:
        return Column(key, header, (p + field,), lambda r: show(r[p + field]))

    def address(r: dict) -> str:
        return f"{r[p + 'ship_city']}{r[p + 'ship_line1']} {r[p + 'ship_line2']}".strip()

    return [
        col("number", gettext_lazy("受注番号"), "id", lambda v: f"{v:08d}"),
        col("status", gettext_lazy("対応状況"), "status", _status),
        col("shipped_on", gettext_lazy("発送日"), "shipped_on", _d),
        col("carrier", gettext_lazy("配送業者"), "carrier__name"),
        col("tracking_number", gettext_lazy("配送伝票番号"), "tracking_number"),
        col("order_id", gettext_lazy("受注ID"), "id"),
        col("payment_status", gettext_lazy("決済状況"), "payment_status", _payment),
        col("creation_date", gettext_lazy("受注日"), "creation_date", _d),
        col("delivery_date", gettext_lazy("お届け日"), "delivery_date", _d),
        col("time_slot", gettext_lazy("お届け時間帯"), "delivery_time_slot", _slot),
        col("customer_name", gettext_lazy("注文者氏名"), "customer__name"),
        col("email", gettext_lazy("メールアドレス"), "customer__user__email"),
        col("ship_name", gettext_lazy("お届け先氏名"), "ship_name"),
        col("postal_code", gettext_lazy("郵便番号"), "ship_postal_code"),
        col("prefecture", gettext_lazy("都道府県"), "ship_prefecture"),
        Column(
            "address",
            gettext_lazy("住所"),
            tuple(p + f for f in ("ship_city", "ship_line1", "ship_line2")),
            address,
        ),
        col("phone", gettext_lazy("電話番号"), "ship_phone"),
        col("payment_kind", gettext_lazy("支払方法"), "payment_kind", _payment_kind),
        col("course", gettext_lazy("定期コース"), "subscription__course__name"),
        col("sequence", gettext_lazy("定期回数"), "sequence"),
        col("items_subtotal", gettext_lazy("商品小計"), "items_subtotal"),
        col("shipping_fee", gettext_lazy("送料"), "shipping_fee"),
        col("cod_fee", gettext_lazy("代引手数料"), "cod_fee"),
        col("wrapping_fee", gettext_lazy("ギフト包装料"), "wrapping_fee"),
        col("discount_total", gettext_lazy("割引"), "discount_total"),
        col("points_used", gettext_lazy("利用ポイント"), "points_used"),
        col("total", gettext_lazy("合計"), "total"),
    ]


ORDER_COLUMNS = _order_columns("")
LINE_COLUMNS = _order_columns("order__") + [
    Column("sku", gettext_lazy("商品コード"), ("sku",), lambda r: r["sku"]),
    Column("product_name", gettext_lazy("商品名"), ("product_name",), lambda r: r["product_name"]),
    Column("quantity", gettext_lazy("数量"), ("quantity",), lambda r: r["quantity"]),
    Column("unit_price", gettext_lazy("単価（税込）"), ("unit_price",), lambda r: r["unit_price"]),
    Column("line_total", gettext_lazy("小計（税込）"), ("line_total",), lambda r: r["line_total"]),
]
# What the warehouse needs to ship and to fill the update file back in (the import's columns first).
DEFAULT_ORDER_COLUMNS = (
    "number", "status", "shipped_on", "carrier", "tracking_number", "delivery_date", "time_slot",
    "ship_name", "postal_code", "prefecture", "address", "phone", "payment_kind", "total",
)  # fmt: skip

_CHUNK = 2000


def _pick(columns: list[Column], keys: list[str] | tuple[str, ...] | None) -> list[Column]:
    if not keys:
        return columns
    by_key = {c.key: c for c in columns}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ValueError(_("不明な列です: %(keys)s") % {"keys": ", ".join(unknown)})
    return [by_key[k] for k in keys]


def _stream(
    qs: QuerySet, columns: list[Column], encoding: str, report: EncodeReport | None
) -> Iterator[bytes]:
    fields = sorted({f for c in columns for f in c.fields})
    rows = ([c.value(r) for c in columns] for r in qs.values(*fields).iterator(chunk_size=_CHUNK))
    return csv_lines([str(c.header) for c in columns], rows, encoding=encoding, report=report)


def orders_csv(
    orders: QuerySet[Order],
    *,
    per: str = "order",
    columns: list[str] | tuple[str, ...] | None = DEFAULT_ORDER_COLUMNS,
    encoding: str = "cp932",
    report: EncodeReport | None = None,
) -> Iterator[bytes]:
    """Orders as CSV lines: one row per order, or per line item (per='line', with the item columns)."""
    if per == "line":
        chosen = _pick(
            LINE_COLUMNS,
            [*columns, "sku", "product_name", "quantity", "unit_price", "line_total"] if columns else None,
        )
        qs = OrderLine.objects.filter(order__in=orders.values("pk")).order_by("order_id", "id")
        return _stream(qs, chosen, encoding, report)
    return _stream(orders.order_by("id"), _pick(ORDER_COLUMNS, columns), encoding, report)


_sub_status = _label(SubscriptionStatus)
SUBSCRIPTION_COLUMNS = [
    Column("id", gettext_lazy("定期ID"), ("id",), lambda r: r["id"]),
    Column("status", gettext_lazy("状態"), ("status",), lambda r: _sub_status(r["status"])),
    Column("customer_name", gettext_lazy("顧客名"), ("customer__name",), lambda r: r["customer__name"]),
    Column(
        "email",
        gettext_lazy("メールアドレス"),
        ("customer__user__email",),
        lambda r: r["customer__user__email"],
    ),
    Column("course", gettext_lazy("定期コース"), ("course__name",), lambda r: r["course__name"]),
    Column(
        "cycle",
        gettext_lazy("周期"),
        ("cycle_unit", "cycle_interval"),
        lambda r: f"{r['cycle_interval']} {r['cycle_unit']}",
    ),
    Column(
        "next_delivery_date",
        gettext_lazy("次回お届け日"),
        ("next_delivery_date",),
        lambda r: _d(r["next_delivery_date"]),
    ),
    Column(
        "next_creation_date",
        gettext_lazy("次回受注作成日"),
        ("next_creation_date",),
        lambda r: _d(r["next_creation_date"]),
    ),
    Column(
        "time_slot",
        gettext_lazy("お届け時間帯"),
        ("delivery_time_slot",),
        lambda r: _slot(r["delivery_time_slot"]),
    ),
    Column("cycle_count", gettext_lazy("定期回数"), ("cycle_count",), lambda r: r["cycle_count"]),
    Column(
        "orders_created", gettext_lazy("定期内受注数"), ("orders_created",), lambda r: r["orders_created"]
    ),
]


def subscriptions_csv(
    subscriptions: QuerySet[Subscription], *, encoding: str = "cp932", report: EncodeReport | None = None
) -> Iterator[bytes]:
    return _stream(subscriptions.order_by("id"), SUBSCRIPTION_COLUMNS, encoding, report)


CUSTOMER_COLUMNS = [
    Column("id", gettext_lazy("顧客ID"), ("id",), lambda r: r["id"]),
    Column("name", gettext_lazy("氏名"), ("name",), lambda r: r["name"]),
    Column("name_kana", gettext_lazy("氏名（カナ）"), ("name_kana",), lambda r: r["name_kana"]),
    Column("email", gettext_lazy("メールアドレス"), ("user__email",), lambda r: r["user__email"]),
    Column("phone", gettext_lazy("電話番号"), ("phone",), lambda r: r["phone"]),
    Column("is_member", gettext_lazy("会員"), ("is_member",), lambda r: "1" if r["is_member"] else "0"),
    Column(
        "is_blacklisted",
        gettext_lazy("ブラックリスト"),
        ("is_blacklisted",),
        lambda r: "1" if r["is_blacklisted"] else "0",
    ),
    Column(
        "created_at",
        gettext_lazy("登録日時"),
        ("created_at",),
        lambda r: r["created_at"].isoformat(timespec="seconds"),
    ),
]


def customers_csv(
    customers: QuerySet[Customer], *, encoding: str = "cp932", report: EncodeReport | None = None
) -> Iterator[bytes]:
    return _stream(customers.order_by("id"), CUSTOMER_COLUMNS, encoding, report)


def orders_for_export(
    *, statuses: list[str] | None = None, delivery_from: date | None = None, delivery_to: date | None = None
) -> QuerySet[Order]:
    """The orders an export asks for: statuses, and a delivery-date range (inclusive)."""
    qs = Order.objects.all()
    if statuses:
        qs = qs.filter(status__in=statuses)
    if delivery_from:
        qs = qs.filter(delivery_date__gte=delivery_from)
    if delivery_to:
        qs = qs.filter(delivery_date__lte=delivery_to)
    return qs
