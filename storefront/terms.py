"""The course terms a customer sees before subscribing, and the words of the final-confirmation
screen (特定商取引法 第12条の6). Reads only; every amount comes from pricing's price_order."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from billing.models import CaptureMethod, PaymentKind, PaymentPolicy
from catalog.models import Course, CourseCycle, CourseItem, describe_cycle
from core.formats import format_short_date
from core.money import format_yen
from pricing.delivery_display import DeliveryShown
from pricing.models import BillingPolicy, CodFee
from pricing.pricing import PricedOrder
from pricing.selectors import PricingCatalog
from subscriptions.models import ShopPolicy
from subscriptions.selectors import today_in_shop

# Marked for translation here; shown with gettext where the screen is drawn.
BUTTON_LABEL = gettext_noop("注文を確定する（定期購入）")


def course_list() -> list[Course]:
    """Published courses (受付中) with their items and cycles: three queries whatever the count."""
    return list(
        Course.objects.filter(is_active=True)
        .prefetch_related(
            Prefetch("items", queryset=CourseItem.objects.select_related("product").order_by("id")),
            Prefetch("cycles", queryset=CourseCycle.objects.order_by("position", "id")),
        )
        .order_by("code")
    )


def course_get(*, code: str) -> Course | None:
    return next((c for c in course_list() if c.code == code), None) if code else None


@dataclass(frozen=True)
class CoursePrices:
    """A course's per-delivery prices for its default items × quantity, shipped to no particular
    prefecture (the base fee), without coupon or points."""

    first: PricedOrder
    later: PricedOrder
    min_total: int | None  # first + later × (minimum − 1), for courses with a minimum of 2 or more


def course_prices(
    *, course: Course, quantity: int = 1, catalog: PricingCatalog | None = None, payment_kind: str = ""
) -> CoursePrices:
    catalog = catalog or PricingCatalog.load(on=today_in_shop())
    items = [(item.product_id, item.quantity * quantity) for item in course.items.all()]

    def price(sequence: int) -> PricedOrder:
        return catalog.price(
            items=items, course_id=course.pk, group_id=None, sequence=sequence, payment_kind=payment_kind,
            prefecture="", remote_island=False, coupon=None, points_requested=0, time_slot=False,
            gift_wrapping=False,
        )  # fmt: skip

    first, later = price(1), price(2)
    return CoursePrices(first, later, minimum_total(course.min_deliveries, first.total, later.total))


def minimum_total(min_deliveries: int, first_total: int, later_total: int) -> int | None:
    """What the minimum number of deliveries costs in all; None when the course has no minimum."""
    if min_deliveries < 2:
        return None
    return first_total + later_total * (min_deliveries - 1)


def course_version(course: Course, catalog: PricingCatalog) -> str:
    """A fingerprint of everything a customer agrees to about the course: its items, price rows,
    cycles, minimum, and the shop's shipping and COD fees. Changes whenever any of them does."""
    data = {
        "course": [course.pk, course.code, course.name, course.description, course.min_deliveries],
        "items": [
            [i.product_id, i.quantity, catalog.products.get(i.product_id), catalog.packages.get(i.product_id)]
            for i in course.items.all()
        ],
        "prices": sorted(
            [list(key), list(rows)] for key, rows in catalog.course_prices.items() if key[0] == course.pk
        ),
        "cycles": [
            [c.unit, c.interval, c.day_of_month, c.nth_week, c.weekday] for c in course.cycles.all()
        ],
        "shipping": [
            catalog.shipping.base_fee, catalog.shipping.free_from, sorted(catalog.shipping.prefecture_fees.items()),
            catalog.shipping.remote_island_surcharge, list(catalog.shipping.cod_fees),
            [[m.id, m.name, m.terms, m.flat_fee] for m in catalog.methods], catalog.policy.gift_wrapping_fee,
        ],
    }  # fmt: skip
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def shipping_lines(catalog: PricingCatalog | None = None) -> list[str]:
    """The shop's shipping and fee terms in words (from `catalog` when the caller has it loaded)."""
    policy = catalog.policy if catalog is not None else BillingPolicy.current()
    lines = [_("送料: %(fee)s（税込）") % {"fee": format_yen(policy.shipping_base_fee)}]
    for method in catalog.methods if catalog is not None else ():
        if method.flat_fee is not None:
            lines.append(
                _("%(method)s: 全国一律 %(fee)s（条件に収まるご注文）")
                % {"method": method.name, "fee": format_yen(method.flat_fee)}
            )
    if policy.shipping_free_from is not None:
        lines.append(
            _("%(amount)s以上のお届けは送料無料") % {"amount": format_yen(policy.shipping_free_from)}
        )
    if policy.remote_island_surcharge:
        lines.append(
            _("離島へのお届けは%(fee)sを加算（送料無料の回も）")
            % {"fee": format_yen(policy.remote_island_surcharge)}
        )
    if catalog is not None:
        fees = list(catalog.shipping.cod_fees)
    else:
        fees = list(CodFee.objects.order_by("up_to_amount").values_list("up_to_amount", "fee"))
    for up_to, fee in fees:
        lines.append(
            _("代引手数料: %(up_to)sまで %(fee)s") % {"up_to": format_yen(up_to), "fee": format_yen(fee)}
        )
    if policy.gift_wrapping_fee:
        lines.append(_("ギフト包装料: %(fee)s（税込）") % {"fee": format_yen(policy.gift_wrapping_fee)})
    return lines


def amount_rows(priced: PricedOrder, delivery: DeliveryShown | None) -> list[list[str]]:
    """One delivery's amounts on the confirmation screen: each line, each fee, the total."""
    rows = [[f"{line.product_name} × {line.quantity}", format_yen(line.line_total)] for line in priced.lines]
    if priced.discount_total:
        rows.append([_("割引"), "−" + format_yen(priced.discount_total)])
    if delivery is not None and delivery.name:
        rows.append([_("送料（%(method)s）") % {"method": delivery.name}, format_yen(priced.shipping_fee)])
    else:
        rows.append([_("送料"), format_yen(priced.shipping_fee)])
    if priced.wrapping_fee:
        rows.append([_("ギフト包装料"), format_yen(priced.wrapping_fee)])
    if priced.cod_fee:
        rows.append([_("代引手数料"), format_yen(priced.cod_fee)])
    if priced.points_used:
        rows.append([_("ポイント利用"), "−" + format_yen(priced.points_used)])
    rows.append([_("お支払い合計（税込）"), format_yen(priced.total)])
    return rows


def delivery_rows(delivery: DeliveryShown | None) -> list[list[str]]:
    """The delivery method the orders get and why a cheaper one is not given (issue 12)."""
    if delivery is None:
        return []
    rows = [[_("配送方法"), delivery.name or _("通常の配送（ショップの送料表）")]]
    for method in delivery.not_given:
        rows.append(
            [
                _("%(method)s（送料 %(fee)s）にならない理由")
                % {"method": method.name, "fee": format_yen(method.fee)},
                "／".join(method.reasons),
            ]
        )
    return rows


def cancellation_lines(course: Course, policy: ShopPolicy | None = None) -> list[str]:
    """How to cancel: conditions, deadline and where (the rule the my page enforces)."""
    policy = policy or ShopPolicy.current()
    lines = []
    if course.min_deliveries >= 2:
        lines.append(
            ngettext(
                "このコースは%(n)d回以上の継続が条件です。%(n)d回目のお届け後から解約いただけます。",
                "このコースは%(n)d回以上の継続が条件です。%(n)d回目のお届け後から解約いただけます。",
                course.min_deliveries,
            )
            % {"n": course.min_deliveries}
        )
    else:
        lines.append(_("回数のお約束はありません。いつでも解約いただけます。"))
    lines.append(
        ngettext(
            "次回のお届けを止めるには、次回受注作成日（お届けの%(lead)d営業日前）の%(days)d日前までにお手続きください。",
            "次回のお届けを止めるには、次回受注作成日（お届けの%(lead)d営業日前）の%(days)d日前までにお手続きください。",
            policy.change_deadline_days,
        )
        % {"lead": policy.lead_days, "days": policy.change_deadline_days}
    )
    if policy.allow_cancel:
        lines.append(
            _("解約はマイページの「解約する」から、またはお電話・メールでショップへお申し出ください。")
        )
    else:
        lines.append(_("解約はお電話・メールでショップへお申し出ください。"))
    return lines


def payment_timing(kind: str, policy: ShopPolicy | None = None) -> str:
    """When and how each delivery is paid for, by payment kind."""
    policy = policy or ShopPolicy.current()
    lead = {"lead": policy.lead_days}
    if kind == PaymentKind.CARD:
        if PaymentPolicy.current().capture_method == CaptureMethod.MANUAL:
            first = _("初回: ご注文確定時にカードの与信を取り、発送時に決済します。")
        else:
            first = _("初回: ご注文確定時にカードで決済します。")
        return (
            first
            + _("2回目以降: 各回の受注作成日（お届けの%(lead)d営業日前）に同じカードで決済します。") % lead
        )
    if kind in (PaymentKind.BANK_TRANSFER, PaymentKind.KONBINI):
        days = PaymentPolicy.current().offline_deadline_days
        return _(
            "各回の受注作成時にお支払いのご案内をメールでお送りします。受注から%(days)d日以内にお支払いください。"
            "期限までにお支払いがない場合、そのご注文はキャンセルになります。"
        ) % {"days": days}
    if kind == PaymentKind.COD:
        return _("各回、商品のお受け取り時に配達員へお支払いください（代引手数料を含みます）。")
    return ""


def cycle_label(cycle: Any) -> str:
    return describe_cycle(cycle)


def format_date(value: date | None) -> str:
    return format_short_date(value) if value else ""
