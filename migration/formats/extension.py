"""Columns the engine adds to the Shopify and WooCommerce files for what those platforms' CSVs do not
carry (course code, the delivery counter, a month cycle's day, skipped dates, stored Stripe ids…).

Both platforms' importers ignore columns they do not know, so an exported file still loads there;
on import each column is optional: when absent, the value comes from the platform's own columns or
the default named here.
"""

from __future__ import annotations

from .. import cells
from ..record import SourceSubscription
from .base import Column, RowReader

PREFIX = "teiki_"

COLUMNS = [
    Column("teiki_customer_name", "お客様の氏名（空ならお届け先の姓名）"),
    Column("teiki_name_kana", "氏名（カナ）"),
    Column("teiki_phone", "お客様の電話番号"),
    Column("teiki_customer_group", "顧客グループのコード"),
    Column("teiki_blacklisted", "1: ブラックリスト顧客"),
    Column("teiki_course_code", "定期コースのコード（必須）"),
    Column("teiki_status", "状態（active / paused / suspended / cancelled）。あればプラットフォームの状態より優先"),
    Column("teiki_day_of_month", "月周期のお届け日（1〜31 / last）。空なら次回お届け日の日"),
    Column("teiki_nth_week", "月周期の第n週（1〜4 / last）"),
    Column("teiki_weekday", "第n週の曜日（mon〜sun）"),
    Column("teiki_next_sequence", "次回が何回目のお届けか（空なら teiki_delivery_count + 1）"),
    Column("teiki_delivery_count", "定期回数: これまでのお届け回数（空なら0）"),
    Column("teiki_orders_created", "定期内受注数（空なら teiki_delivery_count）"),
    Column("teiki_skipped_dates", "次回より後のスキップ済みお届け日（「;」区切り）"),
    Column("teiki_time_slot", "お届け時間帯（08-12 など）"),
    Column("teiki_payment_kind", "支払方法（card / bank_transfer / konbini / cod）。あればプラットフォームの支払方法より優先"),
    Column("teiki_stripe_customer_id", "Stripe の顧客ID（cus_…）"),
    Column("teiki_stripe_payment_method_id", "Stripe の PaymentMethod ID（pm_…）"),
    Column("teiki_remote_island", "1: 離島"),
    Column("teiki_address_invalid", "1: 住所不備"),
    Column("teiki_paused_until", "休止中の再開予定日"),
    Column("teiki_cancelled_on", "解約日"),
    Column("teiki_cancel_reason", "解約理由のコード"),
    Column("teiki_suspended_reason", "停止理由"),
    Column("teiki_points_reservation", "ポイント予約（none / all / amount）"),
    Column("teiki_points_reservation_amount", "予約ポイント数"),
    Column("teiki_needs_attention", "要対応理由のコード（「;」区切り）"),
    Column("teiki_remarks", "備考"),
]  # fmt: skip

FIELD_COLUMNS = {
    "name": "teiki_customer_name",
    "name_kana": "teiki_name_kana",
    "phone": "teiki_phone",
    "customer_group": "teiki_customer_group",
    "course_code": "teiki_course_code",
    "cycle_day_of_month": "teiki_day_of_month",
    "cycle_nth_week": "teiki_nth_week",
    "cycle_weekday": "teiki_weekday",
    "sequence": "teiki_next_sequence",
    "skipped_dates": "teiki_skipped_dates",
    "time_slot": "teiki_time_slot",
    "stripe_customer_id": "teiki_stripe_customer_id",
    "stripe_payment_method_id": "teiki_stripe_payment_method_id",
    "cancel_reason": "teiki_cancel_reason",
    "points_reservation": "teiki_points_reservation",
    "needs_attention": "teiki_needs_attention",
}


def apply(r: RowReader, record: SourceSubscription) -> None:
    """Set the fields whose extension column is present and not empty."""

    def has(column: str) -> bool:
        return bool(r.raw(column))

    for column, attr in (
        ("teiki_customer_name", "name"), ("teiki_name_kana", "name_kana"), ("teiki_phone", "phone"),
        ("teiki_customer_group", "customer_group"), ("teiki_course_code", "course_code"),
        ("teiki_time_slot", "time_slot"), ("teiki_cancel_reason", "cancel_reason"),
        ("teiki_suspended_reason", "suspended_reason"), ("teiki_remarks", "remarks"),
        ("teiki_stripe_customer_id", "stripe_customer_id"),
        ("teiki_stripe_payment_method_id", "stripe_payment_method_id"),
    ):  # fmt: skip
        if has(column):
            setattr(record, attr, r.raw(column))
    for column, attr in (("teiki_status", "status"), ("teiki_payment_kind", "payment_kind"),
                         ("teiki_points_reservation", "points_reservation")):  # fmt: skip
        if has(column):
            setattr(record, attr, r.raw(column).lower())
    record.blacklisted = r.get("teiki_blacklisted", cells.parse_bool, False)
    record.remote_island = r.get("teiki_remote_island", cells.parse_bool, False)
    record.address_invalid = r.get("teiki_address_invalid", cells.parse_bool, False)
    if has("teiki_day_of_month"):
        record.cycle_day_of_month = r.get("teiki_day_of_month", cells.parse_day_of_month)
    record.cycle_nth_week = r.get("teiki_nth_week", cells.parse_nth_week)
    record.cycle_weekday = r.get("teiki_weekday", cells.parse_weekday)
    record.next_sequence = r.get("teiki_next_sequence", lambda v: cells.parse_int(v, low=1))
    record.delivery_count = r.get("teiki_delivery_count", lambda v: cells.parse_int(v, default=0), 0)
    record.orders_created = r.get("teiki_orders_created", cells.parse_int)
    record.skipped_dates = r.get("teiki_skipped_dates", cells.parse_date_list, [])
    record.paused_until = r.get("teiki_paused_until", cells.parse_date)
    record.cancelled_on = r.get("teiki_cancelled_on", cells.parse_date)
    record.points_reservation_amount = r.get(
        "teiki_points_reservation_amount", lambda v: cells.parse_int(v, default=0), 0
    )
    record.needs_attention = [p.strip() for p in r.raw("teiki_needs_attention").split(";") if p.strip()]


def values(record: SourceSubscription) -> dict[str, str]:
    return {
        "teiki_customer_name": record.name,
        "teiki_name_kana": record.name_kana,
        "teiki_phone": record.phone,
        "teiki_customer_group": record.customer_group,
        "teiki_blacklisted": cells.format_bool(record.blacklisted),
        "teiki_course_code": record.course_code,
        "teiki_status": record.status,
        "teiki_day_of_month": cells.format_day_of_month(record.cycle_day_of_month),
        "teiki_nth_week": cells.format_day_of_month(record.cycle_nth_week),
        "teiki_weekday": cells.format_weekday(record.cycle_weekday),
        "teiki_next_sequence": str(record.sequence),
        "teiki_delivery_count": str(record.delivery_count),
        "teiki_orders_created": str(
            record.orders_created if record.orders_created is not None else record.delivery_count
        ),
        "teiki_skipped_dates": ";".join(cells.format_date(d) for d in record.skipped_dates),
        "teiki_time_slot": record.time_slot,
        "teiki_payment_kind": record.payment_kind,
        "teiki_stripe_customer_id": record.stripe_customer_id,
        "teiki_stripe_payment_method_id": record.stripe_payment_method_id,
        "teiki_remote_island": cells.format_bool(record.remote_island),
        "teiki_address_invalid": cells.format_bool(record.address_invalid),
        "teiki_paused_until": cells.format_date(record.paused_until),
        "teiki_cancelled_on": cells.format_date(record.cancelled_on),
        "teiki_cancel_reason": record.cancel_reason,
        "teiki_suspended_reason": record.suspended_reason,
        "teiki_points_reservation": record.points_reservation,
        "teiki_points_reservation_amount": str(record.points_reservation_amount),
        "teiki_needs_attention": ";".join(record.needs_attention),
        "teiki_remarks": record.remarks,
    }
