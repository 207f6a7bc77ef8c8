"""郵便番号と住所の照合 on a table: hyphens and widths, prefecture and city, remote islands."""

import pytest

from customers.address_check import address_verdict


@pytest.mark.parametrize(
    ("postal_code", "prefecture", "city", "problem", "remote"),
    [
        ("100-0001", "東京都", "千代田区", "", False),
        ("1000001", "東京都", "千代田区", "", False),
        ("１００－０００１", "東京都", "千代田区", "", False),
        ("100-0001", "大阪府", "千代田区", "prefecture_mismatch", False),
        ("100-0001", "東京都", "港区", "city_mismatch", False),
        ("100-0001", "東京都", "", "", False),  # no city typed: nothing to disagree with
        ("685-0000", "島根県", "隠岐の島町", "", True),  # the county left out
        ("685-0000", "島根県", "隠岐郡隠岐の島町", "", True),
        ("952-0000", "新潟県", "佐渡市", "", True),
        ("000-0000", "東京都", "千代田区", "postal_unknown", False),
        ("12-34", "東京都", "千代田区", "postal_unknown", False),
    ],
)
def test_address_verdict(postal_code, prefecture, city, problem, remote) -> None:  # noqa: ANN001
    verdict = address_verdict(postal_code, prefecture, city)
    assert (verdict.problem, verdict.remote_island) == (problem, remote)
    assert verdict.ok is (problem == "")


def test_a_mismatch_says_what_the_postal_data_says() -> None:
    verdict = address_verdict("100-0001", "大阪府", "大阪市")
    assert (verdict.area.prefecture, verdict.area.city, verdict.area.town) == ("東京都", "千代田区", "千代田")
