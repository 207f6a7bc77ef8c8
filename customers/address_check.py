"""Does an address agree with its postal code (郵便番号と住所の照合)? Pure apart from the offline
postal data (customers.postal). Used at generation (an order to a mismatching address is held with
what the postal data says) and by forms that take an address."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .islands import is_remote_island, municipality
from .postal import PostalArea, postal_lookup


@dataclass(frozen=True)
class AddressVerdict:
    area: PostalArea | None  # what the postal data says; None for a code that does not exist
    problem: str  # "" (agrees), "postal_unknown", "prefecture_mismatch", "city_mismatch"
    remote_island: bool

    @property
    def ok(self) -> bool:
        return not self.problem


@lru_cache(maxsize=65536)
def address_verdict(postal_code: str, prefecture: str, city: str) -> AddressVerdict:
    """The postal code exists, its prefecture is the address's, and its city begins the address's
    city or the other way round (横浜市 / 横浜市中区, 隠岐郡隠岐の島町 / 隠岐の島町). Cached: a night
    checks the same few thousand codes many times."""
    area = postal_lookup(postal_code)
    if area is None:
        return AddressVerdict(None, "postal_unknown", False)
    remote = is_remote_island(prefecture=area.prefecture, city=area.city, town=area.town)
    if area.prefecture != prefecture.strip():
        return AddressVerdict(area, "prefecture_mismatch", remote)
    theirs, ours = municipality(area.city), municipality(city)
    if ours and not (ours.startswith(theirs) or theirs.startswith(ours)):
        return AddressVerdict(area, "city_mismatch", remote)
    return AddressVerdict(area, "", remote)
