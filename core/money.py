"""Yen arithmetic: integers only, one place for rounding and for splitting an amount.

Pure: no Django import. Amounts are int yen (JPY has no minor unit below the yen); a float never
touches money, so percentages are whole numbers or basis points and divisions round explicitly.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from enum import StrEnum
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


class Rounding(StrEnum):
    """The shop's rounding rule for tax and percentages (端数処理). Floor (切り捨て) by default."""

    FLOOR = "floor"
    HALF_UP = "half_up"
    CEIL = "ceil"


def divide(numerator: int, denominator: int, rounding: Rounding | str = Rounding.FLOOR) -> int:
    """numerator / denominator rounded to a whole yen by the rule; both non-negative integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        raise ValueError("amounts are never negative here")
    rule = Rounding(rounding)
    if rule is Rounding.FLOOR:
        return numerator // denominator
    if rule is Rounding.CEIL:
        return -(-numerator // denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def percent_of(amount: int, percent: int, rounding: Rounding | str = Rounding.FLOOR) -> int:
    """`percent` % of `amount` (whole percent), rounded by the rule."""
    return divide(amount * percent, 100, rounding)


def basis_points_of(amount: int, basis_points: int, rounding: Rounding | str = Rounding.FLOOR) -> int:
    """`basis_points` / 10,000 of `amount`: 100 bp = 1 %, so point earn rates like 1.5 % stay integers."""
    return divide(amount * basis_points, 10_000, rounding)


def allocate(amount: int, weights: Mapping[K, int]) -> dict[K, int]:
    """Split `amount` across keys in proportion to their weights so the parts add up exactly.

    Each key gets floor(amount * weight / total); the yen left over go to the largest weight (ties:
    first key), never giving a key more than its weight, so a discount split across tax rates never
    pushes one rate's base below zero. amount must not exceed the sum of the weights.
    """
    total = sum(weights.values())
    if amount < 0 or any(w < 0 for w in weights.values()):
        raise ValueError("amount and weights must be non-negative")
    if amount > total:
        raise ValueError(f"cannot allocate {amount} over weights totalling {total}")
    if total == 0:
        return dict.fromkeys(weights, 0)
    shares = {key: amount * weight // total for key, weight in weights.items()}
    left = amount - sum(shares.values())
    for key in sorted(weights, key=lambda k: -weights[k]):
        if left == 0:
            break
        give = min(left, weights[key] - shares[key])
        shares[key] += give
        left -= give
    return shares


def format_yen(amount: int) -> str:
    """¥1,234 — how an amount is shown to customers and printed on documents."""
    return f"¥{amount:,}" if amount >= 0 else f"-¥{-amount:,}"
