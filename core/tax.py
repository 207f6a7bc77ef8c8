"""Japanese consumption tax on tax-inclusive prices: 10 % standard, 8 % reduced (軽減税率).

Pure: no Django import. Prices are shown tax included (総額表示), so the tax is the part of a
tax-inclusive amount: base × rate / (100 + rate). A qualified invoice (適格請求書) rounds the tax
once per rate per document, never per line, so this module only ever sees per-rate totals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .money import Rounding, divide

STANDARD_RATE = 10
REDUCED_RATE = 8
RATES = (STANDARD_RATE, REDUCED_RATE)
# Printed next to reduced-rate items on invoices, with the legend below.
REDUCED_MARK = "※"
REDUCED_LEGEND = "※は軽減税率対象"

# [0-9], not \d: \d also matches full-width and other Unicode digits, which no issued number has.
REGISTRATION_NUMBER_RE = re.compile(r"^T[0-9]{13}$")


def tax_included_in(amount: int, rate: int, rounding: Rounding | str = Rounding.FLOOR) -> int:
    """The consumption tax contained in a tax-inclusive amount at `rate` percent."""
    if rate not in RATES and rate != 0:
        raise ValueError(f"unknown tax rate {rate}")
    return divide(amount * rate, 100 + rate, rounding)


def tax_summary(
    bases: Mapping[int, int], rounding: Rounding | str = Rounding.FLOOR
) -> dict[str, dict[str, int]]:
    """Per rate: the tax-inclusive base and the tax in it, rounded once per rate.

    Keys are strings ("10", "8") because the result is stored as JSON; standard rate first.
    """
    ordered = sorted(bases, key=lambda rate: -rate)
    return {
        str(rate): {"base": bases[rate], "tax": tax_included_in(bases[rate], rate, rounding)}
        for rate in ordered
    }


def is_valid_registration_number(value: str) -> bool:
    """A qualified invoice issuer number (適格請求書発行事業者登録番号): "T" and 13 digits."""
    return bool(REGISTRATION_NUMBER_RE.fullmatch(value or ""))
