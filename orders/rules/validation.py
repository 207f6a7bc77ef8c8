"""The engine's tables with the shop's values, and its message codes in the staff's language."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django.utils.translation import gettext_lazy

from catalog.models import Course, DeliveryMethod
from customers.models import PREFECTURES, CustomerGroup
from notifications.models import MailEvent
from subscriptions.models import TimeSlot

from ..models import OrderStatus, PaymentStatus
from . import engine
from .models import OrderRule

PAYMENT_KINDS = ("card", "bank_transfer", "konbini", "cod")

FIELD_LABELS = {
    "payment_kind": gettext_lazy("支払方法"),
    "payment_status": gettext_lazy("決済状態"),
    "status": gettext_lazy("受注状態"),
    "total": gettext_lazy("合計金額"),
    "items_subtotal": gettext_lazy("商品小計"),
    "item_count": gettext_lazy("商品点数"),
    "skus": gettext_lazy("SKU"),
    "has_preorder": gettext_lazy("予約商品を含む"),
    "fits_mail_bin": gettext_lazy("メール便に収まる"),
    "course": gettext_lazy("定期コース"),
    "sequence": gettext_lazy("定期回数"),
    "first_order": gettext_lazy("初回受注"),
    "customer_repeater": gettext_lazy("リピーター"),
    "customer_blacklisted": gettext_lazy("ブラックリスト顧客"),
    "customer_similar_blacklisted": gettext_lazy("ブラックリスト類似顧客"),
    "customer_group": gettext_lazy("顧客グループ"),
    "is_gift": gettext_lazy("ギフト"),
    "has_comment": gettext_lazy("お客様コメントあり"),
    "prefecture": gettext_lazy("都道府県"),
    "remote_island": gettext_lazy("離島"),
    "delivery_date": gettext_lazy("お届け日"),
    "delivery_weekday": gettext_lazy("お届け曜日"),
    "delivery_days_ahead": gettext_lazy("受注日からお届け日までの日数"),
    "delivery_time_slot": gettext_lazy("お届け時間帯"),
    "delivery_method": gettext_lazy("配送方法"),
    "hold_reasons": gettext_lazy("保留理由"),
    "tags": gettext_lazy("タグ"),
}

ACTION_LABELS = {
    "set_status": gettext_lazy("受注状態を変更"),
    "hold": gettext_lazy("保留にする（理由）"),
    "add_tags": gettext_lazy("タグを追加"),
    "set_delivery_method": gettext_lazy("配送方法を変更"),
    "send_mail": gettext_lazy("メールを送信"),
}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def rule_choices() -> dict[str, Collection[str]]:
    """Allowed values of the choice fields; fields absent here take any text (SKUs, tags)."""
    return {
        "payment_kind": PAYMENT_KINDS,
        "payment_status": PaymentStatus.values,
        "status": OrderStatus.values,
        "course": set(Course.objects.values_list("code", flat=True)),
        "customer_group": set(CustomerGroup.objects.values_list("code", flat=True)),
        "prefecture": PREFECTURES,
        "delivery_weekday": WEEKDAYS,
        "delivery_time_slot": [v for v in TimeSlot.values if v],
        "delivery_method": set(DeliveryMethod.objects.values_list("code", flat=True)),
        "mail_event": MailEvent.values,
    }


_MESSAGES = {
    "condition_not_object": gettext_lazy('条件は {"field", "op", "value"} の形で書いてください。'),
    "condition_unknown_key": gettext_lazy("条件に不明な項目があります: %(keys)s"),
    "unknown_field": gettext_lazy("不明な条件項目です: %(field)s"),
    "unknown_operator": gettext_lazy(
        "条件「%(field)s」に演算子「%(op)s」は使えません（使えるもの: %(allowed)s）。"
    ),
    "value_not_bool": gettext_lazy("条件「%(field)s」の値は true か false です。"),
    "value_not_int": gettext_lazy("条件「%(field)s」の値は整数です。"),
    "value_not_range": gettext_lazy("条件「%(field)s」の値は [下限, 上限] の整数2つです。"),
    "range_reversed": gettext_lazy("条件「%(field)s」の範囲は下限が上限を超えています。"),
    "value_not_date": gettext_lazy("条件「%(field)s」の値は日付（YYYY-MM-DD）です。"),
    "value_not_list": gettext_lazy("条件「%(field)s」の値は1つ以上の文字列のリストです。"),
    "value_not_text": gettext_lazy("条件「%(field)s」の値は文字列です。"),
    "value_unknown": gettext_lazy("条件「%(field)s」に使えない値があります: %(value)s"),
    "conditions_not_list": gettext_lazy("条件はグループのリストです（グループは条件のリスト）。"),
    "group_empty": gettext_lazy("条件グループが空です。"),
    "actions_empty": gettext_lazy("アクションを1つ以上指定してください。"),
    "action_not_object": gettext_lazy('アクションは {"type", "value"} の形で書いてください。'),
    "unknown_action": gettext_lazy("不明なアクションです: %(type)s（使えるもの: %(allowed)s）"),
    "action_bad_value": gettext_lazy("アクション「%(type)s」に使えない値です: %(value)s"),
    "never_matches": gettext_lazy("ルール「%(rule)s」の条件はどの受注にも一致しません。"),
    "shadowed": gettext_lazy(
        "ルール「%(rule)s」は前のルール「%(earlier)s」（一致したら終了）に必ず先に一致するため、実行されません。"
    ),
    "not_paid": gettext_lazy("決済が済んでいないため出荷待ちにできません。"),
    "bad_transition": gettext_lazy("受注状態「%(from)s」から「%(to)s」には変更できません。"),
    "method_does_not_fit": gettext_lazy("商品が配送方法「%(method)s」の条件に収まりません。"),
}


def message_text(code: str, params: dict[str, Any]) -> str:
    template = _MESSAGES.get(code)
    if template is None:
        return code
    try:
        return str(template) % {k: ("" if v is None else v) for k, v in params.items()}
    except (KeyError, TypeError, ValueError):
        return str(template)


def messages_text(messages: Iterable[engine.Message]) -> list[str]:
    return [message_text(code, params) for code, params in messages]


def rule_from_model(rule: OrderRule, *, choices: dict[str, Collection[str]]) -> engine.Rule:
    return engine.parse_rule(
        id=rule.pk,
        name=rule.name,
        conditions=rule.conditions,
        actions=rule.actions,
        stop=rule.stop_after_match,
        choices=choices,
    )


def active_rules(*, choices: dict[str, Collection[str]] | None = None) -> list[engine.Rule]:
    """The shop's active rules in order. A stored rule that no longer validates (a course or delivery
    method deleted since) is left out rather than stopping the night; the editor flags it."""
    stored = list(OrderRule.objects.filter(is_active=True).order_by("position", "id"))
    if stored and choices is None:
        choices = rule_choices()
    rules = []
    for rule in stored:
        try:
            rules.append(rule_from_model(rule, choices=choices))
        except engine.RuleError:
            continue
    return rules


def status_label(value: str) -> str:
    return str(OrderStatus(value).label) if value in OrderStatus.values else value
