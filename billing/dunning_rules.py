"""Dunning decisions as pure functions: which declines are final, when the next retry is, whether
the customer is warned. No Django import; tested with tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# Decline codes a retry cannot fix: the card is gone, blocked or not the customer's. Retrying them
# only adds declines on the shop's account (and card networks fine repeated retries of these).
HARD_DECLINE_CODES = frozenset(
    {
        "stolen_card",
        "lost_card",
        "pickup_card",
        "restricted_card",
        "fraudulent",
        "merchant_blacklist",
        "invalid_account",
        "new_account_information_available",
        "do_not_honor_permanently",
        "revocation_of_authorization",
        "revocation_of_all_authorizations",
        "security_violation",
        "transaction_not_allowed",
        "card_not_supported",
        "currency_not_supported",
        "incorrect_number",
        "invalid_number",
        "expired_card",
    }
)
# Error codes (not decline codes) that are just as final.
HARD_ERROR_CODES = frozenset({"expired_card", "incorrect_number", "invalid_number", "card_not_supported"})


def is_hard_decline(*, error_code: str, decline_code: str) -> bool:
    return decline_code in HARD_DECLINE_CODES or error_code in HARD_ERROR_CODES


@dataclass(frozen=True, slots=True)
class Rule:
    retry: int  # 1 for the first retry
    days_after_failure: int
    email_before: bool


@dataclass(frozen=True, slots=True)
class NextStep:
    """After `failures` failed attempts: retry on `retry_on` (warning first if `warn`), or give up."""

    retry_on: date | None
    warn: bool
    exhausted: bool


def next_step(
    *, rules: Sequence[Rule], first_failed_on: date, failures: int, hard: bool, today: date
) -> NextStep:
    """Rules are counted from the first failure, not from the previous retry, so a retry that runs
    late does not push every later one back. A retry day already past is run on `today`."""
    if hard:
        return NextStep(retry_on=None, warn=False, exhausted=True)
    ordered = sorted(rules, key=lambda r: r.retry)
    if failures < 1 or failures > len(ordered):
        return NextStep(retry_on=None, warn=False, exhausted=failures >= 1)
    rule = ordered[failures - 1]
    retry_on = max(first_failed_on + timedelta(days=rule.days_after_failure), today)
    return NextStep(retry_on=retry_on, warn=rule.email_before, exhausted=False)
