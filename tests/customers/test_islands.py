"""離島: municipalities wholly on islands, island towns of mainland cities, from the postal code."""

import pytest

from customers.islands import is_remote_island, municipality, postal_is_remote_island


@pytest.mark.parametrize(
    ("city", "name"),
    [("隠岐郡隠岐の島町", "隠岐の島町"), ("八重山郡与那国町", "与那国町"), ("郡上市", "郡上市"), ("佐渡市", "佐渡市"),
     ("苫前郡羽幌町", "羽幌町")],
)  # fmt: skip
def test_municipality_drops_the_county(city, name) -> None:  # noqa: ANN001
    assert municipality(city) == name


@pytest.mark.parametrize(
    ("prefecture", "city", "town", "remote"),
    [
        ("東京都", "大島町", "元町", True),
        ("東京都", "千代田区", "千代田", False),
        ("島根県", "隠岐郡隠岐の島町", "", True),
        ("島根県", "松江市", "", False),
        ("三重県", "鳥羽市", "菅島町", True),  # an island town of a mainland city
        ("三重県", "鳥羽市", "鳥羽", False),
        ("山形県", "酒田市", "飛島", True),
        ("沖縄県", "那覇市", "", False),  # 沖縄本島 is not a 離島 for carriers
        ("沖縄県", "石垣市", "", True),
        ("新潟県", "佐渡市", "", True),
        ("北海道", "佐渡市", "", False),  # the prefecture must agree
    ],
)
def test_is_remote_island(prefecture, city, town, remote) -> None:  # noqa: ANN001
    assert is_remote_island(prefecture=prefecture, city=city, town=town) is remote


@pytest.mark.parametrize(
    ("code", "remote"),
    [
        ("100-0101", True),  # 東京都大島町
        ("１００－０１０１", True),  # full width
        ("〒9520000", True),  # 佐渡市
        ("517-0004", True),  # 鳥羽市菅島町
        ("517-0011", False),  # 鳥羽市鳥羽
        ("100-0001", False),  # 千代田区
        ("000-0000", None),  # no such code
        ("12", None),
    ],
)
def test_postal_is_remote_island(code, remote) -> None:  # noqa: ANN001
    assert postal_is_remote_island(code) is remote
