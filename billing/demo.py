"""Demo cards: every demo customer gets a saved Stripe test card (mostly 4242…, every fifth one that
declines on charge, 4000000000000341), so the demo charges end to end.

Run by seed_demo when Stripe is configured, and by serve_demo after it started a fresh localstripe
(which remembers nothing between runs: existing card rows get new ids on the new server).

Demo rewards: the demo customer gets points and a coupon to try on the my page (seed_demo).
"""

from __future__ import annotations

import stripe
from django.conf import settings
from django.db import transaction

from billing.gateways import get_gateway
from billing.models import PaymentKind, PaymentMethod
from customers.models import Customer
from pricing.models import Coupon, CouponAppliesTo, DiscountKind, PointEntry
from pricing.services.points import points_adjust
from subscriptions.actors import Actor
from subscriptions.services import subscription_change_payment_method

VISA = "4242424242424242"
DECLINES_ON_CHARGE = "4000000000000341"
NEEDS_AUTHENTICATION = "4000002500003155"
TEST_NUMBER_BY_LAST4 = {n[-4:]: n for n in (VISA, DECLINES_ON_CHARGE, NEEDS_AUTHENTICATION)}
DECLINE_EVERY = 5

DEMO_POINTS = 1000
DEMO_POINTS_NOTE = "デモ用ポイント"
DEMO_COUPON_CODE = "DEMO500"


def _new_test_card(number: str) -> str:
    """What Stripe.js does in a browser; only ever with public test numbers, only for the demo."""
    client = stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None,
    )
    pm = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    return pm.id


def demo_give_cards(*, fresh_server: bool = False) -> list[str]:
    """Give each customer without a card a test card; with `fresh_server`, first re-create the cards
    the database already knows on the (empty) server. Returns lines for the report."""
    if not settings.STRIPE_SECRET_KEY:
        return []
    gateway = get_gateway()
    report = []
    customers = Customer.objects.select_related("user").order_by("pk")
    for index, customer in enumerate(customers):
        with transaction.atomic():
            if fresh_server or not customer.stripe_customer_id:
                customer.stripe_customer_id = gateway.customer_create(
                    email=customer.user.email, name=customer.name, reference=str(customer.pk)
                )
                customer.save(update_fields=["stripe_customer_id"])
            cards = list(customer.payment_methods.filter(kind=PaymentKind.CARD, is_active=True))
            if fresh_server:
                for card in cards:
                    pm_id = _new_test_card(TEST_NUMBER_BY_LAST4.get(card.last4, VISA))
                    gateway.payment_method_attach(
                        payment_method_id=pm_id, customer_id=customer.stripe_customer_id
                    )
                    card.stripe_payment_method_id = pm_id
                    card.save(update_fields=["stripe_payment_method_id"])
            if not cards:
                number = DECLINES_ON_CHARGE if index % DECLINE_EVERY == DECLINE_EVERY - 1 else VISA
                pm_id = _new_test_card(number)
                details = gateway.payment_method_attach(
                    payment_method_id=pm_id, customer_id=customer.stripe_customer_id
                )
                card = PaymentMethod.objects.create(
                    customer=customer,
                    kind=PaymentKind.CARD,
                    stripe_payment_method_id=pm_id,
                    brand=details.brand,
                    last4=details.last4,
                    exp_month=details.exp_month,
                    exp_year=details.exp_year,
                    is_default=not customer.payment_methods.filter(is_default=True, is_active=True).exists(),
                )
                for subscription_id in customer.subscriptions.filter(payment_method__isnull=True).values_list(
                    "pk", flat=True
                ):
                    subscription_change_payment_method(
                        subscription_id=subscription_id, payment_method_id=card.pk, actor=Actor.system()
                    )
                report.append(f"card •••• {card.last4} for {customer.user.email}")
    return report


def demo_give_rewards(*, email: str) -> list[str]:
    """The coupon DEMO500 (¥500 off the next order, once per customer) and, for the customer with
    this e-mail, 1,000 points: reserving them or applying the coupon shows in the next order's
    price. Idempotent: the coupon by its code, the points by their note."""
    report = []
    _coupon, created = Coupon.objects.get_or_create(
        code=DEMO_COUPON_CODE,
        defaults={
            "name": "デモ用 500円引き",
            "kind": DiscountKind.FIXED,
            "value": 500,
            "applies_to": CouponAppliesTo.NEXT,
            "max_uses_per_customer": 1,
        },
    )
    if created:
        report.append(f"coupon {DEMO_COUPON_CODE}")
    customer = Customer.objects.filter(user__username=email).first()
    if (
        customer is not None
        and not PointEntry.objects.filter(customer=customer, note=DEMO_POINTS_NOTE).exists()
    ):
        points_adjust(
            customer_id=customer.pk, amount=DEMO_POINTS, note=DEMO_POINTS_NOTE, actor=Actor.system()
        )
        report.append(f"{DEMO_POINTS} points for {email}")
    return report
