"""Claiming and reading one batch of due subscriptions in a fixed number of queries.

A batch is read as plain values into `DueRow`s (attribute names match the Subscription model, so
pricing code written against model instances reads them too) rather than model instances: at
100,000 rows a night, instantiating models and related objects would cost more than the writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper
from django.db.models.expressions import RawSQL

from subscriptions.models import Subscription, SubscriptionStatus

# (column, DueRow attribute). Joined columns come through the FK path; the customer and user are
# inner joins (never null), the address and payment method outer joins (they may be missing).
_COLUMNS = (
    ("id", "id"),
    ("customer_id", "customer_id"),
    ("course_id", "course_id"),
    ("cycle_unit", "cycle_unit"),
    ("cycle_interval", "cycle_interval"),
    ("cycle_day_of_month", "cycle_day_of_month"),
    ("cycle_nth_week", "cycle_nth_week"),
    ("cycle_weekday", "cycle_weekday"),
    ("anchor_date", "anchor_date"),
    ("anchor_sequence", "anchor_sequence"),
    ("skipped_sequences", "skipped_sequences"),
    ("next_sequence", "next_sequence"),
    ("next_delivery_date", "next_delivery_date"),
    ("next_creation_date", "next_creation_date"),
    ("last_delivery_date", "last_delivery_date"),
    ("delivery_time_slot", "delivery_time_slot"),
    ("shipping_address_id", "shipping_address_id"),
    ("payment_method_id", "payment_method_id"),
    ("coupon_id", "coupon_id"),
    ("orders_created", "orders_created"),
    ("cycle_count", "cycle_count"),
    ("needs_attention", "needs_attention"),
    ("points_reservation", "points_reservation"),
    ("points_reservation_amount", "points_reservation_amount"),
    ("customer__is_blacklisted", "customer_is_blacklisted"),
    ("customer__is_member", "customer_is_member"),
    ("customer__group_id", "customer_group_id"),
    ("customer__name", "customer_name"),
    ("customer__user__email", "customer_email"),
    ("customer__language", "customer_language"),
    ("shipping_address__recipient_name", "ship_name"),
    ("shipping_address__postal_code", "ship_postal_code"),
    ("shipping_address__prefecture", "ship_prefecture"),
    ("shipping_address__city", "ship_city"),
    ("shipping_address__line1", "ship_line1"),
    ("shipping_address__line2", "ship_line2"),
    ("shipping_address__phone", "ship_phone"),
    ("shipping_address__is_remote_island", "ship_remote_island"),
    ("shipping_address__is_invalid", "address_is_invalid"),
    ("payment_method__kind", "payment_kind"),
    ("payment_method__is_active", "payment_method_active"),
    # The blacklist-similarity check (plan._hold_reasons) compares these with the blacklist's keys.
    ("customer__phone", "customer_phone"),
    ("customer__name_kana", "customer_name_kana"),
    # The subscription's gift setting (orders.SubscriptionGift, an outer join): its orders inherit it.
    ("gift__id", "gift_id"),
    ("gift__wrapping", "gift_wrapping"),
    ("gift__message", "gift_message"),
)
_PATHS = tuple(path for path, _attr in _COLUMNS)


@dataclass(slots=True)
class DueRow:
    id: int
    customer_id: int
    course_id: int
    cycle_unit: str
    cycle_interval: int
    cycle_day_of_month: int | None
    cycle_nth_week: int | None
    cycle_weekday: int | None
    anchor_date: date
    anchor_sequence: int
    skipped_sequences: list
    next_sequence: int
    next_delivery_date: date
    next_creation_date: date
    last_delivery_date: date | None
    delivery_time_slot: str
    shipping_address_id: int | None
    payment_method_id: int | None
    coupon_id: int | None
    orders_created: int
    cycle_count: int
    needs_attention: list
    points_reservation: str
    points_reservation_amount: int
    customer_is_blacklisted: bool
    customer_is_member: bool
    customer_group_id: int | None
    customer_name: str
    customer_email: str
    customer_language: str  # the language the customer uses the shop in (their mails follow it)
    ship_name: str | None
    ship_postal_code: str | None
    ship_prefecture: str | None
    ship_city: str | None
    ship_line1: str | None
    ship_line2: str | None
    ship_phone: str | None
    ship_remote_island: bool | None
    address_is_invalid: bool | None
    payment_kind: str | None
    payment_method_active: bool | None
    customer_phone: str
    customer_name_kana: str
    gift_id: int | None
    gift_wrapping: bool | None
    gift_message: str | None
    # (product_id, quantity) in the order the customer added them.
    items: list[tuple[int, int]] = field(default_factory=list)
    # Pending ついで買い for this order only: (add-on id, product_id, quantity), in the order added.
    addons: list[tuple[int, int, int]] = field(default_factory=list)
    # Set while planning (plan._check_address): what the postal data says is wrong, "" when it agrees.
    address_problem: str = ""

    @property
    def pk(self) -> int:
        return self.id

    @property
    def addon_items(self) -> list[tuple[int, int]]:
        """The add-ons as (product_id, quantity), priced at the one-off price after the items."""
        return [(pid, qty) for _id, pid, qty in self.addons]

    @property
    def goods(self) -> list[tuple[int, int]]:
        """Everything the order takes from stock: the items, then the add-ons."""
        return self.items + self.addon_items if self.addons else self.items

    @property
    def skipped(self) -> frozenset[int]:
        if not self.skipped_sequences:
            return _NONE_SKIPPED
        return frozenset(int(s) for s in self.skipped_sequences)


_NONE_SKIPPED: frozenset[int] = frozenset()


def due_queryset(run_date: date, exclude_ids: list[int] | tuple[int, ...] = ()):  # noqa: ANN201
    """Active rows whose creation date has come, in the order of the partial index sub_due_idx
    (next_creation_date, id), so LIMIT reads only the head of the index instead of sorting every
    due row per batch.

    A row whose next creation date is still due after tonight's order was made (two deliveries
    created the same day) is claimed again; existing_orders() then finds tonight's order and the
    row is passed over (and excluded by the caller), so a run never gives it two orders. Doing
    that check here as NOT EXISTS looked neater but let the planner pick a sequential scan of
    orders per due row while the table's statistics still said "empty".
    """
    qs = Subscription.objects.filter(status=SubscriptionStatus.ACTIVE, next_creation_date__lte=run_date)
    if exclude_ids:
        qs = qs.exclude(id__in=exclude_ids)
    return qs.order_by("next_creation_date", "id")


def claim_batch(
    *,
    run_date: date,
    batch_size: int,
    exclude_ids: list[int] | tuple[int, ...] = (),
    after: tuple[date, int] | None = None,
) -> list[DueRow]:
    """Lock and read up to `batch_size` due rows with their items and pending add-ons: two queries.

    Call inside transaction.atomic. On PostgreSQL the rows are locked FOR UPDATE SKIP LOCKED, so
    concurrent runs take disjoint batches; rows changed and committed by another run meanwhile are
    re-checked by PostgreSQL against the WHERE clause before they are returned. Elsewhere (SQLite)
    select_for_update is a no-op, which is fine for one process.

    `after` (the (next_creation_date, id) of the last row this lane claimed) continues the scan of
    sub_due_idx where it stopped. Without it every claim walked the index entries of every row
    processed so far, which stay until vacuum (and cannot even be marked dead while another lane's
    transaction is open): batches got twice as slow by the end of a 100,000-row night.
    """
    qs = due_queryset(run_date, exclude_ids)
    if after is not None:
        qs = qs.filter(_after(after))
    qs = qs.values_list(*_PATHS)[:batch_size]
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = _fetch_raw(qs)
    else:
        rows = [DueRow(*values) for values in qs]
    if not rows:
        return rows
    by_id = {row.id: row for row in rows}
    where, params = _id_filter("subscription_id", by_id)
    with connection.cursor() as cursor:
        # Items (addon id NULL) and pending add-ons in one round trip; add-ons are rare, and read
        # under the subscription locks taken above, so none can change before the batch commits.
        cursor.execute(
            "SELECT subscription_id, NULL, product_id, quantity, id FROM subscriptions_subscriptionitem "
            f"WHERE {where} UNION ALL "
            "SELECT subscription_id, id, product_id, quantity, id FROM subscriptions_subscriptionaddon "
            f"WHERE order_id IS NULL AND {where} ORDER BY 1, 2 NULLS FIRST, 5",
            params + params,
        )
        for subscription_id, addon_id, product_id, quantity, _id in cursor.fetchall():
            if addon_id is None:
                by_id[subscription_id].items.append((product_id, quantity))
            else:
                by_id[subscription_id].addons.append((addon_id, product_id, quantity))
    return rows


def _after(key: tuple[date, int]) -> ExpressionWrapper:
    table = Subscription._meta.db_table
    return ExpressionWrapper(
        RawSQL(f'("{table}"."next_creation_date", "{table}"."id") > (%s, %s)', list(key)),
        output_field=BooleanField(),
    )


_JSON_AT = [i for i, (path, _attr) in enumerate(_COLUMNS) if path in ("skipped_sequences", "needs_attention")]


def _fetch_raw(qs) -> list[DueRow]:  # noqa: ANN001
    """The queryset's own SQL, fetched without Django's per-value converters (PostgreSQL only:
    dates and booleans come back typed already; only the two JSON columns arrive as text).
    A third of a batch's Python time went to those converters."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for values in fetched:
        values = list(values)
        for i in _JSON_AT:
            raw = values[i]
            values[i] = [] if raw == "[]" else (json.loads(raw) if isinstance(raw, str) else raw)
        rows.append(DueRow(*values))
    return rows


def _id_filter(column: str, ids) -> tuple[str, list]:  # noqa: ANN001
    """`column` among `ids`: one array parameter on PostgreSQL (Django's IN builds and converts
    one placeholder per id, which costs more than the query itself at 1,000 ids)."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


def existing_orders(rows: list[DueRow], run_date: date) -> tuple[set[int], set[int]]:
    """(subscriptions that already have an order for their next sequence, those ordered on run_date).

    One query. Normally both sets are empty; they catch an order made outside the nightly run (or
    by a run racing this one) so the batch neither fails on the unique constraint nor doubles up.
    """
    wanted: dict[int, int] = {row.id: row.next_sequence for row in rows}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One index probe per subscription, whatever the statistics say: on a fresh or fast-growing
            # orders table (no ANALYZE yet) "subscription_id = ANY(1,000 ids)" was planned as a
            # sequential scan, 0.3 s a batch by the end of a 100,000-row night. OFFSET 0 keeps the
            # planner from flattening the lateral subquery back into that join.
            cursor.execute(
                "SELECT o.subscription_id, o.sequence, o.creation_date FROM unnest(%s::bigint[]) AS s(id) "
                "CROSS JOIN LATERAL (SELECT subscription_id, sequence, creation_date FROM orders_order "
                "WHERE subscription_id = s.id OFFSET 0) AS o",
                [list(wanted)],
            )
        else:
            where, params = _id_filter("subscription_id", wanted)
            cursor.execute(
                f"SELECT subscription_id, sequence, creation_date FROM orders_order WHERE {where}", params
            )
        found = cursor.fetchall()
    has_sequence: set[int] = set()
    ordered_today: set[int] = set()
    for subscription_id, sequence, creation_date in found:
        if str(creation_date) == run_date.isoformat():  # SQLite returns text
            ordered_today.add(subscription_id)
        if sequence == wanted[subscription_id]:
            has_sequence.add(subscription_id)
    return has_sequence, ordered_today
