"""Billing's stages of the nightly pipeline (scheduler.pipeline.AFTER_GENERATION).

A simulated run (run_nightly --dry-run) rolls the database back, but money that moved at Stripe
would not come back: inside `simulate()` the stages only count what they would charge.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from django.conf import settings

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
    if not settings.STRIPE_SECRET_KEY:
        # No gateway configured (a bare `manage.py run_nightly` without the demo's localstripe): failing
        # every card order would hold them all and email every customer; leave them unpaid instead.
        return {
            "charged": 0,
            "payment_failed": 0,
            "not_charged_no_gateway": chargeable_orders(run_date=run_date).count(),
        }
    return payment_charge_pending(run_date=run_date)


def stage_dunning(run_date: date) -> dict[str, int]:
    """Retry failed payments whose day has come, chase offline payments, renew authorisations."""
    from billing.models import DunningCase, DunningReason, DunningStatus
    from billing.services.dunning import dunning_offline_run, dunning_run

    if _simulating.get():
        due = DunningCase.objects.filter(
            status=DunningStatus.OPEN, reason=DunningReason.CARD_FAILED, next_retry_on__lte=run_date
        )
        return {"to_retry": due.count()}
    if not settings.STRIPE_SECRET_KEY:
        return dunning_offline_run(run_date=run_date)  # deadlines need no gateway
    return dunning_run(run_date=run_date)
