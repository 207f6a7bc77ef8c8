"""Reads about customers that several callers need (my page, its API, storefront)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet

from core import sqlrows
from core.sqlrows import ModelColumns

from .matching import KeyIndex, PersonKeys
from .models import Address, Customer, MatchRule


def customer_for_user(user: Any) -> Customer | None:
    """The customer profile of a signed-in user; None for anonymous users and staff without one."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.customer
    except Customer.DoesNotExist:
        return None


_ADDRESS = ModelColumns(Address, "a")
_ADDRESS_LIST_SQL = (
    f"SELECT {_ADDRESS.sql} FROM {_ADDRESS.table} WHERE {_ADDRESS.column('customer')} = %s "
    f"ORDER BY {_ADDRESS.order_by()}"
)


def address_list(*, customer_id: int) -> list[Address]:
    """The customer's address book, in the model's order (hand-written, core.sqlrows: the my page
    reads it on every request)."""
    return [_ADDRESS.build(row) for row in sqlrows.fetch(_ADDRESS_LIST_SQL, [customer_id])]


# --- Same person? (customers.matching over the stored records) -------------------------------------


def customer_keys(customer: Customer, addresses: Iterable[Address] = ()) -> list[PersonKeys]:
    """One person's ways of being written: the profile (name, kana, phone, login email) and each
    address (recipient, phone, postal code + line)."""
    records = [
        PersonKeys.of(name=customer.name, phone=customer.phone, email=customer.user.email),
        PersonKeys.of(name=customer.name_kana),
    ]
    records += [
        PersonKeys.of(name=a.recipient_name, phone=a.phone, postal_code=a.postal_code, address_line=a.line1)
        for a in addresses
    ]
    return records


def customers_keys(customers: QuerySet[Customer]) -> dict[int, list[PersonKeys]]:
    """{customer id: customer_keys} for many customers in two queries (customers, their addresses)."""
    people = list(customers.select_related("user").order_by("id"))
    by_customer: dict[int, list[Address]] = {}
    for address in Address.objects.filter(customer_id__in=[c.id for c in people]):
        by_customer.setdefault(address.customer_id, []).append(address)
    return {c.id: customer_keys(c, by_customer.get(c.id, ())) for c in people}


def _index(customers: QuerySet[Customer]) -> KeyIndex:
    index = KeyIndex()
    for customer_id, records in customers_keys(customers).items():
        for keys in records:
            index.add(customer_id, keys)
    return index


def blacklist_index() -> KeyIndex:
    """Every blacklisted customer's keys (two queries): built once per nightly run or page."""
    return _index(Customer.objects.filter(is_blacklisted=True))


def blacklist_matches(*, customer_id: int, index: KeyIndex | None = None) -> dict[int, list[str]]:
    """{blacklisted customer id: agreeing fields} for a customer on two or more of the four keys."""
    customer = Customer.objects.select_related("user").get(pk=customer_id)
    index = index if index is not None else blacklist_index()
    return index.matches(customer_keys(customer, customer.addresses.all()), exclude=customer_id)


def same_person_matches(*, customer_id: int) -> dict[int, list[str]]:
    """Other customer records that are the same person under the shop's MatchRule (リピーター候補).

    Reads only the records that share at least one non-empty key with this customer (a query per
    key kind), not the whole customer table."""
    rule = MatchRule.current()
    customer = Customer.objects.select_related("user").get(pk=customer_id)
    mine = customer_keys(customer, customer.addresses.all())
    if not rule.fields:
        return {}
    candidates = _candidate_ids(customer, mine) - {customer_id}
    if not candidates:
        return {}
    index = _index(Customer.objects.filter(id__in=candidates))
    return index.matches(mine, min_fields=max(1, rule.min_fields), fields=rule.fields)


def _candidate_ids(customer: Customer, mine: list[PersonKeys]) -> set[int]:
    """Customers who might agree on some key: same email, phone digits' tail, postal code or name.

    A coarse, indexed pre-filter (each field's exact stored forms); KeyIndex then decides on the
    normalised keys."""
    emails = {k.email for k in mine if k.email}
    names = {customer.name, customer.name_kana} - {""}
    postal_codes = {a.postal_code for a in customer.addresses.all()}
    phones = {customer.phone, *customer.addresses.values_list("phone", flat=True)} - {""}
    q = Q(user__email__in=emails) | Q(name__in=names) | Q(name_kana__in=names)
    q |= Q(addresses__postal_code__in=postal_codes) | Q(phone__in=phones) | Q(addresses__phone__in=phones)
    return set(Customer.objects.filter(q).values_list("id", flat=True).distinct())


# --- Segments (セグメント配信) -------------------------------------------------------------------------

SEGMENTS = ("repeaters", "first_time", "similar_to_blacklist", "group")
_SCAN_CHUNK = 2000


def segment_customer_ids(*, segment: str, group_id: int | None = None) -> list[int]:
    """The customers of a segment, blacklisted customers never included, in id order.

    repeaters: two or more orders; first_time: exactly one; group: the customer group; similar to the
    blacklist: two or more keys agree with a blacklisted customer (customers.matching), decided in
    memory over the customers read _SCAN_CHUNK at a time (two queries a chunk)."""
    base = Customer.objects.filter(is_blacklisted=False).order_by("id")
    if segment == "repeaters":
        return list(base.annotate(n=Count("orders")).filter(n__gte=2).values_list("id", flat=True))
    if segment == "first_time":
        return list(base.annotate(n=Count("orders")).filter(n=1).values_list("id", flat=True))
    if segment == "group":
        return list(base.filter(group_id=group_id).values_list("id", flat=True)) if group_id else []
    if segment == "similar_to_blacklist":
        index = blacklist_index()
        if not index:
            return []
        found: list[int] = []
        ids = list(base.values_list("id", flat=True))
        for start in range(0, len(ids), _SCAN_CHUNK):
            chunk = customers_keys(Customer.objects.filter(id__in=ids[start : start + _SCAN_CHUNK]))
            found += [cid for cid, records in chunk.items() if index.matches(records, exclude=cid)]
        return found
    raise ValueError(f"unknown segment {segment!r}")
