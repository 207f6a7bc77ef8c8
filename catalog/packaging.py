"""Which delivery methods an order's items fit (メール便判定), and which one the order gets.

Pure: no Django import. The order rules (orders.rules.facts), the order's delivery-method choice and
the price preview (pricing.selectors.delivery_quote) all call `delivery_decide`: one home for the rule.

Items are stacked in one package: thicknesses and weights add up, the length and width are the
largest item's. An item with no measured package fits only a method without limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# Why a method does not fit (codes; catalog.selectors words them).
UNMEASURED = "unmeasured"
TOO_LONG = "too_long"
TOO_WIDE = "too_wide"
TOO_THICK = "too_thick"
TOO_HEAVY = "too_heavy"
NO_TIME_SLOT = "no_time_slot"
NO_COD = "no_cod"


@dataclass(frozen=True, slots=True)
class Package:
    length_mm: int | None = None
    width_mm: int | None = None
    thickness_mm: int | None = None
    weight_g: int | None = None

    @property
    def measured(self) -> bool:
        return None not in (self.length_mm, self.width_mm, self.thickness_mm, self.weight_g)


@dataclass(frozen=True, slots=True)
class MethodTerms:
    code: str
    fee: int  # yen, tax included
    max_length_mm: int | None = None
    max_width_mm: int | None = None
    max_thickness_mm: int | None = None
    max_weight_g: int | None = None
    allows_time_slot: bool = True
    allows_cod: bool = True
    auto_assign: bool = False
    is_default: bool = False

    @property
    def has_size_limits(self) -> bool:
        return any(
            v is not None
            for v in (self.max_length_mm, self.max_width_mm, self.max_thickness_mm, self.max_weight_g)
        )


@dataclass(frozen=True, slots=True)
class Misfit:
    code: str
    actual: int | None = None
    limit: int | None = None


def method_misfits(
    method: MethodTerms, items: Sequence[tuple[Package, int]], *, time_slot: bool, cod: bool
) -> list[Misfit]:
    """Why the items do not fit `method`; [] when they do."""
    found: list[Misfit] = []
    if method.has_size_limits:
        if not all(package.measured for package, _qty in items):
            found.append(Misfit(UNMEASURED))
        else:
            length = max((p.length_mm for p, _q in items), default=0)
            width = max((p.width_mm for p, _q in items), default=0)
            thickness = sum(p.thickness_mm * q for p, q in items)
            weight = sum(p.weight_g * q for p, q in items)
            for code, actual, limit in (
                (TOO_LONG, length, method.max_length_mm),
                (TOO_WIDE, width, method.max_width_mm),
                (TOO_THICK, thickness, method.max_thickness_mm),
                (TOO_HEAVY, weight, method.max_weight_g),
            ):
                if limit is not None and actual > limit:
                    found.append(Misfit(code, actual, limit))
    if time_slot and not method.allows_time_slot:
        found.append(Misfit(NO_TIME_SLOT))
    if cod and not method.allows_cod:
        found.append(Misfit(NO_COD))
    return found


@dataclass(frozen=True, slots=True)
class DeliveryDecision:
    method: str  # the code the order gets ("" when the shop has no methods)
    fee: int
    # Cheaper fitting methods the customer may choose instead (auto_assign off).
    offered: tuple[str, ...] = ()
    # Every method that does not fit, with why.
    misfits: dict[str, list[Misfit]] = field(default_factory=dict)
    # The customer asked for a method the items do not fit: its code (the reason is in misfits).
    refused: str = ""


def delivery_decide(
    methods: Sequence[MethodTerms],
    items: Sequence[tuple[Package, int]],
    *,
    requested: str = "",
    time_slot: bool = False,
    cod: bool = False,
) -> DeliveryDecision:
    """The method an order gets: the requested one if the items fit it; else the cheapest fitting
    method that is assigned automatically, else the default. Cheaper fitting methods that are not
    automatic are offered. A method the items do not fit is never chosen, whatever was asked."""
    misfits = {m.code: method_misfits(m, items, time_slot=time_slot, cod=cod) for m in methods}
    fitting = [m for m in methods if not misfits[m.code]]
    refused = requested if requested and misfits.get(requested) else ""
    by_code = {m.code: m for m in fitting}
    chosen = by_code.get(requested) if requested else None
    if chosen is None:
        auto = sorted((m for m in fitting if m.auto_assign), key=lambda m: (m.fee, m.code))
        default = next((m for m in fitting if m.is_default), None)
        candidates = [*(auto[:1]), *([default] if default else [])]
        if not candidates:
            candidates = sorted(fitting, key=lambda m: (m.fee, m.code))[:1]
        chosen = min(candidates, key=lambda m: m.fee) if candidates else None
    if chosen is None:
        return DeliveryDecision("", 0, misfits={k: v for k, v in misfits.items() if v}, refused=refused)
    offered = tuple(m.code for m in sorted(fitting, key=lambda m: (m.fee, m.code)) if m.fee < chosen.fee)
    return DeliveryDecision(
        chosen.code, chosen.fee, offered, {k: v for k, v in misfits.items() if v}, refused
    )


def fitting_methods(
    methods: Sequence[MethodTerms], items: Sequence[tuple[Package, int]], *, time_slot: bool, cod: bool
) -> frozenset[str]:
    return frozenset(m.code for m in methods if not method_misfits(m, items, time_slot=time_slot, cod=cod))
