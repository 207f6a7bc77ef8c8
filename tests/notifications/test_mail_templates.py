"""Filling the shop's mail texts: named placeholders, literal braces, unknown names reported."""

import pytest

from notifications.mail_templates import PLACEHOLDERS, fill, unknown_placeholders


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("{customer_name} 様", {"customer_name": "山田 花子"}, "山田 花子 様"),
        ("{order_number}/{order_number}", {"order_number": "00000042"}, "00000042/00000042"),
        ("伝票 {tracking_number}", {}, "伝票 "),
        ("{{customer_name}}", {"customer_name": "x"}, "{customer_name}"),
        ("{total}", {"total": None}, ""),
        ("{ not a placeholder }", {}, "{ not a placeholder }"),
    ],
)
def test_fill(text, context, expected) -> None:  # noqa: ANN001
    assert fill(text, context) == expected


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("{customer_name}{tracking_url}", []),
        ("{customer}{customer}{total}{price}", ["customer", "price"]),
        ("{{price}}", []),
    ],
)
def test_unknown_placeholders(text, unknown) -> None:  # noqa: ANN001
    assert unknown_placeholders(text) == unknown


def test_the_issue_s_placeholders_are_all_there() -> None:
    wanted = {"customer_name", "order_number", "items", "total", "delivery_date", "delivery_time_slot"}
    wanted |= {"carrier", "tracking_number", "tracking_url", "mypage_url"}
    assert wanted <= set(PLACEHOLDERS)
