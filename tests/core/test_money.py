"""Yen arithmetic: rounding rules and exact allocation."""

import pytest

from core.money import Rounding, allocate, basis_points_of, divide, format_yen, percent_of


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounding", "expected"),
    [
        (10, 3, Rounding.FLOOR, 3),
        (10, 3, Rounding.CEIL, 4),
        (10, 3, Rounding.HALF_UP, 3),
        (15, 10, Rounding.HALF_UP, 2),
        (14, 10, Rounding.HALF_UP, 1),
        (9, 3, Rounding.CEIL, 3),
        (0, 7, Rounding.CEIL, 0),
        (10, 3, "floor", 3),
    ],
)
def test_divide_rounds_by_the_rule(numerator, denominator, rounding, expected):
    assert divide(numerator, denominator, rounding) == expected


def test_divide_refuses_negative_amounts():
    with pytest.raises(ValueError):
        divide(-1, 3)


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [(3980, 10, 398), (999, 15, 149), (100, 100, 100), (1, 50, 0)],
)
def test_percent_of_floors(amount, percent, expected):
    assert percent_of(amount, percent) == expected


@pytest.mark.parametrize(("amount", "bp", "expected"), [(3980, 100, 39), (3980, 150, 59), (99, 100, 0)])
def test_basis_points_of(amount, bp, expected):
    assert basis_points_of(amount, bp) == expected


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        (100, {10: 1000, 8: 1000}, {10: 50, 8: 50}),
        # 1/3 each is 33.3: the leftover yen go to the largest weight (first on ties).
        (100, {10: 100, 8: 100, 0: 100}, {10: 34, 8: 33, 0: 33}),
        (500, {10: 3000, 8: 980}, {10: 377, 8: 123}),
        (1, {10: 1, 8: 1}, {10: 1, 8: 0}),
        (0, {10: 500}, {10: 0}),
        (500, {10: 500, 8: 0}, {10: 500, 8: 0}),
        # Never more than a key's weight, even when the remainder would push it over.
        (2, {10: 1, 8: 1, 0: 1}, {10: 1, 8: 1, 0: 0}),
        (0, {}, {}),
    ],
)
def test_allocate_adds_up_exactly_and_never_exceeds_a_weight(amount, weights, expected):
    result = allocate(amount, weights)
    assert result == expected
    assert sum(result.values()) == amount
    assert all(result[k] <= weights[k] for k in weights)


def test_allocate_refuses_more_than_the_weights():
    with pytest.raises(ValueError):
        allocate(11, {10: 5, 8: 5})


@pytest.mark.parametrize(
    ("amount", "text"), [(0, "¥0"), (980, "¥980"), (1234567, "¥1,234,567"), (-500, "-¥500")]
)
def test_format_yen(amount, text):
    assert format_yen(amount) == text
