"""Review r2: tax documents and the billing side of order status moves."""

from __future__ import annotations

import pytest

from core.tax import is_valid_registration_number


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
