import pytest

from customers.postal import postal_lookup, postal_normalize


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("1000001", "1000001"),
        ("100-0001", "1000001"),
        ("１００－０００１", "1000001"),  # full-width digits and hyphen
        ("〒100-0001", "1000001"),
        ("100ー0001", "1000001"),  # katakana long-vowel mark typed as a hyphen
        (" 100 0001 ", "1000001"),
        ("100-000", None),  # six digits
        ("10000011", None),  # eight
        ("abc-defg", None),
        ("", None),
    ],
)
def test_normalize(typed, code):
    assert postal_normalize(typed) == code


@pytest.mark.parametrize(
    ("typed", "prefecture", "city"),
    [
        ("100-0001", "東京都", "千代田区"),
        ("０６０－０００１", "北海道", "札幌市中央区"),
        ("900-0001", "沖縄県", "那覇市"),
    ],
)
def test_lookup_fills_prefecture_and_city(typed, prefecture, city):
    area = postal_lookup(typed)
    assert area is not None
    assert (area.prefecture, area.city) == (prefecture, city)
    assert area.formatted == f"{area.code[:3]}-{area.code[3:]}"


@pytest.mark.parametrize("typed", ["000-0000", "999-9999", "12-34567x", ""])
def test_unknown_or_malformed_code_is_none(typed):
    assert postal_lookup(typed) is None
