"""Filling a shop-written mail: `{name}` placeholders replaced from a context. Pure: no Django.

Staff edit these texts, so they are not Django templates (no tags, no attribute access, nothing that
can reach beyond the values given). A placeholder not in PLACEHOLDERS is reported by
`unknown_placeholders` so the admin form can refuse it; `{{` and `}}` write literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# The placeholders every order mail can use, with what they hold (shown beside the admin form).
PLACEHOLDERS: dict[str, str] = {
    "customer_name": "お客様氏名",
    "order_number": "受注番号",
    "order_date": "受注日",
    "items": "ご注文商品（1行に1商品）",
    "items_subtotal": "商品小計（税込）",
    "discount_total": "割引",
    "shipping_fee": "送料",
    "cod_fee": "代引手数料",
    "points_used": "利用ポイント",
    "total": "合計（税込）",
    "payment_method": "支払方法",
    "delivery_date": "お届け日",
    "delivery_time_slot": "お届け時間帯",
    "ship_name": "お届け先氏名",
    "ship_address": "お届け先住所",
    "carrier": "配送業者",
    "tracking_number": "配送伝票番号",
    "tracking_url": "配送状況の確認URL",
    "shipped_date": "発送日",
    "mypage_url": "マイページURL",
    "shop_name": "ショップ名",
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def unknown_placeholders(text: str) -> list[str]:
    """The `{names}` in text that are not PLACEHOLDERS, in order of appearance, once each."""
    found: list[str] = []
    for match in _TOKEN.finditer(text):
        name = match.group(1)
        if name and name not in PLACEHOLDERS and name not in found:
            found.append(name)
    return found


def fill(text: str, context: Mapping[str, object]) -> str:
    """Replace each `{name}` with context[name] ('' when missing); `{{`/`}}` become braces."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        value = context.get(match.group(1), "")
        return "" if value is None else str(value)

    return _TOKEN.sub(replace, text)
