"""A timeline event's before/after in words for the admin: 次回お届け日 2027年2月5日（金） → 2027年3月5日（金）
rather than the stored JSON.

Each key is named by the Subscription field it snapshots (its verbose name) or by the table below
for the keys the services and the nightly run add; each value is shown as the shop reads it
(choice labels, dates with their weekday, delivery numbers, product names).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import CycleUnit, Product
from core.formats import format_date

from .models import (
    AttentionReason,
    CancelReason,
    CycleChangeMode,
    PointsReservation,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
    TimeSlot,
)

MISSING = object()
EMPTY = "—"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Keys that are not a Subscription field of the same name.
KEY_LABELS = {
    "order_id": _("受注"),
    "sequence": _("お届け回"),
    "delivery_date": _("お届け日"),
    "hold_reasons": _("保留理由"),
    "moved_from": _("変更前のお届け日"),
    "moved_to": _("変更後のお届け日"),
    "skipped_sequence": _("スキップした回"),
    "short_product_ids": _("在庫不足の商品"),
    "mode": _("周期変更の方式"),
    "date_moved": _("お届け日の移動"),
    "items": _("商品と数量"),
    "addons": _("ついで買い（次回のみ）"),
}

_CHOICES: dict[str, Mapping[str, Any]] = {
    "status": dict(SubscriptionStatus.choices),
    "delivery_time_slot": dict(TimeSlot.choices),
    "points_reservation": dict(PointsReservation.choices),
    "cycle_unit": dict(CycleUnit.choices),
    "cancel_reason": dict(CancelReason.choices),
    "mode": dict(CycleChangeMode.choices),
}


def key_label(key: str) -> str:
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
    name = key[:-3] if key.endswith("_id") else key
    try:
        return str(Subscription._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return key


def _sequences(values: list[Any]) -> str:
    return "、".join(gettext("%(n)s回目") % {"n": n} for n in values) or EMPTY


def _reasons(values: list[Any]) -> str:
    labels = dict(AttentionReason.choices)
    return "、".join(str(labels.get(v, v)) for v in values) or EMPTY


def _products(names: Callable[[list[int]], dict[int, str]]) -> Callable[[Any], str]:
    def show(value: Any) -> str:
        if isinstance(value, Mapping):  # {"product id": quantity}
            found = names([int(pid) for pid in value])
            return (
                "、".join(f"{found.get(int(pid), f'#{pid}')} × {qty}" for pid, qty in value.items()) or EMPTY
            )
        found = names([int(pid) for pid in value])
        return "、".join(found.get(int(pid), f"#{pid}") for pid in value) or EMPTY

    return show


def value_text(key: str, value: Any, *, product_names: Callable[[list[int]], dict[int, str]]) -> str:
    """One stored value in words."""
    if value is None or value == "" or value is MISSING:
        return EMPTY
    if isinstance(value, bool):
        return gettext("はい") if value else gettext("いいえ")
    if key in _CHOICES:
        return str(_CHOICES[key].get(value, value))
    if key == "cycle_weekday":
        return str(WEEKDAYS[int(value)])
    if key in ("cycle_day_of_month", "cycle_nth_week") and value == -1:
        return gettext("最終")
    if key in ("skipped_sequences",):
        return _sequences(value)
    if key in ("needs_attention", "hold_reasons"):
        return _reasons(value)
    if key in ("items", "addons", "short_product_ids"):
        return _products(product_names)(value)
    if key in ("sequence", "next_sequence", "skipped_sequence", "anchor_sequence"):
        return gettext("%(n)s回目") % {"n": value}
    if key.endswith("_id") or key == "order_id":
        return f"#{value}"
    if isinstance(value, str) and _ISO_DATE.match(value):
        return format_date(date.fromisoformat(value), weekday=True)
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or EMPTY
    return str(value)


def _product_names(ids: list[int]) -> dict[int, str]:
    return dict(Product.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def event_changes(
    event: SubscriptionEvent, *, product_names: Callable[[list[int]], dict[int, str]] = _product_names
) -> list[tuple[str, str, str]]:
    """(label, before, after) for every key whose value changed (or exists on one side only)."""
    before, after = event.before or {}, event.after or {}
    rows = []
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key, MISSING), after.get(key, MISSING)
        if old == new:
            continue
        rows.append(
            (
                key_label(key),
                value_text(key, old, product_names=product_names),
                value_text(key, new, product_names=product_names),
            )
        )
    return rows
