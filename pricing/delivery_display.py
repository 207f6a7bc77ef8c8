"""The delivery method an order gets, told to the customer: which one, and why a cheaper one is not.

The my page's next-order preview and the checkout's confirmation both show this beside the price,
from the same decision price_order was given (PricedOrder.delivery): nothing is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from catalog.selectors import misfit_text

from .delivery import method_fees
from .pricing import PricedOrder
from .selectors import PricingCatalog


@dataclass(frozen=True, slots=True)
class NotGiven:
    """A method cheaper for this address that the order does not get."""

    name: str
    fee: int  # its fee to this address, tax included, before the free-shipping threshold
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class DeliveryShown:
    name: str  # the method the order gets; "" when none fits (the shop's table then applies)
    not_given: list[NotGiven] = field(default_factory=list)


def delivery_shown(
    *, catalog: PricingCatalog, priced: PricedOrder, prefecture: str, remote_island: bool
) -> DeliveryShown | None:
    """What the customer is told about the order's delivery method; None when the shop has none."""
    decision = priced.delivery.decision
    if not catalog.methods or decision is None:
        return None
    fees = method_fees(
        catalog.methods, shipping=catalog.shipping, prefecture=prefecture, remote_island=remote_island
    )
    chosen = next((m for m in catalog.methods if m.terms.code == decision.method), None)
    chosen_fee = (
        fees[chosen.terms.code]
        if chosen
        else catalog.shipping.method_fee(flat_fee=None, prefecture=prefecture, remote_island=remote_island)
    )
    not_given = []
    for method in sorted(catalog.methods, key=lambda m: (fees[m.terms.code], m.terms.code)):
        code = method.terms.code
        if method is chosen or fees[code] >= chosen_fee:
            continue
        if code in decision.misfits:
            reasons = [misfit_text(misfit) for misfit in decision.misfits[code]]
        else:
            reasons = [_("このショップでは自動では選ばれない配送方法です")]
        not_given.append(NotGiven(method.name, fees[code], reasons))
    return DeliveryShown(chosen.name if chosen else "", not_given)
