"""A subscription as every format reads and writes it, and a problem found while reading one.

Pure: no Django. Each format module (migration/formats/) maps its columns to and from
`SourceSubscription`; the importer resolves one against the database and the exporter builds one
from a subscription, so a format never touches a model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import date

ERROR = "error"  # the row is not imported
WARNING = "warning"  # the row is imported, and needs attention
ENCODING = "encoding"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one cell (or one row when `column` is empty), in words."""

    row: int  # the file's row number, the header being row 1
    column: str
    value: str
    message: str
    severity: str = ERROR
    handle: str = ""
    code: str = ""  # "encoding": the row's bytes were not in the file's encoding


@dataclass
class SourceSubscription:
    """Everything the engine keeps of a subscription, in platform-neutral terms.

    Dates are shop business dates. `delivery_count` is 定期回数 (the count prices and coupons key on):
    the next delivery is priced as number delivery_count + 1.
    """

    handle: str
    row: int = 0
    # The customer
    email: str = ""
    name: str = ""
    name_kana: str = ""
    phone: str = ""
    customer_group: str = ""
    blacklisted: bool = False
    # The shipping address
    recipient_name: str = ""
    postal_code: str = ""
    prefecture: str = ""
    city: str = ""
    line1: str = ""
    line2: str = ""
    address_phone: str = ""
    remote_island: bool = False
    address_invalid: bool = False
    # What and when
    course_code: str = ""
    items: list[tuple[str, int]] = field(default_factory=list)  # (SKU, quantity)
    status: str = "active"  # active | paused | suspended | cancelled
    cycle_unit: str = ""
    cycle_interval: int = 1
    cycle_day_of_month: int | None = None  # month cycles; -1 = the last day
    cycle_nth_week: int | None = None  # month cycles; -1 = the last given weekday
    cycle_weekday: int | None = None  # 0=Mon … 6=Sun, with nth_week
    next_delivery_date: date | None = None
    next_sequence: int | None = None  # None: delivery_count + 1
    delivery_count: int = 0
    orders_created: int | None = None  # None: delivery_count
    skipped_dates: list[date] = field(default_factory=list)  # future deliveries already skipped
    time_slot: str = ""
    # How it is paid
    payment_kind: str = ""  # card | bank_transfer | konbini | cod
    stripe_customer_id: str = ""
    stripe_payment_method_id: str = ""
    # State
    paused_until: date | None = None
    cancelled_on: date | None = None
    cancel_reason: str = ""
    suspended_reason: str = ""
    points_reservation: str = "none"
    points_reservation_amount: int = 0
    needs_attention: list[str] = field(default_factory=list)
    remarks: str = ""

    @property
    def sequence(self) -> int:
        """The number of the next delivery in the schedule (skips count, 定期回数 does not)."""
        return self.next_sequence if self.next_sequence is not None else self.delivery_count + 1

    def body_hash(self) -> str:
        """A fingerprint of everything but the row number: same hash, same subscription."""
        cached = self.__dict__.get("_body_hash")
        if cached is None:
            values = [getattr(self, name) for name in _HASHED_FIELDS]
            encoded = json.dumps(values, default=str, ensure_ascii=False)
            cached = self.__dict__["_body_hash"] = hashlib.sha256(encoded.encode()).hexdigest()
        return cached


# Every field but the row number, in declaration order (a new field changes every hash once).
_HASHED_FIELDS = tuple(f.name for f in fields(SourceSubscription) if f.name != "row")

WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
