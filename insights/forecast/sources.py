"""Reading the subscriptions the forecast starts from, grouped, in a couple of queries.

Subscriptions that price alike and follow the same schedule are read as one row with a count
(GROUP BY in PostgreSQL), so a million subscriptions come back as far fewer rows. Those whose price
depends on a per-customer running balance (a coupon with caps, reserved points) come back one by
one: the forecast spends their benefits night after night in the nightly run's claim order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction

from billing.models import PaymentMethod
from customers.models import Address, Customer
from orders.models import SubscriptionGift
from subscriptions.models import Subscription, SubscriptionAddon, SubscriptionItem, SubscriptionStatus

# A schedule "shape": everything the schedule maths reads. Subscriptions with equal shapes get
# the same nights, sequences and delivery dates.
Shape = tuple  # (unit, interval, dom, nth, weekday, anchor_date, anchor_seq, skipped, next_seq,
#                 next_delivery, next_creation, status, paused_until)
SHAPE_WIDTH = 13
# The columns _select reads for a shape and its profile (before the per-row Detailed ones).
PROFILE_COLUMNS = 25


@dataclass(frozen=True, slots=True)
class Profile:
    """What a subscription's price and counters depend on, apart from benefits."""

    course_id: int
    items: tuple[tuple[int, int], ...]  # (product_id, quantity) in the order the customer added them
    group_id: int | None
    payment_kind: str
    prefecture: str
    remote_island: bool
    cycle_count: int
    orders_created: int
    held: bool  # a needs-attention reason, blacklisted customer or bad address: created on hold
    time_slot: str
    gift_wrapping: bool  # orders.SubscriptionGift.wrapping: the shop's wrapping fee is added
    # Pending ついで買い (product_id, quantity), in the order added: on the next order only.
    addons: tuple[tuple[int, int], ...] = ()

    @property
    def price_key(self) -> tuple:
        """Everything but the sequence and the night's catalogue that the price depends on."""
        return (
            self.course_id,
            self.items,
            self.group_id,
            self.payment_kind,
            self.prefecture,
            self.remote_island,
            bool(self.time_slot),  # a slot rules メール便 out (pricing.delivery)
            self.gift_wrapping,
        )


@dataclass(frozen=True, slots=True)
class Detailed:
    """One subscription priced with its own coupon and points."""

    id: int
    customer_id: int
    coupon_id: int | None
    points_reservation: str
    points_amount: int
    is_member: bool


def _select(*, per_row: bool, part: tuple[int, int] | None = None) -> str:
    sub, item, addon = (
        Subscription._meta.db_table,
        SubscriptionItem._meta.db_table,
        SubscriptionAddon._meta.db_table,
    )
    cust, addr, method = Customer._meta.db_table, Address._meta.db_table, PaymentMethod._meta.db_table
    gift = SubscriptionGift._meta.db_table
    pg = connection.vendor == "postgresql"
    in_part = "" if part is None else f" WHERE subscription_id %% {int(part[1])} = {int(part[0])}"
    skipped = "s.skipped_sequences::text" if pg else "s.skipped_sequences"
    attention = "s.needs_attention::text" if pg else "s.needs_attention"
    items, addons = _aggregated(item, in_part, pg), _aggregated(addon, _pending(in_part), pg)
    columns = [
        "s.cycle_unit", "s.cycle_interval", "s.cycle_day_of_month", "s.cycle_nth_week", "s.cycle_weekday",
        "s.anchor_date", "s.anchor_sequence", skipped, "s.next_sequence", "s.next_delivery_date",
        "s.next_creation_date", "s.status", "s.paused_until",
        "s.course_id", "i.items", "c.group_id", "COALESCE(pm.kind, '')", "COALESCE(a.prefecture, '')",
        "COALESCE(a.is_remote_island, FALSE)", "s.cycle_count", "s.orders_created",
        f"({attention} <> '[]' OR c.is_blacklisted OR s.shipping_address_id IS NULL "
        "OR COALESCE(a.is_invalid, FALSE))",
        "s.delivery_time_slot", "COALESCE(g.wrapping, FALSE)", "COALESCE(ad.items, '')",
    ]  # fmt: skip
    width = len(columns)
    assert width == PROFILE_COLUMNS, "PROFILE_COLUMNS names how many columns a profile reads"
    if per_row:
        columns += ["s.id", "s.customer_id", "s.coupon_id", "s.points_reservation",
                    "s.points_reservation_amount", "c.is_member"]  # fmt: skip
    else:
        columns.append("COUNT(*)")
    sql = (
        f"SELECT {', '.join(columns)} FROM {sub} s JOIN {items} i ON i.subscription_id = s.id "
        f"JOIN {cust} c ON c.id = s.customer_id LEFT JOIN {addr} a ON a.id = s.shipping_address_id "
        f"LEFT JOIN {addons} ad ON ad.subscription_id = s.id "
        f"LEFT JOIN {method} pm ON pm.id = s.payment_method_id "
        f"LEFT JOIN {gift} g ON g.subscription_id = s.id "
        "WHERE ((s.status = %s AND s.next_creation_date <= %s) OR (s.status = %s AND s.paused_until <= %s)) "
        "AND " + ("" if per_row else "NOT ") + "(s.coupon_id IS NOT NULL OR "
        "(s.points_reservation <> 'none' AND c.is_member))"
    )
    if part is not None:
        sql += f" AND s.id %% {int(part[1])} = {int(part[0])}"
    if per_row:
        sql += " ORDER BY s.id"
    else:
        sql += " GROUP BY " + ", ".join(str(n) for n in range(1, width + 1))
    return sql


def _aggregated(table: str, where: str, pg: bool) -> str:
    """(subscription_id, items) rows: each subscription's "productxquantity,…" in id order."""
    if pg:
        return (
            f"(SELECT subscription_id, string_agg(product_id || 'x' || quantity, ',' ORDER BY id) AS items "
            f"FROM {table}{where} GROUP BY subscription_id)"
        )
    return (
        f"(SELECT subscription_id, group_concat(product_id || 'x' || quantity, ',') AS items "
        f"FROM (SELECT * FROM {table}{where} ORDER BY subscription_id, id) GROUP BY subscription_id)"
    )


def _pending(where: str) -> str:
    """Only add-ons still waiting for their order."""
    return f"{where} AND order_id IS NULL" if where else " WHERE order_id IS NULL"


def _params(end: date) -> list:
    return [SubscriptionStatus.ACTIVE, end, SubscriptionStatus.PAUSED, end]


_SKIPPED: dict = {}
_ITEMS: dict[str, tuple[tuple[int, int], ...]] = {}


def _skipped(raw: object) -> tuple[int, ...]:
    key = raw if isinstance(raw, str) else json.dumps(raw)
    parsed = _SKIPPED.get(key)
    if parsed is None:
        values = json.loads(raw) if isinstance(raw, str) else raw
        parsed = _SKIPPED[key] = tuple(sorted(int(s) for s in values or ()))
    return parsed


def _items(raw: str) -> tuple[tuple[int, int], ...]:
    if not raw:
        return ()
    parsed = _ITEMS.get(raw)
    if parsed is None:
        parsed = _ITEMS[raw] = tuple(
            (int(pid), int(qty)) for pid, qty in (part.split("x") for part in raw.split(","))
        )
    return parsed


def _split(values: tuple) -> tuple[Shape, Profile]:
    shape = (*values[:7], _skipped(values[7]), *values[8:SHAPE_WIDTH])
    items = _items(values[SHAPE_WIDTH + 1])
    profile = Profile(
        course_id=values[13],
        items=items,
        group_id=values[15],
        payment_kind=values[16],
        prefecture=values[17],
        remote_island=bool(values[18]),
        cycle_count=values[19],
        orders_created=values[20],
        held=bool(values[21]),
        time_slot=values[22] or "",
        gift_wrapping=bool(values[23]),
        addons=_items(values[24]),
    )
    return _dates(shape), profile


def _dates(shape: tuple) -> Shape:
    # SQLite hands dates back as text.
    if isinstance(shape[5], str):
        shape = list(shape)
        for i in (5, 9, 10, 12):
            shape[i] = date.fromisoformat(shape[i]) if shape[i] else None
        shape = tuple(shape)
    return shape


def grouped(end: date, *, part: tuple[int, int] | None = None) -> Iterator[tuple[Shape, Profile, int]]:
    """(shape, profile, number of subscriptions) for everything without per-customer benefits.

    part=(k, parts): only the subscriptions whose id is k modulo parts (lanes read disjoint parts).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One big grouping: in memory rather than on disk, and no JIT (it cost more than the query).
            cursor.execute("SET LOCAL work_mem = '256MB'; SET LOCAL jit = off")
        cursor.execute(_select(per_row=False, part=part), _params(end))
        while True:
            chunk = cursor.fetchmany(20_000)
            if not chunk:
                return
            for values in chunk:
                shape, profile = _split(values[:-1])
                yield shape, profile, values[-1]


def detailed(end: date) -> list[tuple[Shape, Profile, Detailed]]:
    """One row per subscription with a coupon or reserved points, in id order."""
    with connection.cursor() as cursor:
        cursor.execute(_select(per_row=True), _params(end))
        rows = cursor.fetchall()
    out = []
    for values in rows:
        shape, profile = _split(values[:PROFILE_COLUMNS])
        out.append((shape, profile, Detailed(*values[PROFILE_COLUMNS : PROFILE_COLUMNS + 6])))
    return out
