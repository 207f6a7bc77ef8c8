"""The payment status machine: every allowed and every forbidden move, through the one service."""

from __future__ import annotations

import itertools

import pytest

from billing.payment_states import PAYMENT_TRANSITIONS, payment_transition_allowed
from billing.services.payments import payment_set_status
from core.errors import Conflict
from orders.models import OrderEvent, PaymentStatus
from tests.billing.payments_helpers import make_order

PAIRS = [(a, b) for a, b in itertools.product(PaymentStatus.values, repeat=2) if a != b]
ALLOWED = [(a, b) for a, b in PAIRS if b in PAYMENT_TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a, b in PAIRS if b not in PAYMENT_TRANSITIONS[a]]


def test_the_table_covers_every_status() -> None:
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus.values)
    assert all(targets <= set(PaymentStatus.values) for targets in PAYMENT_TRANSITIONS.values())


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_moves_change_the_status_and_write_an_event(db, current, target) -> None:  # noqa: ANN001
    order = make_order(payment_status=current)

    payment_set_status(order=order, target=target)

    order.refresh_from_db()
    assert order.payment_status == target
    event = OrderEvent.objects.get(order=order, kind="payment_status_changed")
    assert (event.before, event.after) == ({"payment_status": current}, {"payment_status": target})


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_moves_are_refused_and_change_nothing(db, current, target) -> None:  # noqa: ANN001
    order = make_order(payment_status=current)

    with pytest.raises(Conflict):
        payment_set_status(order=order, target=target)

    order.refresh_from_db()
    assert order.payment_status == current
    assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (PaymentStatus.UNPAID, PaymentStatus.PROCESSING, True),
        (PaymentStatus.PROCESSING, PaymentStatus.PAID, True),
        (PaymentStatus.PAID, PaymentStatus.UNPAID, False),
        (PaymentStatus.REFUNDED, PaymentStatus.PAID, False),
        (PaymentStatus.AUTHORIZED, PaymentStatus.PAID, True),
        (PaymentStatus.CANCELLED, PaymentStatus.PROCESSING, False),
        (PaymentStatus.PAID, PaymentStatus.PAID, True),  # same status: a no-op, never an error
    ],
)
def test_a_few_moves_read_as_a_shop_expects(current, target, allowed) -> None:  # noqa: ANN001
    assert payment_transition_allowed(current, target) is allowed
