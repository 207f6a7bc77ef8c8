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
_PERSON_VALUES = ("ship_name", "ship_phone", "ship_postal_code", "ship_line1", "customer__user__email")


def ids_in(qs: QuerySet, ids: Sequence[int], column: str = "id") -> QuerySet:
    """qs limited to rows whose `column` is one of `ids`. On PostgreSQL the ids go as one array
    literal: psycopg adapting a 1,000-int list element by element was a tenth of the stage's time."""
    if connection.vendor != "postgresql":
        return qs.filter(**{f"{column}__in": ids})
    table = qs.model._meta.db_table
    return qs.extra(
        where=[f'"{table}"."{column}" = ANY(%s::bigint[])'], params=["{" + ",".join(map(str, ids)) + "}"]
    )


class FactsLoader:
    """Reads what stays the same for a run once, then the facts of each batch in a few queries."""

    def __init__(self, *, rules: Sequence[engine.Rule], today: date) -> None:
        self.today = today
        self.used = engine.fields_used(rules)
        methods = list(DeliveryMethod.objects.filter(is_active=True))
        self.method_code = {m.pk: m.code for m in methods}
        self.method_id = {m.code: m.pk for m in methods}
        self.default_method = next((m.code for m in methods if m.is_default), "")
        self.terms = [_terms(m) for m in methods]
        self.mail_bin_codes = {m.code for m in methods if m.kind in MAIL_BIN_KINDS}
        self._products: dict[int, tuple[Package, bool]] = {}
        self._blacklist: dict[str, dict[str, set[int]]] | None = None

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
        self._product_info(pid for order_lines in lines.values() for pid, _s, _q in order_lines)
        first_order: dict[int, int] = {}
        if "customer_repeater" in self.used:
            first_order = dict(
                Order.objects.filter(customer_id__in={r["customer_id"] for r in rows})
                .values("customer_id")
                .annotate(first=Min("id"))
                .values_list("customer_id", "first")
            )
        return [self._facts(r, lines.get(r["id"], []), first_order) for r in rows]

    def _facts(
        self, row: dict[str, Any], lines: list[tuple[int, str, int]], first_order: dict[int, int]
    ) -> engine.OrderFacts:
        packages = [(self._products[pid][0], qty) for pid, _sku, qty in lines]
        fits = fitting_methods(
            self.terms, packages, time_slot=bool(row["delivery_time_slot"]), cod=row["payment_kind"] == "cod"
        )
        delivery = row["delivery_date"]
        method = self.method_code.get(row["delivery_method_id"], "") or self.default_method
        values = {
            "payment_kind": row["payment_kind"],
            "payment_status": row["payment_status"],
            "total": row["total"],
            "items_subtotal": row["items_subtotal"],
            "item_count": sum(qty for _pid, _sku, qty in lines),
            "skus": frozenset(sku for _pid, sku, _qty in lines),
            "has_preorder": any(self.preordered(pid) for pid, _sku, _qty in lines),
            "fits_mail_bin": bool(fits & self.mail_bin_codes),
            "course": row["subscription__course__code"] or "",
            "sequence": row["sequence"],
            "first_order": row["sequence"] in (None, 1),
            "customer_blacklisted": row["customer__is_blacklisted"],
            "customer_group": row["customer__group__code"] or "",
            "is_gift": row["is_gift"],
            "has_comment": bool(row["customer_comment"].strip()),
            "prefecture": row["ship_prefecture"],
            "remote_island": row["ship_remote_island"],
            "delivery_date": delivery,
            "delivery_weekday": WEEKDAYS[delivery.weekday()] if delivery else "",
            "delivery_days_ahead": (delivery - row["creation_date"]).days if delivery else None,
            "delivery_time_slot": row["delivery_time_slot"],
        }
        if first_order:
            values["customer_repeater"] = first_order.get(row["customer_id"], row["id"]) < row["id"]
        if "customer_similar_blacklisted" in self.used:
            values["customer_similar_blacklisted"] = self._similar(row)
        state = engine.OrderState(
            status=row["status"],
            hold_reasons=tuple(row["hold_reasons"] or ()),
            tags=tuple(row["tags"] or ()),
            delivery_method=method,
        )
        return engine.OrderFacts(
            order_id=row["id"],
            state=state,
            values=values,
            can_ship=row["payment_status"] in _SETTLED or row["payment_kind"] == "cod",
            fitting_methods=fits,
        )

    def _similar(self, row: dict[str, Any]) -> bool:
        """Two or more keys shared with one blacklisted customer other than the order's own
        (customers.matching's rule, min_fields=2)."""
        index = self._blacklisted_people()
        own = row["customer_id"]
        shared: Counter[int] = Counter()

        def match(name: str, value: str) -> None:
            if value:
                shared.update(pk for pk in index[name].get(value, ()) if pk != own)

        # Cheap keys first: the address key (width folding) is only worth computing when one
        # other key already matched someone, as two are needed.
        match("phone", phone_key(row["ship_phone"]))
        match("email", email_key(row["customer__user__email"]))
        match("name", name_key(row["ship_name"]))
        if not shared:
            return False
        match("address", address_key(row["ship_postal_code"], row["ship_line1"]))
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
