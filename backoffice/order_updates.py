"""一括更新: status, shipping date, carrier and tracking number from a CSV, with a dry run.

Columns (Japanese headers, as the export writes them): 受注番号 (or 受注ID), 対応状況, 発送日, 配送業者,
配送伝票番号; other columns are ignored, an empty cell leaves the field as it is. Each row is
planned against the order as it is now (what would change, or every error with row, column and
message); the dry run stops there and writes nothing. Applying runs each row's plan again inside its
own transaction through the orders services — shipping record first, then the status, so the shipped
mail carries the tracking link — and a row that now plans no change writes nothing: the same file
imported twice changes nothing and sends no second mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.textio import CsvRow, CsvSource
from orders.models import ORDER_TRANSITIONS, Carrier, Order, OrderStatus
from orders.services import order_set_shipping, order_set_status

NUMBER, ORDER_ID, STATUS, SHIPPED_ON, CARRIER, TRACKING = (
    "受注番号",
    "受注ID",
    "対応状況",
    "発送日",
    "配送業者",
    "配送伝票番号",
)
COLUMNS = (NUMBER, STATUS, SHIPPED_ON, CARRIER, TRACKING)
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_TRACKING = re.compile(r"^[0-9A-Za-z-]{1,40}$")


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class RowPlan:
    row: int
    order_id: int | None = None
    order_number: str = ""
    # (column, before, after) as staff read them
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    status: str | None = None
    shipping: dict[str, Any] | None = None
    applied: bool = False


@dataclass
class UpdateReport:
    dry_run: bool
    encoding: str = ""
    rows: list[RowPlan] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        return [*self.file_errors, *(e for plan in self.rows for e in plan.errors)]

    @property
    def changed(self) -> int:
        return sum(1 for p in self.rows if p.changes and not p.errors)

    @property
    def unchanged(self) -> int:
        return sum(1 for p in self.rows if not p.changes and not p.errors)

    @property
    def applied(self) -> int:
        return sum(1 for p in self.rows if p.applied)

    def summary(self) -> str:
        if self.dry_run:
            text = _(
                "確認のみ（書き込みなし）: 変更 %(changed)s件、変更なし %(unchanged)s件、エラー %(errors)s件"
            )
        else:
            text = _("取り込み: 変更 %(changed)s件、変更なし %(unchanged)s件、エラー %(errors)s件")
        changed = self.changed if self.dry_run else self.applied
        return text % {"changed": changed, "unchanged": self.unchanged, "errors": len(self.errors)}


def _carriers() -> dict[str, Carrier]:
    found: dict[str, Carrier] = {}
    for carrier in Carrier.objects.filter(is_active=True):
        found[carrier.name] = carrier
        found[carrier.code.lower()] = carrier
    return found


def _status_by_label() -> dict[str, str]:
    """対応状況 as staff write it: the Japanese label, the English one, or the code."""
    by = {value: value for value in OrderStatus.values}
    for language in ("en", "ja"):
        with translation.override(language):
            by.update({str(label): value for value, label in OrderStatus.choices})
    return by


def _parse_date(text: str) -> date | None:
    match = _DATE.match(text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _order_key(row: CsvRow, plan: RowPlan) -> int | None:
    number, order_id = row.cells.get(NUMBER, ""), row.cells.get(ORDER_ID, "")
    column, value = (NUMBER, number) if number else (ORDER_ID, order_id)
    if not value:
        plan.errors.append(RowError(row.number, NUMBER, _("受注番号（または受注ID）がありません。")))
        return None
    digits = value.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not digits.isdigit():
        plan.errors.append(
            RowError(row.number, column, _("受注番号は数字で指定してください: %(value)s") % {"value": value})
        )
        return None
    return int(digits)


def plan_row(row: CsvRow, order: Order | None, key: int | None, carriers: dict[str, Carrier]) -> RowPlan:
    """What this row would change on this order, or why it cannot; reads nothing itself."""
    plan = RowPlan(
        row=row.number, order_id=order.pk if order else None, order_number=order.number if order else ""
    )
    if not row.decoded:
        plan.errors.append(RowError(row.number, "", _("文字コードを読み取れない文字があります。")))
    if key is not None and order is None:
        plan.errors.append(RowError(row.number, NUMBER, _("受注が見つかりません: %(key)s") % {"key": key}))
    if order is None:
        return plan
    shipping = {
        "carrier_id": order.carrier_id,
        "tracking_number": order.tracking_number,
        "shipped_on": order.shipped_on,
    }
    cells = row.cells
    if cells.get(CARRIER):
        _plan_carrier(plan, cells[CARRIER], order, carriers, shipping)
    if cells.get(TRACKING):
        _plan_tracking(plan, cells[TRACKING], order, shipping)
    if cells.get(SHIPPED_ON):
        _plan_shipped_on(plan, cells[SHIPPED_ON], order, shipping)
    if cells.get(STATUS):
        _plan_status(plan, cells[STATUS], order)
    if plan.status == OrderStatus.SHIPPED and not shipping["tracking_number"]:
        plan.errors.append(RowError(row.number, TRACKING, _("発送済みにするには配送伝票番号が必要です。")))
    if any(column in (CARRIER, TRACKING, SHIPPED_ON) for column, _b, _a in plan.changes):
        plan.shipping = shipping
    return plan


def _plan_carrier(
    plan: RowPlan, cell: str, order: Order, carriers: dict[str, Carrier], shipping: dict[str, Any]
) -> None:
    carrier = carriers.get(cell) or carriers.get(cell.lower())
    if carrier is None:
        plan.errors.append(
            RowError(plan.row, CARRIER, _("配送業者が見つかりません: %(name)s") % {"name": cell})
        )
    elif carrier.pk != order.carrier_id:
        plan.changes.append((CARRIER, order.carrier.name if order.carrier_id else "", carrier.name))
        shipping["carrier_id"] = carrier.pk


def _plan_tracking(plan: RowPlan, cell: str, order: Order, shipping: dict[str, Any]) -> None:
    number = cell.translate(str.maketrans("０１２３４５６７８９－ー", "0123456789--"))
    if not _TRACKING.match(number):
        message = _("配送伝票番号は英数字とハイフンの40文字以内です: %(value)s") % {"value": cell}
        plan.errors.append(RowError(plan.row, TRACKING, message))
    elif number != order.tracking_number:
        plan.changes.append((TRACKING, order.tracking_number, number))
        shipping["tracking_number"] = number


def _plan_shipped_on(plan: RowPlan, cell: str, order: Order, shipping: dict[str, Any]) -> None:
    shipped_on = _parse_date(cell)
    if shipped_on is None:
        message = _("日付は YYYY-MM-DD または YYYY/MM/DD で指定してください: %(value)s") % {"value": cell}
        plan.errors.append(RowError(plan.row, SHIPPED_ON, message))
    elif shipped_on != order.shipped_on:
        before = order.shipped_on.isoformat() if order.shipped_on else ""
        plan.changes.append((SHIPPED_ON, before, shipped_on.isoformat()))
        shipping["shipped_on"] = shipped_on


def _plan_status(plan: RowPlan, cell: str, order: Order) -> None:
    status = _status_by_label().get(cell)
    if status is None:
        plan.errors.append(RowError(plan.row, STATUS, _("対応状況が不明です: %(value)s") % {"value": cell}))
    elif status != order.status:
        old, new = str(order.get_status_display()), str(OrderStatus(status).label)
        if status not in ORDER_TRANSITIONS[order.status]:
            message = _("受注状態を「%(old)s」から「%(new)s」に変更することはできません。") % {
                "old": old,
                "new": new,
            }
            plan.errors.append(RowError(plan.row, STATUS, message))
        else:
            plan.changes.append((STATUS, old, new))
            plan.status = status


def order_updates_import(
    *, stream: BinaryIO, encoding: str = "auto", dry_run: bool, actor_user: Any = None
) -> UpdateReport:
    """Plan (and unless dry_run, apply) every row of an order-update CSV; see the module docstring."""
    reader = CsvSource(stream, encoding=encoding, strip=True)
    # A file exported by staff working in English has the English headers: read them as the Japanese.
    with translation.override("en"):
        english = {_(name): name for name in (NUMBER, ORDER_ID, STATUS, SHIPPED_ON, CARRIER, TRACKING)}
    reader.header = [english.get(name, name) for name in reader.header]
    report = UpdateReport(dry_run=dry_run, encoding=reader.encoding)
    if NUMBER not in reader.header and ORDER_ID not in reader.header:
        report.file_errors.append(
            RowError(1, NUMBER, _("見出し行に「受注番号」または「受注ID」の列がありません。"))
        )
        return report
    carriers = _carriers()
    seen: dict[int, int] = {}
    batch: list[tuple[CsvRow, int | None, RowPlan]] = []

    def flush() -> None:
        keys = [key for _row, key, _plan in batch if key is not None]
        orders = Order.objects.select_related("carrier").in_bulk(keys)
        for row, key, early in batch:
            plan = plan_row(row, orders.get(key) if key is not None else None, key, carriers)
            plan.errors[:0] = early.errors
            if not dry_run and plan.changes and not plan.errors:
                _apply(row, plan, carriers, actor_user)
            report.rows.append(plan)
        batch.clear()

    for row in reader.rows():
        early = RowPlan(row=row.number)
        key = _order_key(row, early)
        if key is not None and key in seen:
            early.errors.append(
                RowError(row.number, NUMBER, _("同じ受注が%(row)s行目にもあります。") % {"row": seen[key]})
            )
        elif key is not None:
            seen[key] = row.number
        batch.append((row, key, early))
        if len(batch) >= 500:
            flush()
    flush()
    return report


def _apply(row: CsvRow, plan: RowPlan, carriers: dict[str, Carrier], actor_user: Any) -> None:
    """Re-plan under the row lock and write through the orders services; errors go to the plan."""
    try:
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(of=("self",)).select_related("carrier").get(pk=plan.order_id)
            )
            fresh = plan_row(row, order, order.pk, carriers)
            if fresh.errors:
                plan.errors = fresh.errors
                raise _Skip
            note = _("CSV一括更新 %(row)s行目") % {"row": row.number}
            if fresh.shipping is not None:
                order_set_shipping(order_id=order.pk, actor_user=actor_user, note=note, **fresh.shipping)
            if fresh.status is not None:
                order_set_status(order_id=order.pk, status=fresh.status, actor_user=actor_user, note=note)
            plan.changes, plan.applied = fresh.changes, bool(fresh.changes)
    except _Skip:
        pass
    except DomainError as exc:
        plan.errors.append(RowError(row.number, STATUS, exc.message))


class _Skip(Exception):
    """A row whose fresh plan has errors: roll back nothing, write nothing."""
