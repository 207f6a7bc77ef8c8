"""Consumption tax on tax-inclusive amounts, once per rate."""

import pytest

from core.money import Rounding
from core.tax import is_valid_registration_number, tax_included_in, tax_summary


@pytest.mark.parametrize(
    ("amount", "rate", "rounding", "expected"),
    [
        (1100, 10, Rounding.FLOOR, 100),
        (1080, 8, Rounding.FLOOR, 80),
        (3980, 10, Rounding.FLOOR, 361),  # 361.8
        (3980, 10, Rounding.CEIL, 362),
        (3980, 10, Rounding.HALF_UP, 362),
        (980, 8, Rounding.FLOOR, 72),  # 72.59
        (980, 8, Rounding.HALF_UP, 73),
        (100, 8, Rounding.HALF_UP, 7),  # 7.407
        (0, 10, Rounding.FLOOR, 0),
    ],
)
def test_tax_included_in(amount, rate, rounding, expected):
    assert tax_included_in(amount, rate, rounding) == expected


def test_unknown_rate_is_refused():
    with pytest.raises(ValueError):
        tax_included_in(1000, 5)


def test_tax_is_rounded_once_per_rate_not_per_line():
    # given ten ¥98 reduced-rate lines, each holding floor(7.26) = ¥7 of tax if rounded alone
    per_line = sum(tax_included_in(98, 8) for _ in range(10))
    # when summarised per rate on ¥980
    summary = tax_summary({8: 98 * 10})
    # then the tax is floor(72.59) = 72, not the 70 that per-line rounding gives
    assert summary == {"8": {"base": 980, "tax": 72}}
    assert per_line == 70


def test_summary_lists_the_standard_rate_first():
    assert list(tax_summary({8: 1080, 10: 1100})) == ["10", "8"]


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("T1234567890123", True),
        ("T123456789012", False),
        ("1234567890123", False),
        ("t1234567890123", False),
        ("T12345678901234", False),
        ("T123456789012a", False),
        ("", False),
    ],
)
def test_registration_number_format(number, valid):
    assert is_valid_registration_number(number) is valid


@pytest.mark.parametrize(
    "value",
    [
        "T１２３４５６７８９０１２３",  # full-width digits: not what the tax office issues
        "T١٢٣٤٥٦٧٨٩٠١٢٣",  # Arabic-Indic digits also match \d
        "T1234567890123\n",
        "t1234567890123",
    ],
)
def test_registration_number_is_t_and_13_ascii_digits(value):
    assert is_valid_registration_number(value) is False
