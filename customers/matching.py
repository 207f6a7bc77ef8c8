"""Is this the same person? Normalised keys and the similar-customer rule (blacklist, repeaters).

Pure: jaconv, no Django. Each key folds the ways one person writes the same thing — full and half
width, hiragana and katakana, spaces, hyphens and brackets, case — so two records compare equal on
it exactly when a person would say they are the same:

- name: kanji (旧字体 folded) or kana, any width, spaces ignored (山田 花子 = 山田花子; ﾔﾏﾀﾞ ﾊﾅｺ = やまだ はなこ = ヤマダハナコ)
- phone: digits only, +81 written as a leading 0 (090-1234-5678 = ０９０（１２３４）５６７８ = +81 90 1234 5678)
- postal code + address line: 7 digits (100-0001 = 〒1000001) and the address line folded
- email: case-insensitive, surrounding spaces dropped

A record is similar to another when at least `min_fields` (default 2) keys are present in both and
equal: the blacklist check holds an order on it; the shop's repeater rule chooses which keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import jaconv

FIELDS = ("name", "phone", "address", "email")
_DASHES = str.maketrans("", "", "-‐‑‒–—―−ー－ｰ()（）[]［］ 　.．")


# Full-width ASCII and digits (！..～, the ideographic space) to half width, and hiragana to katakana,
# as translate tables: jaconv's z2h/hira2kata walk the text a character at a time in Python, which
# cost the nightly run about a millisecond per order. jaconv is still what folds half-width kana
# (ｶﾞ -> ガ needs the voiced mark joined), only for the rare text that has any.
_Z2H = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20}
_HIRA2KATA = {code: code + 0x60 for code in range(0x3041, 0x3097)} | {0x309D: 0x30FD, 0x309E: 0x30FE}
_HALF_KANA = re.compile("[\uff61-\uff9f]")


def _width(text: str) -> str:
    """ASCII and digits half-width, kana full-width (NFKC-like, kana kept as kana)."""
    if text.isascii():
        return text
    text = text.translate(_Z2H)
    if _HALF_KANA.search(text):
        text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    return text


# 旧字体 and the common variant forms (異体字) people write their own names with, folded to the form
# in everyday use: 髙橋 = 高橋, 齋藤 = 斎藤, 渡邊 = 渡邉 = 渡辺. 斉藤 stays 斉藤 (a different character,
# not an old form of 斎). Names only, where a customer who writes 髙 on one order and 高 on the next
# is the same person; an address line keeps its characters.
_VARIANTS = str.maketrans(
    {
        "髙": "高", "﨑": "崎", "嵜": "崎", "邊": "辺", "邉": "辺", "齋": "斎", "齊": "斉",
        "澤": "沢", "濱": "浜", "濵": "浜", "國": "国", "廣": "広", "櫻": "桜", "德": "徳", "圓": "円",
        "冨": "富", "槇": "槙", "藏": "蔵", "實": "実", "惠": "恵", "榮": "栄", "瀨": "瀬",
        "眞": "真", "髮": "髪", "淺": "浅", "縣": "県", "黑": "黒", "嶋": "島", "嶌": "島", "峯": "峰",
        "曾": "曽", "會": "会", "學": "学", "將": "将", "萬": "万", "驛": "駅",
    }
)  # fmt: skip


# The keys are remembered for the last few thousand values: the nightly run works out the same
# person's keys several times over (the gift check, the blacklist hold, the order rules' test).
_REMEMBERED = 8192


@lru_cache(maxsize=_REMEMBERED)
def name_key(name: str) -> str:
    return "".join(_width(name).split()).translate(_HIRA2KATA).translate(_VARIANTS).lower()


@lru_cache(maxsize=_REMEMBERED)
def phone_key(phone: str) -> str:
    if not phone:
        return ""
    phone = _width(phone)
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("+81"):
        digits = "0" + digits[2:]
    return digits if len(digits) >= 10 else ""


def postal_key(postal_code: str) -> str:
    digits = "".join(ch for ch in _width(postal_code) if ch.isdigit())
    return digits if len(digits) == 7 else ""


@lru_cache(maxsize=_REMEMBERED)
def address_key(postal_code: str, line: str) -> str:
    postal = postal_key(postal_code)
    folded = _width(line).translate(_DASHES)
    return f"{postal}:{folded}" if postal and folded else ""


@lru_cache(maxsize=_REMEMBERED)
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


class KeyIndex:
    """Many people's keys, looked up by value: which of them agree with one record, on which fields.

    Built once (the blacklist for a night, every customer for the repeater rule) and asked once per
    record, in memory: the nightly run checks a batch of 1,000 orders without a query each. A person
    may have several values per field (two addresses, a phone on the profile and one on an address):
    a field agrees when any of them does.
    """

    def __init__(self) -> None:
        self._by_field: dict[str, dict[str, set[int]]] = {f: {} for f in FIELDS}

    def add(self, person_id: int, keys: PersonKeys) -> None:
        for f in FIELDS:
            value = getattr(keys, f)
            if value:
                self._by_field[f].setdefault(value, set()).add(person_id)

    def __bool__(self) -> bool:
        return any(self._by_field.values())

    def matches(
        self,
        records: Iterable[PersonKeys],
        *,
        min_fields: int = 2,
        fields: Iterable[str] = FIELDS,
        exclude: int | None = None,
    ) -> dict[int, list[str]]:
        """{person id: the fields (FIELDS order) that agree} for people agreeing on >= min_fields.

        `records` are one person's ways of being written (their profile, each address); `exclude`
        leaves the person themself out."""
        wanted = set(fields)
        agreed: dict[int, set[str]] = {}
        for keys in records:
            for f in FIELDS:
                value = getattr(keys, f)
                if f not in wanted or not value:
                    continue
                for person_id in self._by_field[f].get(value, ()):
                    if person_id != exclude:
                        agreed.setdefault(person_id, set()).add(f)
        return {
            pid: [f for f in FIELDS if f in got]
            for pid, got in sorted(agreed.items())
            if len(got) >= min_fields
        }
