"""Stored cards from another platform: a Stripe customer and PaymentMethod id, checked with Stripe
before the subscription is created. Read-only calls, so a dry run makes them too."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.utils.translation import gettext as _

from billing.gateways import CardDetails, GatewayError, GatewayUnavailable, get_gateway

# Stripe allows about 100 requests a second live; a few threads stay well below it.
WORKERS = 8


@dataclass(frozen=True, slots=True)
class CardCheck:
    card: CardDetails | None  # None: not verified, the subscription needs attention
    message: str = ""


def _check(gateway, customer_id: str, payment_method_id: str) -> CardCheck:  # noqa: ANN001
    try:
        card = gateway.payment_method_retrieve(payment_method_id)
    except GatewayUnavailable:
        return CardCheck(None, _("Stripe から応答がなく、カードを確認できませんでした。"))
    except GatewayError:
        return CardCheck(None, _("Stripe にこのカードが見つかりません。"))
    if card.customer_id != customer_id:
        return CardCheck(
            None,
            _("このカードは Stripe で別の顧客（%(other)s）に登録されています。")
            % {"other": card.customer_id or _("顧客なし")},
        )
    return CardCheck(card)


def cards_verify(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], CardCheck]:
    """(Stripe customer id, PaymentMethod id) → what Stripe says of it."""
    if not pairs:
        return {}
    try:
        gateway = get_gateway()
    except GatewayError:
        failed = CardCheck(None, _("Stripe が設定されていないため、カードを確認できません。"))
        return dict.fromkeys(pairs, failed)
    ordered = sorted(pairs)
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(ordered))) as pool:
        checks = pool.map(lambda pair: _check(gateway, *pair), ordered)
        return dict(zip(ordered, checks, strict=True))
