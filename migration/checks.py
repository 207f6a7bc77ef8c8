"""Checks a subscription passes before anything is looked up in the database.

Format-neutral: problems name the format's own column through `columns` (field name → column).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from billing.models import PaymentKind
from customers.models import PREFECTURES
from customers.services import POSTAL_CODE, normalise_postal_code
from subscriptions.cycles import MAX_INTERVAL, UNITS, Cycle, CycleError
from subscriptions.models import (
    AttentionReason,
    CancelReason,
    PointsReservation,
    SubscriptionStatus,
    TimeSlot,
)

from .record import Problem, SourceSubscription

# Choice values as sets, once (TextChoices.values builds a new list on every call).
STATUSES = frozenset(SubscriptionStatus.values)
TIME_SLOTS = frozenset(TimeSlot.values)
CANCEL_REASONS = frozenset(CancelReason.values)
POINTS_RESERVATIONS = frozenset(PointsReservation.values)
ATTENTION_REASONS = frozenset(AttentionReason.values)
PAYMENT_KINDS = frozenset(PaymentKind.values)
PREFECTURE_SET = frozenset(PREFECTURES)

REQUIRED_TEXT = {
    "handle": lambda: _("移行元の番号（handle）が空です。"),
    "email": lambda: _("メールアドレスが空です。"),
    "name": lambda: _("お客様の氏名が空です。"),
    "postal_code": lambda: _("郵便番号が空です。"),
    "city": lambda: _("市区町村が空です。"),
    "line1": lambda: _("番地が空です。"),
    "course_code": lambda: _("定期コースのコードが空です。"),
}


class _Collector:
    def __init__(self, record: SourceSubscription, columns: dict[str, str]):
        self.record = record
        self.columns = columns
        self.problems: list[Problem] = []

    def add(self, field: str, message: str, value: object = None) -> None:
        shown = getattr(self.record, field, "") if value is None else value
        self.problems.append(
            Problem(
                self.record.row,
                self.columns.get(field, field),
                "" if shown is None else str(shown),
                message,
                handle=self.record.handle,
            )
        )


def record_cycle(record: SourceSubscription) -> Cycle | None:
    try:
        return Cycle(
            unit=record.cycle_unit,
            interval=record.cycle_interval,
            day_of_month=record.cycle_day_of_month,
            nth_week=record.cycle_nth_week,
            weekday=record.cycle_weekday,
        )
    except CycleError:
        return None


def record_problems(record: SourceSubscription, columns: dict[str, str]) -> list[Problem]:
    c = _Collector(record, columns)
    for field, message in REQUIRED_TEXT.items():
        if not str(getattr(record, field)).strip():
            c.add(field, message())
    if record.email and ("@" not in record.email or " " in record.email.strip()):
        c.add("email", _("メールアドレスの形式が正しくありません。"))
    if record.postal_code and not POSTAL_CODE.match(normalise_postal_code(record.postal_code)):
        c.add("postal_code", _("郵便番号は7桁の数字で入力してください（例: 150-0001）。"))
    if record.prefecture not in PREFECTURE_SET:
        c.add(
            "prefecture",
            _("都道府県「%(value)s」がわかりません（例: 東京都）。") % {"value": record.prefecture},
        )
    if not record.items:
        c.add("items", _("商品が1つもありません。"))
    _check_choices(c, record)
    _check_cycle(c, record)
    _check_payment(c, record)
    if record.next_delivery_date is not None:
        for day in record.skipped_dates:
            if day <= record.next_delivery_date:
                c.add(
                    "skipped_dates",
                    _("スキップ日%(day)sは次回お届け日より後の日付にしてください。")
                    % {"day": day.isoformat()},
                    day.isoformat(),
                )
    return c.problems


def _check_choices(c: _Collector, record: SourceSubscription) -> None:
    if record.status not in STATUSES:
        c.add("status", _("状態は active / paused / suspended / cancelled のいずれかです。"))
    if record.time_slot not in TIME_SLOTS:
        c.add("time_slot", _("お届け時間帯がわかりません（空 / 08-12 / 14-16 / 16-18 / 18-20 / 19-21）。"))
    if record.cancel_reason and record.cancel_reason not in CANCEL_REASONS:
        c.add("cancel_reason", _("解約理由のコードがわかりません。"))
    if record.points_reservation not in POINTS_RESERVATIONS:
        c.add("points_reservation", _("ポイント予約は none / all / amount のいずれかです。"))
    unknown = [code for code in record.needs_attention if code not in ATTENTION_REASONS]
    if unknown:
        c.add("needs_attention", _("要対応理由のコードがわかりません。"), ";".join(unknown))


def _check_cycle(c: _Collector, record: SourceSubscription) -> None:
    if record.cycle_unit not in UNITS:
        c.add(
            "cycle_unit",
            _("周期の単位「%(value)s」は使えません。day（日）/ week（週）/ month（月）のいずれかです。")
            % {"value": record.cycle_unit},
        )
        return
    limit = MAX_INTERVAL[record.cycle_unit]
    if not 1 <= record.cycle_interval <= limit:
        c.add("cycle_interval", _("この単位の周期の間隔は1から%(limit)dまでです。") % {"limit": limit})
        return
    if record_cycle(record) is None:
        c.add(
            "cycle_unit",
            _(
                "周期の指定が矛盾しています（お届け日・第n週・曜日は月周期のみ、第n週と曜日は一緒に指定します）。"
            ),
        )


def _check_payment(c: _Collector, record: SourceSubscription) -> None:
    if record.payment_kind and record.payment_kind not in PAYMENT_KINDS:
        c.add(
            "payment_kind",
            _("支払方法は card / bank_transfer / konbini / cod のいずれか（空なら未設定）です。"),
        )
        return
    if record.payment_kind != PaymentKind.CARD:
        return
    if not record.stripe_customer_id.startswith("cus_"):
        c.add("stripe_customer_id", _("カード払いには Stripe の顧客ID（cus_…）が必要です。"))
    if not record.stripe_payment_method_id.startswith("pm_"):
        c.add("stripe_payment_method_id", _("カード払いには Stripe の PaymentMethod ID（pm_…）が必要です。"))
