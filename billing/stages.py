"""Billing's stages of the nightly pipeline (scheduler.pipeline.AFTER_GENERATION).

A simulated run (run_nightly --dry-run) rolls the database back, but money that moved at Stripe
would not come back: inside `simulate()` the stages only count what they would charge.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

_simulating: ContextVar[bool] = ContextVar("billing_simulating", default=False)


@contextmanager
def simulate() -> Iterator[None]:
    token = _simulating.set(True)
    try:
        yield
    finally:
        _simulating.reset(token)


def stage_charge_new_orders(run_date: date) -> dict[str, int]:
    """Charge the orders generation created (and any unpaid new order left from a missed night)."""
    from billing.services.payments import chargeable_orders, payment_charge_pending

    if _simulating.get():
        return {"charged": 0, "payment_failed": 0, "to_charge": chargeable_orders(run_date=run_date).count()}
    return payment_charge_pending(run_date=run_date)


def stage_dunning(run_date: date) -> dict[str, int]:
    """Retry failed payments whose day has come, chase offline payments, renew authorisations."""
    from billing.models import DunningCase, DunningReason, DunningStatus
    from billing.services.dunning import dunning_run

    if _simulating.get():
        due = DunningCase.objects.filter(
            status=DunningStatus.OPEN, reason=DunningReason.CARD_FAILED, next_retry_on__lte=run_date
        )
        return {"to_retry": due.count()}
    return dunning_run(run_date=run_date)
