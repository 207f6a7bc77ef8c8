"""What the final-confirmation screen (特定商取引法 第12条の6) states for a quote: its sections, in the
active language, shown by the web checkout, returned by the API and stored as the customer's record,
and the fingerprint of the amounts and dates a placement is checked against."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from billing.models import PaymentKind
from core.money import format_yen
from subscriptions.models import ShopPolicy, TimeSlot

from . import terms

if TYPE_CHECKING:  # services imports this module to build its Quote
    from .services import Quote


def terms_version(quote: Quote) -> str:
    """A fingerprint of what the confirmation screen states (amounts, dates, cycle, payment), in no
    language: a placement whose quote no longer matches the one confirmed is refused."""
    data = [
        quote.course_version, quote.items, quote.cycle, quote.first_delivery_date, quote.second_delivery_date,
        quote.time_slot, quote.payment_kind, quote.prefecture, quote.remote_island,
        quote.coupon.pk if quote.coupon else None, quote.points,
        [asdict(line) for line in quote.first.lines], quote.first.order_fields(),
        [asdict(line) for line in quote.later.lines], quote.later.order_fields(), quote.min_total,
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def confirmation_sections(quote: Quote, policy: ShopPolicy | None = None) -> list[dict]:
    """The final-confirmation screen (特定商取引法 第12条の6) as headings and rows, in the active
    language: the screen, the API and the stored record all use these same words."""
    policy = policy or ShopPolicy.current()
    kind_label = str(PaymentKind(quote.payment_kind).label)
    slot = str(TimeSlot(quote.time_slot).label)
    quantity_rows = [
        [line.product_name, _("%(n)d個（毎回）") % {"n": line.quantity}] for line in quote.first.lines
    ]
    sections = [
        {"id": "quantity", "heading": _("分量（毎回のお届け内容）"), "rows": quantity_rows},
        {
            "id": "first",
            "heading": _("初回のお支払い金額"),
            "rows": terms.amount_rows(quote.first, quote.delivery),
        },
        {
            "id": "later",
            "heading": _("2回目以降のお支払い金額（1回あたり）"),
            "rows": terms.amount_rows(quote.later, quote.delivery),
        },
    ]
    if quote.min_total is not None:
        sections.append(
            {
                "id": "minimum",
                "heading": _("お約束の回数"),
                "rows": [
                    [_("最低継続回数"), _("%(n)d回") % {"n": quote.course.min_deliveries}],
                    [
                        _("%(n)d回分のお支払い総額（税込）") % {"n": quote.course.min_deliveries},
                        format_yen(quote.min_total),
                    ],
                ],
            }
        )
    sections += [
        {
            "id": "payment",
            "heading": _("お支払い方法と時期"),
            "rows": [
                [_("お支払い方法"), kind_label],
                [_("お支払い時期"), terms.payment_timing(quote.payment_kind, policy)],
            ],
        },
        {
            "id": "delivery",
            "heading": _("お届けの時期"),
            "rows": [
                [_("お届け周期"), terms.cycle_label(quote.cycle)],
                [_("初回お届け日"), terms.format_date(quote.first_delivery_date)],
                [_("2回目お届け予定日"), terms.format_date(quote.second_delivery_date)],
                [_("お届け時間帯"), slot],
                *terms.delivery_rows(quote.delivery),
            ],
        },
        {
            "id": "deadline",
            "heading": _("お申し込みの期限"),
            "rows": [
                [
                    _("期限"),
                    _("この内容でのお申し込みは本日中に確定してください（初回お届け日を守るため）。"),
                ]
            ],
        },
        {
            "id": "cancel",
            "heading": _("解約について"),
            "rows": [[_("解約条件"), line] for line in terms.cancellation_lines(quote.course, policy)],
        },
    ]
    return sections
