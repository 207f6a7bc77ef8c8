"""The points reservation refuses amounts its column cannot hold, whoever calls the service."""

import pytest

from core.errors import DomainError
from subscriptions.services import subscription_set_points_reservation
from subscriptions.services.details import MAX_POINTS_RESERVATION
from tests.factories import SubscriptionFactory

from .services_helpers import admin_actor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "accepted"),
    [
        (1, True),
        (MAX_POINTS_RESERVATION, True),
        (0, False),
        (-5, False),
        (MAX_POINTS_RESERVATION + 1, False),
        (10**20, False),
    ],
)
def test_amount_bounds(amount, accepted):
    sub = SubscriptionFactory()
    if accepted:
        subscription_set_points_reservation(
            subscription_id=sub.pk, mode="amount", amount=amount, actor=admin_actor()
        )
        sub.refresh_from_db()
        assert sub.points_reservation_amount == amount
    else:
        with pytest.raises(DomainError) as exc:
            subscription_set_points_reservation(
                subscription_id=sub.pk, mode="amount", amount=amount, actor=admin_actor()
            )
        assert exc.value.code == "invalid_points_amount"
