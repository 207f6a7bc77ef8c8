"""Demo cards: most demo customers get 4242…, every fifth one a card that declines on charge."""

from __future__ import annotations

import pytest

from billing.demo import demo_give_cards
from billing.models import PaymentMethod
from tests.factories import CustomerFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_without_stripe_nothing_is_given(settings) -> None:  # noqa: ANN001
    settings.STRIPE_SECRET_KEY = ""
    CustomerFactory()

    assert demo_give_cards() == []
    assert not PaymentMethod.objects.exists()


def test_demo_customers_get_saved_test_cards_and_their_subscriptions_use_them(
    stripe_settings, localstripe
) -> None:  # noqa: ANN001
    subscriptions = [SubscriptionFactory() for _ in range(5)]

    demo_give_cards()
    demo_give_cards()  # idempotent: nobody gets a second card

    last4 = [s.customer.payment_methods.get().last4 for s in subscriptions]
    assert last4 == ["4242", "4242", "4242", "4242", "0341"]
    for subscription in subscriptions:
        subscription.refresh_from_db()
        assert subscription.payment_method.is_default


def test_on_a_fresh_server_known_cards_are_created_again_with_new_ids(stripe_settings, localstripe) -> None:  # noqa: ANN001
    subscription = SubscriptionFactory()
    demo_give_cards()
    card = subscription.customer.payment_methods.get()
    old_id = card.stripe_payment_method_id

    demo_give_cards(fresh_server=True)

    card.refresh_from_db()
    subscription.customer.refresh_from_db()
    assert card.stripe_payment_method_id != old_id
    stripe_card = localstripe.client().v1.payment_methods.retrieve(card.stripe_payment_method_id)
    assert (stripe_card.card.last4, stripe_card.customer) == (
        "4242",
        subscription.customer.stripe_customer_id,
    )
