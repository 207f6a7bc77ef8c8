"""Is this the same person? Normalised keys and the similar-customer rule (blacklist, repeaters).

Pure: jaconv, no Django. Each key folds the ways one person writes the same thing — full and half
width, hiragana and katakana, spaces, hyphens and brackets, case — so two records compare equal on
it exactly when a person would say they are the same:

- name: kanji or kana, any width, spaces ignored (山田 花子 = 山田花子; ﾔﾏﾀﾞ ﾊﾅｺ = やまだ はなこ = ヤマダハナコ)
- phone: digits only, +81 written as a leading 0 (090-1234-5678 = ０９０（１２３４）５６７８ = +81 90 1234 5678)
- postal code + address line: 7 digits (100-0001 = 〒1000001) and the address line folded
- email: case-insensitive, surrounding spaces dropped

A record is similar to another when at least `min_fields` (default 2) keys are present in both and
equal: the blacklist check holds an order on it; the shop's repeater rule chooses which keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import jaconv

FIELDS = ("name", "phone", "address", "email")
_DASHES = str.maketrans("", "", "-‐‑‒–—―−ー－ｰ()（）[]［］ 　.．")


def _width(text: str) -> str:
    """ASCII and digits half-width, kana full-width (NFKC-like, kana kept as kana)."""
    if text.isascii():
        return text  # nothing to fold: the common case for phones and emails, and jaconv is slow
    text = jaconv.z2h(text, kana=False, ascii=True, digit=True)
    return jaconv.h2z(text, kana=True, ascii=False, digit=False)


def name_key(name: str) -> str:
    return jaconv.hira2kata("".join(_width(name).split())).lower()


def phone_key(phone: str) -> str:
    digits = "".join(ch for ch in _width(phone) if ch.isdigit())
    if _width(phone).strip().startswith("+81"):
        digits = "0" + digits[2:]
    return digits if len(digits) >= 10 else ""


def postal_key(postal_code: str) -> str:
    digits = "".join(ch for ch in _width(postal_code) if ch.isdigit())
    return digits if len(digits) == 7 else ""


def address_key(postal_code: str, line: str) -> str:
    postal = postal_key(postal_code)
    folded = _width(line).translate(_DASHES)
    return f"{postal}:{folded}" if postal and folded else ""


def email_key(email: str) -> str:
    return _width(email).strip().lower()


@dataclass(frozen=True)
class PersonKeys:
    name: str = ""
    phone: str = ""
    address: str = ""
    email: str = ""

    @classmethod
    def of(
        cls,
        *,
        name: str = "",
        phone: str = "",
        postal_code: str = "",
        address_line: str = "",
        email: str = "",
    ) -> PersonKeys:
        return cls(
            name=name_key(name),
            phone=phone_key(phone),
            address=address_key(postal_code, address_line),
            email=email_key(email),
        )


def matching_fields(a: PersonKeys, b: PersonKeys, fields: Iterable[str] = FIELDS) -> list[str]:
    """The keys (in FIELDS order) both records have and agree on."""
    return [f for f in FIELDS if f in set(fields) and getattr(a, f) and getattr(a, f) == getattr(b, f)]


def is_similar(a: PersonKeys, b: PersonKeys, *, min_fields: int = 2, fields: Iterable[str] = FIELDS) -> bool:
    return len(matching_fields(a, b, fields)) >= min_fields
