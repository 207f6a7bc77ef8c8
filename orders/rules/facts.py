"""What the rule conditions read, for a batch of orders at once: a fixed number of queries per batch
(the orders, their lines, and — only when a rule tests them — repeat customers), never one per order
or per rule. The catalogue side (products' flags and packages, delivery methods, blacklisted
people) is read once per run by `FactsLoader`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Min, QuerySet

from catalog.models import DeliveryKind, DeliveryMethod, Product
from catalog.packaging import MethodTerms, Package, fitting_methods
from customers.matching import FIELDS as MATCH_FIELDS
from customers.matching import PersonKeys, address_key, email_key, name_key, phone_key
from customers.models import Address, Customer

from ..models import Order, OrderLine, PaymentStatus
from . import engine
from .validation import WEEKDAYS

_SETTLED = {PaymentStatus.PAID, PaymentStatus.AUTHORIZED, PaymentStatus.NOT_REQUIRED}
MAIL_BIN_KINDS = {DeliveryKind.MAIL_BIN, DeliveryKind.NEKOPOS}

ORDER_VALUES = (
    "id", "status", "payment_status", "payment_kind", "total", "items_subtotal", "is_gift",
    "customer_comment", "ship_prefecture", "ship_remote_island", "delivery_date", "delivery_time_slot",
    "hold_reasons", "tags", "sequence", "subscription__course__code", "customer_id",
    "customer__is_blacklisted", "customer__group__code", "creation_date", "delivery_method_id",
)  # fmt: skip
# Facts that are one column of the order, as they are.
_PLAIN = (
    ("payment_kind", "payment_kind"), ("total", "total"), ("items_subtotal", "items_subtotal"),
    ("sequence", "sequence"), ("customer_blacklisted", "customer__is_blacklisted"), ("is_gift", "is_gift"),
    ("prefecture", "ship_prefecture"), ("remote_island", "ship_remote_island"),
    ("delivery_date", "delivery_date"), ("delivery_time_slot", "delivery_time_slot"),
)  # fmt: skip
_OTHER = {
    "course", "customer_group", "first_order", "has_comment", "delivery_weekday", "delivery_days_ahead",
    "customer_repeater", "customer_similar_blacklisted",
}  # fmt: skip
_PERSON_VALUES = ("ship_name", "ship_phone", "ship_postal_code", "ship_line1", "customer__user__email")


def can_ship(payment_status: str, payment_kind: str) -> bool:
    """出荷待ち is allowed: the payment is settled, or it is collected on delivery."""
    return payment_status in _SETTLED or payment_kind == "cod"


def ids_in(qs: QuerySet, ids: Sequence[int], column: str = "id") -> QuerySet:
    """qs limited to rows whose `column` is one of `ids`. On PostgreSQL the ids go as one array
    literal: psycopg adapting a 1,000-int list element by element was a tenth of the stage's time."""
    if connection.vendor != "postgresql":
        return qs.filter(**{f"{column}__in": ids})
    table = qs.model._meta.db_table
    return qs.extra(
        where=[f'"{table}"."{column}" = ANY(%s::bigint[])'], params=["{" + ",".join(map(str, ids)) + "}"]
    )


def no_seq_scans() -> None:
    """This batch's transaction only (SET LOCAL): look orders and lines up by their indexes.

    The stage runs right after generation wrote tonight's orders, before any ANALYZE: the planner
    still believes the tables hold what they held at the last ANALYZE and chose sequential scans for
    `id = ANY(…)` and `order_id = ANY(…)`, so each batch read the whole table and the stage slowed
    as the night grew (bench/rules.py: 1.4 ms an order at 2,000 orders, 2.4 ms at 100,000)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")


def walk_key(facts: engine.OrderFacts) -> tuple:
    """What a walk depends on: the tested values (FactsLoader works out only those, always in the same
    order), the state the actions change, whether the order can ship and the methods it fits. Orders
    alike in these walk alike (a night's orders repeat the same few prices, slots and payment kinds)."""
    return (tuple(facts.values.values()), facts.state, facts.can_ship, facts.fitting_methods)


class FactsLoader:
    """Reads what stays the same for a run once, then the facts of each batch in a few queries."""

    def __init__(self, *, rules: Sequence[engine.Rule], today: date) -> None:
        self.today = today
        self.used = engine.fields_used(rules)
        self._line_facts = bool(self.used & {"item_count", "skus", "has_preorder"})
        # The methods the items fit: tested, or needed by a rule that sets the delivery method.
        self.needs_fit = "fits_mail_bin" in self.used or any(
            a.type == "set_delivery_method" for rule in rules for a in rule.actions
        )
        self._other_facts = bool(self.used & _OTHER)
        self._plain = [(name, column) for name, column in _PLAIN if name in self.used]
        methods = list(DeliveryMethod.objects.filter(is_active=True))
        self.method_code_of = {m.pk: m.code for m in methods}
        self.method_id = {m.code: m.pk for m in methods}
        self.default_method = next((m.code for m in methods if m.is_default), "")
        self.terms = [_terms(m) for m in methods]
        self.mail_bin_codes = {m.code for m in methods if m.kind in MAIL_BIN_KINDS}
        self._products: dict[int, tuple[Package, bool]] = {}
        self._blacklist: dict[str, dict[str, set[int]]] | None = None

    def method_pk(self, code: str) -> int | None:
        """The delivery method's id for an order column (the default's too: an order is priced with
        and keeps the method it ships by); None only when the shop has no such method."""
        return self.method_id.get(code)

    def method_code(self, pk: int | None) -> str:
        return self.method_code_of.get(pk, "") or self.default_method

    def _product_info(self, product_ids: Iterable[int]) -> None:
        missing = set(product_ids) - self._products.keys()
        if not missing:
            return
        rows = Product.objects.filter(pk__in=missing).values_list(
            "pk", "package_length_mm", "package_width_mm", "package_thickness_mm", "package_weight_g",
            "is_preorder", "release_date",
        )  # fmt: skip
        for pk, length, width, thickness, weight, preorder, release in rows:
            unreleased = preorder and (release is None or release > self.today)
            self._products[pk] = (Package(length, width, thickness, weight), unreleased)

    def preordered(self, product_id: int) -> bool:
        return self._products[product_id][1]

    def _blacklisted_people(self) -> dict[str, dict[str, set[int]]]:
        """Per matching key (customers.matching.FIELDS): value → the blacklisted customers having it,
        read once; an order is then checked in a few dict lookups, however long the blacklist."""
        if self._blacklist is None:
            index: dict[str, dict[str, set[int]]] = {name: {} for name in MATCH_FIELDS}

            def add(pk: int, keys: PersonKeys) -> None:
                for name in MATCH_FIELDS:
                    value = getattr(keys, name)
                    if value:
                        index[name].setdefault(value, set()).add(pk)

            customers = Customer.objects.filter(is_blacklisted=True).values_list(
                "pk", "name", "phone", "user__email"
            )
            people = {pk: (name, phone, email) for pk, name, phone, email in customers}
            for pk, (name, phone, email) in people.items():
                add(pk, PersonKeys.of(name=name, phone=phone, email=email))
            addresses = Address.objects.filter(customer_id__in=people).values_list(
                "customer_id", "postal_code", "line1"
            )
            for pk, postal, line in addresses:
                add(pk, PersonKeys.of(postal_code=postal, address_line=line))
            self._blacklist = index
        return self._blacklist

    def load(self, order_ids: Sequence[int]) -> list[engine.OrderFacts]:
        """The facts of these orders (those that still exist), in id order."""
        wanted = list(ORDER_VALUES)
        similar = "customer_similar_blacklisted" in self.used
        if similar:
            wanted += _PERSON_VALUES
        rows = list(ids_in(Order.objects.all(), order_ids).order_by("pk").values(*wanted))
        return self.facts_of(rows)

    def facts_of(self, rows: list[dict[str, Any]]) -> list[engine.OrderFacts]:
        ids = [r["id"] for r in rows]
        lines: dict[int, list[tuple[int, str, int]]] = {}
        for order_id, product_id, sku, quantity in ids_in(
            OrderLine.objects.all(), ids, "order_id"
        ).values_list("order_id", "product_id", "sku", "quantity"):
            lines.setdefault(order_id, []).append((product_id, sku, quantity))
        first_order: dict[int, int] = {}
        if "customer_repeater" in self.used:
            first_order = dict(
                Order.objects.filter(customer_id__in={r["customer_id"] for r in rows})
                .values("customer_id")
                .annotate(first=Min("id"))
                .values_list("customer_id", "first")
            )
        return self.facts_of_rows(rows, lines, first_order)

    def facts_of_rows(
        self,
        rows: list[dict[str, Any]],
        lines: dict[int, list[tuple[int, str, int]]],
        first_order: dict[int, int],
    ) -> list[engine.OrderFacts]:
        """The facts of orders already in memory (the nightly run's, before they are written): `rows`
        as `load` reads them (ORDER_VALUES, and the person values when the blacklist is tested),
        `lines` per row id as (product id, SKU, quantity), `first_order` per customer the id of their
        first order (a row whose id is above it is a repeater's; only read when a rule tests it)."""
        self.products_of(lines)
        return [self._facts(r, lines.get(r["id"], []), first_order) for r in rows]

    def products_of(self, lines: dict[int, list[tuple[int, str, int]]]) -> None:
        """Read the packages and pre-order flags of these lines' products not read yet."""
        self._product_info(pid for order_lines in lines.values() for pid, _s, _q in order_lines)

    def _facts(
        self, row: dict[str, Any], lines: list[tuple[int, str, int]], first_order: dict[int, int]
    ) -> engine.OrderFacts:
        values, fits = self.values_of(row, lines, first_order)
        return engine.OrderFacts(
            order_id=row["id"],
            state=self.state_of(row),
            values=values,
            can_ship=can_ship(row["payment_status"], row["payment_kind"]),
            fitting_methods=fits,
        )

    def state_of(self, row: dict[str, Any]) -> engine.OrderState:
        return engine.OrderState(
            status=row["status"],
            hold_reasons=tuple(row["hold_reasons"] or ()),
            tags=tuple(row["tags"] or ()),
            delivery_method=self.method_code(row["delivery_method_id"]),
        )

    def values_of(
        self, row: dict[str, Any], lines: list[tuple[int, str, int]], first_order: dict[int, int]
    ) -> tuple[dict[str, Any], frozenset[str]]:
        """(the tested values, always in the same order, the methods the items fit). Only what the
        rules test is worked out (the walk reads nothing else): the line-based facts, the packages
        and the blacklist check cost per order."""
        used = self.used
        values = {name: row[column] for name, column in self._plain}
        if "payment_status" in used:
            values["payment_status"] = row["payment_status"]
        if self._line_facts:
            if "item_count" in used:
                values["item_count"] = sum(qty for _pid, _sku, qty in lines)
            if "skus" in used:
                values["skus"] = frozenset(sku for _pid, sku, _qty in lines)
            if "has_preorder" in used:
                values["has_preorder"] = any(self.preordered(pid) for pid, _sku, _qty in lines)
        fits: frozenset[str] = frozenset()
        if self.needs_fit:
            packages = [(self._products[pid][0], qty) for pid, _sku, qty in lines]
            time_slot, cod = bool(row["delivery_time_slot"]), row["payment_kind"] == "cod"
            fits = fitting_methods(self.terms, packages, time_slot=time_slot, cod=cod)
            values["fits_mail_bin"] = bool(fits & self.mail_bin_codes)
        if self._other_facts:
            self._other(values, row, first_order)
        return values, fits

    def _other(self, values: dict[str, Any], row: dict[str, Any], first_order: dict[int, int]) -> None:
        """The facts worked out from several columns, or from other rows."""
        used = self.used
        delivery = row["delivery_date"]
        if "course" in used:
            values["course"] = row["subscription__course__code"] or ""
        if "customer_group" in used:
            values["customer_group"] = row["customer__group__code"] or ""
        if "first_order" in used:
            values["first_order"] = row["sequence"] in (None, 1)
        if "has_comment" in used:
            values["has_comment"] = bool(row["customer_comment"].strip())
        if "delivery_weekday" in used:
            values["delivery_weekday"] = WEEKDAYS[delivery.weekday()] if delivery else ""
        if "delivery_days_ahead" in used:
            values["delivery_days_ahead"] = (delivery - row["creation_date"]).days if delivery else None
        if "customer_repeater" in used:
            values["customer_repeater"] = first_order.get(row["customer_id"], row["id"]) < row["id"]
        if "customer_similar_blacklisted" in used:
            values["customer_similar_blacklisted"] = self._similar(row)

    def _similar(self, row: dict[str, Any]) -> bool:
        """Two or more keys shared with one blacklisted customer other than the order's own
        (customers.matching's rule, min_fields=2)."""
        index = self._blacklisted_people()
        own = row["customer_id"]
        # Cheap keys first: the address key is only worth looking up when another key already
        # matched someone, as two are needed. Most orders match nobody on any key.
        found = [
            people
            for people in (
                index["phone"].get(phone_key(row["ship_phone"])),
                index["email"].get(email_key(row["customer__user__email"])),
                index["name"].get(name_key(row["ship_name"])),
            )
            if people and (len(people) > 1 or own not in people)
        ]
        if not found:
            return False
        address = index["address"].get(address_key(row["ship_postal_code"], row["ship_line1"]))
        if address:
            found.append(address)
        shared = Counter(pk for people in found for pk in people if pk != own)
        return any(n >= 2 for n in shared.values())


def _terms(method: DeliveryMethod) -> MethodTerms:
    return MethodTerms(
        code=method.code,
        fee=method.fee,
        max_length_mm=method.max_length_mm,
        max_width_mm=method.max_width_mm,
        max_thickness_mm=method.max_thickness_mm,
        max_weight_g=method.max_weight_g,
        allows_time_slot=method.allows_time_slot,
        allows_cod=method.allows_cod,
        auto_assign=method.auto_assign,
        is_default=method.is_default,
    )
