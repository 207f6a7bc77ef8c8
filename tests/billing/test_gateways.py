"""The Stripe adapter against localstripe, and the offline terms."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.gateways import ChargeStatus, GatewayError, GatewayUnavailable
from billing.gateways.offline import deadline_passed, offline_terms, reminder_due
from billing.gateways.stripe import StripeGateway
from tests.billing.payments_helpers import DECLINED_AT_ATTACH, DECLINES_ON_CHARGE, NEEDS_AUTHENTICATION, VISA
from tests.stripe_server import SECRET_KEY


@pytest.fixture
def gateway(localstripe):  # noqa: ANN001, ANN201
    return StripeGateway(api_key=SECRET_KEY, api_base=localstripe.url)


def _card(localstripe, gateway, customer_id: str, number: str) -> str:  # noqa: ANN001
    pm = localstripe.client().v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 1, "exp_year": 2032, "cvc": "123"}}
    )
    gateway.payment_method_attach(payment_method_id=pm.id, customer_id=customer_id)
    return pm.id


def _charge(gateway, customer_id: str, pm_id: str, key: str, *, manual: bool = False):  # noqa: ANN001, ANN202
    return gateway.charge(
        customer_id=customer_id,
        payment_method_id=pm_id,
        amount=3980,
        currency="jpy",
        capture_manually=manual,
        metadata={"order_id": "1", "attempt": key},
        idempotency_key=key,
    )


def test_card_is_saved_and_listed_with_brand_and_last4_only(localstripe, gateway) -> None:  # noqa: ANN001
    customer_id = gateway.customer_create(email="a@example.com", name="A", reference="gw-1")
    pm_id = _card(localstripe, gateway, customer_id, VISA)

    cards = gateway.payment_method_list(customer_id)

    assert [(c.id, c.brand, c.last4, c.exp_month, c.exp_year) for c in cards] == [
        (pm_id, "visa", "4242", 1, 2032)
    ]


def test_card_declined_at_attach_raises_a_gateway_error(localstripe, gateway) -> None:  # noqa: ANN001
    customer_id = gateway.customer_create(email="b@example.com", name="B", reference="gw-2")

    with pytest.raises(GatewayError) as error:
        _card(localstripe, gateway, customer_id, DECLINED_AT_ATTACH)

    assert error.value.code == "card_declined"


@pytest.mark.parametrize(
    ("number", "manual", "status"),
    [
        (VISA, False, ChargeStatus.SUCCEEDED),
        (VISA, True, ChargeStatus.AUTHORIZED),
        (DECLINES_ON_CHARGE, False, ChargeStatus.FAILED),
        (NEEDS_AUTHENTICATION, False, ChargeStatus.REQUIRES_ACTION),
    ],
)
def test_off_session_charge_outcomes(localstripe, gateway, number, manual, status) -> None:  # noqa: ANN001
    customer_id = gateway.customer_create(
        email="c@example.com", name="C", reference=f"gw-3-{number}-{manual}"
    )
    pm_id = _card(localstripe, gateway, customer_id, number)

    result = _charge(gateway, customer_id, pm_id, f"gw-{number}-{manual}", manual=manual)

    assert result.status == status
    if status == ChargeStatus.FAILED:
        assert result.error_code == "card_declined"


def test_capture_part_of_an_authorisation_then_refund_part(localstripe, gateway) -> None:  # noqa: ANN001
    customer_id = gateway.customer_create(email="d@example.com", name="D", reference="gw-4")
    pm_id = _card(localstripe, gateway, customer_id, VISA)
    authorised = _charge(gateway, customer_id, pm_id, "gw-capture", manual=True)

    captured = gateway.capture(
        payment_intent_id=authorised.payment_intent_id, amount=3000, idempotency_key="cap"
    )
    refund = gateway.refund(payment_intent_id=authorised.payment_intent_id, amount=500, idempotency_key="ref")

    assert captured.status == ChargeStatus.SUCCEEDED
    assert (refund.amount, refund.status) == (500, "succeeded")


def test_payment_intents_are_found_by_metadata_without_the_search_api(localstripe, gateway) -> None:  # noqa: ANN001
    customer_id = gateway.customer_create(email="e@example.com", name="E", reference="gw-5")
    pm_id = _card(localstripe, gateway, customer_id, VISA)
    made = _charge(gateway, customer_id, pm_id, "gw-find-me")

    found = gateway.payment_intents_find(customer_id=customer_id, metadata={"attempt": "gw-find-me"})

    assert [r.payment_intent_id for r in found] == [made.payment_intent_id]
    assert gateway.payment_intents_find(customer_id=customer_id, metadata={"attempt": "never-sent"}) == []


def test_no_server_is_gateway_unavailable() -> None:
    from tests.stripe_server import free_port

    gateway = StripeGateway(api_key=SECRET_KEY, api_base=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(GatewayUnavailable):
        gateway.customer_create(email="f@example.com", name="F", reference="gw-6")


@pytest.mark.parametrize(
    ("kind", "deadline", "ships_first"),
    [
        ("bank_transfer", dt.date(2027, 3, 8), False),
        ("konbini", dt.date(2027, 3, 8), False),
        ("cod", None, True),
    ],
)
def test_offline_terms(kind, deadline, ships_first) -> None:  # noqa: ANN001
    terms = offline_terms(kind=kind, created_on=dt.date(2027, 3, 1), deadline_days=7)

    assert (terms.deadline, terms.ships_before_payment) == (deadline, ships_first)


@pytest.mark.parametrize(
    ("today", "reminded_on", "due"),
    [
        (dt.date(2027, 3, 5), None, False),
        (dt.date(2027, 3, 6), None, True),
        (dt.date(2027, 3, 8), None, True),
        (dt.date(2027, 3, 8), dt.date(2027, 3, 6), False),
        (dt.date(2027, 3, 9), None, False),
    ],
)
def test_offline_reminder_window(today, reminded_on, due) -> None:  # noqa: ANN001
    assert (
        reminder_due(deadline=dt.date(2027, 3, 8), today=today, days_before=2, reminded_on=reminded_on) is due
    )


def test_offline_deadline_passes_the_day_after() -> None:
    assert not deadline_passed(deadline=dt.date(2027, 3, 8), today=dt.date(2027, 3, 8))
    assert deadline_passed(deadline=dt.date(2027, 3, 8), today=dt.date(2027, 3, 9))
