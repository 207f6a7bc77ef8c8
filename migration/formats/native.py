"""The engine's own CSV: one row per subscription, every column the engine keeps.

Dates are YYYY-MM-DD shop dates; lists are separated by ";". This is the format that loses nothing,
so export → import gives the same subscriptions back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from core.textio import CsvRow

from .. import cells
from ..record import Problem, SourceSubscription
from . import base
from .base import Column, RowReader, items_text

NAME = "native"

COLUMNS = [
    Column("handle", "この定期購入の移行元での番号・ID。2回目以降の取り込みはこれで同じ定期購入と判断します", True),
    Column("email", "お客様のメールアドレス（ログインID）。同じアドレスのお客様がいればその方に追加します", True),
    Column("name", "お客様の氏名（姓と名の間に半角スペース）", True),
    Column("name_kana", "氏名（カナ）"),
    Column("phone", "お客様の電話番号"),
    Column("customer_group", "顧客グループのコード（会員ランク価格）。空なら無し"),
    Column("blacklisted", "1: ブラックリスト顧客（受注は保留で作成されます）"),
    Column("recipient_name", "お届け先氏名。空ならお客様の氏名"),
    Column("postal_code", "お届け先郵便番号（7桁、ハイフン有無どちらでも）", True),
    Column("prefecture", "都道府県（例: 東京都）", True),
    Column("city", "市区町村", True),
    Column("line1", "番地", True),
    Column("line2", "建物名・部屋番号"),
    Column("address_phone", "お届け先電話番号"),
    Column("remote_island", "1: 離島"),
    Column("address_invalid", "1: 住所不備（要対応）"),
    Column("course_code", "定期コースのコード", True),
    Column("items", "商品と数量を「SKU:数量」で、複数は「;」区切り（例: AOJIRU-30:1;SHAKER-01:1）", True),
    Column("status", "active（継続中）/ paused（休止中）/ suspended（停止中）/ cancelled（解約済み）", True),
    Column("cycle_unit", "周期の単位: day / week / month", True),
    Column("cycle_interval", "周期の間隔（例: 2 と month で2ヶ月ごと）", True),
    Column("cycle_day_of_month", "月周期のお届け日: 1〜31 または last（末日）。31日指定は短い月で末日になり、翌月は31日に戻ります"),
    Column("cycle_nth_week", "月周期の第n週: 1〜4 または last（最終週）。cycle_weekday と一緒に"),
    Column("cycle_weekday", "曜日: mon〜sun（第n週と一緒に）"),
    Column("next_delivery_date", "次回お届け日（YYYY-MM-DD）。この日がそのまま次回になります", True),
    Column("next_sequence", "次回が何回目のお届けか（スキップを含む通し番号）。空なら delivery_count + 1"),
    Column("delivery_count", "定期回数: これまでにお届けした回数。次回は delivery_count + 1 回目の価格になります", True),
    Column("orders_created", "定期内受注数。空なら delivery_count"),
    Column("skipped_dates", "次回より後でスキップ済みのお届け日（YYYY-MM-DD、「;」区切り）"),
    Column("time_slot", "お届け時間帯: 空 / 08-12 / 14-16 / 16-18 / 18-20 / 19-21"),
    Column("payment_kind", "支払方法: card / bank_transfer / konbini / cod", True),
    Column("stripe_customer_id", "card のとき: Stripe の顧客ID（cus_…）"),
    Column("stripe_payment_method_id", "card のとき: Stripe の PaymentMethod ID（pm_…）。取り込み前に Stripe で確認します"),
    Column("paused_until", "休止中のとき: 再開予定日（YYYY-MM-DD、空なら未定）"),
    Column("cancelled_on", "解約済みのとき: 解約日（YYYY-MM-DD）"),
    Column("cancel_reason", "解約理由のコード（too_much_stock / price / not_effective / moving / other_product / shop_decision / payment / other）"),
    Column("suspended_reason", "停止中のとき: 停止理由"),
    Column("points_reservation", "ポイント予約: none / all / amount"),
    Column("points_reservation_amount", "amount のときの予約ポイント数"),
    Column("needs_attention", "要対応理由のコード（blacklisted / payment_failed / stock_short / bad_address / needs_authentication、「;」区切り）"),
    Column("remarks", "備考"),
]  # fmt: skip

# Which column holds each SourceSubscription field, for problems found after reading.
FIELD_COLUMNS = {column.name: column.name for column in COLUMNS}
FIELD_COLUMNS.update({"sequence": "next_sequence"})


def header() -> list[str]:
    return [column.name for column in COLUMNS]


def parse_items(value: str) -> list[tuple[str, int]]:
    items = []
    for part in cells.text(value).split(";"):
        if not part.strip():
            continue
        sku, _sep, quantity = part.strip().rpartition(":")
        if not sku:
            sku, quantity = quantity, "1"
        items.append((sku.strip(), cells.parse_int(quantity, low=1, high=999)))
    return items


def missing_columns(names: list[str]) -> list[Problem]:
    return base.missing_columns(names, COLUMNS)


def read(rows: Iterable[CsvRow]) -> Iterator[tuple[SourceSubscription | None, list[Problem]]]:
    """One subscription per row."""
    for row in rows:
        problems: list[Problem] = []
        yield _record(RowReader(row, problems, cells.text(row.cells.get("handle")))), problems


def _record(r: RowReader) -> SourceSubscription:
    return SourceSubscription(
        handle=r.raw("handle"),
        row=r.row.number,
        email=r.raw("email"),
        name=r.raw("name"),
        name_kana=r.raw("name_kana"),
        phone=r.raw("phone"),
        customer_group=r.raw("customer_group"),
        blacklisted=r.get("blacklisted", cells.parse_bool, False),
        recipient_name=r.raw("recipient_name") or r.raw("name"),
        postal_code=r.raw("postal_code"),
        prefecture=r.raw("prefecture"),
        city=r.raw("city"),
        line1=r.raw("line1"),
        line2=r.raw("line2"),
        address_phone=r.raw("address_phone"),
        remote_island=r.get("remote_island", cells.parse_bool, False),
        address_invalid=r.get("address_invalid", cells.parse_bool, False),
        course_code=r.raw("course_code"),
        items=r.get("items", parse_items, []),
        status=r.raw("status").lower(),
        cycle_unit=r.raw("cycle_unit").lower(),
        cycle_interval=r.get("cycle_interval", lambda v: cells.parse_int(v, default=1, low=1, high=999), 1),
        cycle_day_of_month=r.get("cycle_day_of_month", cells.parse_day_of_month),
        cycle_nth_week=r.get("cycle_nth_week", cells.parse_nth_week),
        cycle_weekday=r.get("cycle_weekday", cells.parse_weekday),
        next_delivery_date=r.get("next_delivery_date", lambda v: cells.parse_date(v, optional=False)),
        next_sequence=r.get("next_sequence", lambda v: cells.parse_int(v, low=1)),
        delivery_count=r.get("delivery_count", lambda v: cells.parse_int(v, default=0), 0),
        orders_created=r.get("orders_created", cells.parse_int),
        skipped_dates=r.get("skipped_dates", cells.parse_date_list, []),
        time_slot=r.raw("time_slot"),
        payment_kind=r.raw("payment_kind").lower(),
        stripe_customer_id=r.raw("stripe_customer_id"),
        stripe_payment_method_id=r.raw("stripe_payment_method_id"),
        paused_until=r.get("paused_until", cells.parse_date),
        cancelled_on=r.get("cancelled_on", cells.parse_date),
        cancel_reason=r.raw("cancel_reason"),
        suspended_reason=r.raw("suspended_reason"),
        points_reservation=r.raw("points_reservation").lower() or "none",
        points_reservation_amount=r.get(
            "points_reservation_amount", lambda v: cells.parse_int(v, default=0), 0
        ),
        needs_attention=[p.strip() for p in r.raw("needs_attention").split(";") if p.strip()],
        remarks=r.raw("remarks"),
    )


def write(record: SourceSubscription) -> list[list[str]]:
    values = {
        **{name: str(getattr(record, name)) for name in FIELD_COLUMNS if hasattr(record, name)},
        "blacklisted": cells.format_bool(record.blacklisted),
        "remote_island": cells.format_bool(record.remote_island),
        "address_invalid": cells.format_bool(record.address_invalid),
        "items": items_text(record.items),
        "cycle_day_of_month": cells.format_day_of_month(record.cycle_day_of_month),
        "cycle_nth_week": cells.format_day_of_month(record.cycle_nth_week),
        "cycle_weekday": cells.format_weekday(record.cycle_weekday),
        "next_delivery_date": cells.format_date(record.next_delivery_date),
        "next_sequence": str(record.sequence),
        "orders_created": str(
            record.orders_created if record.orders_created is not None else record.delivery_count
        ),
        "skipped_dates": ";".join(cells.format_date(d) for d in record.skipped_dates),
        "paused_until": cells.format_date(record.paused_until),
        "cancelled_on": cells.format_date(record.cancelled_on),
        "needs_attention": ";".join(record.needs_attention),
    }
    return [[values[name] for name in header()]]
