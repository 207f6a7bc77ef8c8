"""Which delivery method an order gets, compared on what each costs to its address.

Pure: no Django import. catalog.packaging.delivery_decide is the one home of the choice (what fits,
requested, automatic, default, offered); this module only gives it each method's fee for this
order's address — a flat (全国一律) fee as it is, a method priced by the shop's table at the
prefecture's fee plus the remote-island surcharge — and turns the decision into the DeliveryTerms
that price_order charges. The free-shipping threshold is left out of the comparison: it waives
every method's fee alike, so it never changes which method is cheaper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from catalog.packaging import DeliveryDecision, MethodTerms, Package, delivery_decide

from .pricing import NO_METHOD, DeliveryTerms, ShippingTerms


@dataclass(frozen=True, slots=True)
class MethodOption:
    """An active delivery method as pricing reads it (catalog.DeliveryMethod)."""

    id: int
    name: str
    # Limits and flags; its `fee` is replaced per address by delivery_terms.
    terms: MethodTerms
    # 全国一律 fee in yen, tax included; None: priced by the shop's shipping table.
    flat_fee: int | None


def method_fees(
    methods: Sequence[MethodOption], *, shipping: ShippingTerms, prefecture: str, remote_island: bool
) -> dict[str, int]:
    """Each method's fee to this address before the free-shipping threshold, by code."""
    return {
        m.terms.code: shipping.method_fee(
            flat_fee=m.flat_fee, prefecture=prefecture, remote_island=remote_island
        )
        for m in methods
    }


def delivery_terms(
    methods: Sequence[MethodOption],
    packages: Sequence[tuple[Package, int]],
    *,
    shipping: ShippingTerms,
    prefecture: str,
    remote_island: bool,
    time_slot: bool,
    cod: bool,
    requested: str = "",
) -> DeliveryTerms:
    """The method the order gets and how it is charged. Without methods: the shop's table."""
    if not methods:
        return NO_METHOD
    fees = method_fees(methods, shipping=shipping, prefecture=prefecture, remote_island=remote_island)
    decision: DeliveryDecision = delivery_decide(
        [replace(m.terms, fee=fees[m.terms.code]) for m in methods],
        packages,
        requested=requested,
        time_slot=time_slot,
        cod=cod,
    )
    chosen = next((m for m in methods if m.terms.code == decision.method), None)
    if chosen is None:
        return DeliveryTerms(decision=decision)
    return DeliveryTerms(chosen.id, chosen.terms.code, chosen.flat_fee, decision)
