"""Offline methods: bank transfer (銀行振込), convenience-store payment (コンビニ払い) and cash on delivery
(代金引換). Nothing is charged online: the order waits for the money, which an admin marks as received.

Prepaid kinds (bank transfer, konbini) have a payment deadline; the order is cancelled when it
passes. Cash on delivery is collected by the carrier, so the order ships at once; its fee (代引手数料)
is priced with the order from billing's CodFee table, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

OFFLINE_KINDS = frozenset({"bank_transfer", "konbini", "cod"})
PREPAID_KINDS = frozenset({"bank_transfer", "konbini"})


@dataclass(frozen=True, slots=True)
class OfflineTerms:
    kind: str
    # The last day the customer may pay; None when the money is collected at delivery.
    deadline: date | None
    # Whether the order may ship before the money arrives.
    ships_before_payment: bool


def offline_terms(*, kind: str, created_on: date, deadline_days: int) -> OfflineTerms:
    if kind not in OFFLINE_KINDS:
        raise ValueError(f"not an offline payment kind: {kind}")
    if kind in PREPAID_KINDS:
        return OfflineTerms(
            kind=kind, deadline=created_on + timedelta(days=deadline_days), ships_before_payment=False
        )
    return OfflineTerms(kind=kind, deadline=None, ships_before_payment=True)


def reminder_due(*, deadline: date, today: date, days_before: int, reminded_on: date | None) -> bool:
    """True once, from `days_before` days before the deadline until the deadline itself."""
    return reminded_on is None and deadline - timedelta(days=days_before) <= today <= deadline


def deadline_passed(*, deadline: date, today: date) -> bool:
    return today > deadline
