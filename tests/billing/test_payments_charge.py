"""Charging orders against localstripe: outcomes, capture at shipment, refunds, offline kinds."""

from __future__ import annotations

import pytest
from django.core import mail

from billing.models import (
    CaptureMethod,
    DunningCase,
    DunningReason,
    PaymentAttempt,
    PaymentAttemptStatus,
    PaymentKind,
    PaymentPolicy,
)
from billing.services.payments import (
    payment_cancel_order,
    payment_capture_order,
    payment_charge_order,
    payment_mark_paid,
    payment_refund_order,
)
from billing.stages import payment_charge_pending
from core.errors import DomainError
from orders.models import OrderStatus, PaymentStatus
from tests.billing.payments_helpers import (
    DECLINES_ON_CHARGE,
    NEEDS_AUTHENTICATION,
    charges_for,
    make_order,
    save_card,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.usefixtures("stripe_settings")


@pytest.fixture
def customer(db):  # noqa: ANN001, ANN201
    return CustomerFactory()


def test_a_new_order_is_charged_off_session_and_becomes_ready(
    customer, localstripe, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    order = make_order(method=save_card(localstripe, customer), customer=customer, total=3980)

    attempt = payment_charge_order(order_id=order.pk)

    order.refresh_from_db()
    assert attempt.status == PaymentAttemptStatus.SUCCEEDED
    assert attempt.idempotency_key.startswith(f"order-{order.pk}-attempt-1-")
    assert attempt.gateway_payment_intent_id.startswith("pi_")
    assert (order.payment_status, order.status) == (PaymentStatus.PAID, OrderStatus.READY)
    [charge] = charges_for(localstripe, customer.stripe_customer_id)
    assert (charge.amount, charge.currency) == (3980, "jpy")


def test_charging_a_paid_order_again_does_nothing(customer, localstripe) -> None:  # noqa: ANN001
    order = make_order(method=save_card(localstripe, customer), customer=customer)
    payment_charge_order(order_id=order.pk)

    assert payment_charge_order(order_id=order.pk) is None
    assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1


def test_held_orders_are_not_charged(customer, localstripe) -> None:  # noqa: ANN001
    order = make_order(
        method=save_card(localstripe, customer),
        customer=customer,
        status=OrderStatus.ON_HOLD,
        hold_reasons=["blacklisted"],
    )

    assert payment_charge_order(order_id=order.pk) is None
    assert not PaymentAttempt.objects.exists()


def test_a_free_order_needs_no_payment(customer, localstripe) -> None:  # noqa: ANN001
    order = make_order(method=save_card(localstripe, customer), customer=customer, total=0)

    payment_charge_order(order_id=order.pk)

    order.refresh_from_db()
    assert (order.payment_status, order.status) == (PaymentStatus.NOT_REQUIRED, OrderStatus.READY)


def test_a_declined_card_fails_holds_the_order_flags_the_subscription_and_emails(
    customer, localstripe, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    order = make_order(method=save_card(localstripe, customer, DECLINES_ON_CHARGE), customer=customer)

    with django_capture_on_commit_callbacks(execute=True):
        attempt = payment_charge_order(order_id=order.pk)

    order.refresh_from_db()
    order.subscription.refresh_from_db()
    assert (attempt.status, attempt.error_code) == (PaymentAttemptStatus.FAILED, "card_declined")
    assert (order.payment_status, order.status, order.hold_reasons) == (
        PaymentStatus.FAILED,
        OrderStatus.ON_HOLD,
        ["payment_failed"],
    )
    assert "payment_failed" in order.subscription.needs_attention
    case = DunningCase.objects.get(order=order)
    assert (case.reason, case.failures, case.hard_decline) == (DunningReason.CARD_FAILED, 1, False)
    assert [m.subject for m in mail.outbox] == ["【重要】定期便のお支払いができませんでした"]
    assert charges_for(localstripe, customer.stripe_customer_id) == []


def test_an_order_without_a_usable_card_fails_without_calling_stripe(customer) -> None:  # noqa: ANN001
    order = make_order(customer=customer, method=None)

    attempt = payment_charge_order(order_id=order.pk)

    assert (attempt.status, attempt.error_code) == (PaymentAttemptStatus.FAILED, "no_payment_method")


def test_a_card_that_needs_3d_secure_emails_a_link_that_completes_the_payment(
    customer, localstripe, client, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    order = make_order(method=save_card(localstripe, customer, NEEDS_AUTHENTICATION), customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        attempt = payment_charge_order(order_id=order.pk)
    order.refresh_from_db()
    assert (attempt.status, order.payment_status, order.hold_reasons) == (
        PaymentAttemptStatus.REQUIRES_ACTION,
        PaymentStatus.ACTION_REQUIRED,
        ["needs_authentication"],
    )
    [notice] = mail.outbox
    link = next(line for line in notice.body.splitlines() if "/billing/authenticate/" in line)
    path = link[link.index("/billing/") :]

    page = client.get(path)
    assert page.status_code == 200
    client_secret = page.context["client_secret"]
    assert f"{localstripe.url}/js.stripe.com/v3/" in page.content.decode()
    # What Stripe.js's confirmCardPayment does in the browser once the customer passed 3-D Secure.
    localstripe.client().raw_request(
        "post",
        f"/v1/payment_intents/{attempt.gateway_payment_intent_id}/_authenticate",
        client_secret=client_secret,
        success="true",
        key="pk_test_12345",
    )
    completed = client.post(f"{path}complete/")

    assert completed.json() == {"status": "succeeded", "order_payment_status": "paid"}
    order.refresh_from_db()
    order.subscription.refresh_from_db()
    assert (order.payment_status, order.status, order.hold_reasons) == (
        PaymentStatus.PAID,
        OrderStatus.READY,
        [],
    )
    assert "needs_authentication" not in order.subscription.needs_attention
    assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1


def test_a_tampered_authentication_link_is_refused(client, customer) -> None:  # noqa: ANN001
    assert client.get("/billing/authenticate/not-a-token/").status_code == 404
    assert client.post("/billing/authenticate/not-a-token/complete/").status_code == 404


def test_authorise_at_creation_capture_at_shipment_then_refund_in_parts(customer, localstripe) -> None:  # noqa: ANN001
    PaymentPolicy.objects.update_or_create(pk=1, defaults={"capture_method": CaptureMethod.MANUAL})
    order = make_order(method=save_card(localstripe, customer), customer=customer, total=5000)

    attempt = payment_charge_order(order_id=order.pk)
    order.refresh_from_db()
    assert (attempt.status, order.payment_status) == (
        PaymentAttemptStatus.AUTHORIZED,
        PaymentStatus.AUTHORIZED,
    )

    payment_capture_order(order_id=order.pk)
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID

    payment_refund_order(order_id=order.pk, amount=1200, reason="一部返品")
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    with pytest.raises(DomainError) as too_much:
        payment_refund_order(order_id=order.pk, amount=4000)
    assert too_much.value.code == "invalid_amount"

    payment_refund_order(order_id=order.pk)
    order.refresh_from_db()
    attempt.refresh_from_db()
    assert (order.payment_status, attempt.refunded_amount) == (PaymentStatus.REFUNDED, 5000)
    [charge] = charges_for(localstripe, customer.stripe_customer_id)
    assert charge.amount_refunded == 5000


def test_cancelling_an_authorised_order_releases_the_authorisation(customer, localstripe) -> None:  # noqa: ANN001
    PaymentPolicy.objects.update_or_create(pk=1, defaults={"capture_method": CaptureMethod.MANUAL})
    order = make_order(method=save_card(localstripe, customer), customer=customer)
    attempt = payment_charge_order(order_id=order.pk)

    assert payment_cancel_order(order_id=order.pk) == PaymentStatus.CANCELLED

    pi = localstripe.client().v1.payment_intents.retrieve(attempt.gateway_payment_intent_id)
    assert pi.status == "canceled"


def test_authorisations_about_to_lapse_are_renewed_before_shipment(
    customer, localstripe, time_machine
) -> None:  # noqa: ANN001
    from billing.services.payments import payment_renew_authorizations

    PaymentPolicy.objects.update_or_create(pk=1, defaults={"capture_method": CaptureMethod.MANUAL})
    order = make_order(method=save_card(localstripe, customer), customer=customer)
    first = payment_charge_order(order_id=order.pk)

    assert payment_renew_authorizations() == 0  # fresh: nothing to do
    time_machine.move_to(first.authorized_at + __import__("datetime").timedelta(days=6, hours=1))
    assert payment_renew_authorizations() == 1

    first.refresh_from_db()
    second = order.payment_attempts.get(number=2)
    order.refresh_from_db()
    assert (first.status, second.status, order.payment_status) == (
        PaymentAttemptStatus.CANCELED,
        PaymentAttemptStatus.AUTHORIZED,
        PaymentStatus.AUTHORIZED,
    )
    old = localstripe.client().v1.payment_intents.retrieve(first.gateway_payment_intent_id)
    assert old.status == "canceled"


@pytest.mark.parametrize(
    ("kind", "order_status", "has_deadline"),
    [
        (PaymentKind.BANK_TRANSFER, OrderStatus.AWAITING_PAYMENT, True),
        (PaymentKind.KONBINI, OrderStatus.AWAITING_PAYMENT, True),
        (PaymentKind.COD, OrderStatus.READY, False),
    ],
)
def test_offline_methods_wait_for_the_money(
    customer, kind, order_status, has_deadline, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    order = make_order(customer=customer, kind=kind)

    with django_capture_on_commit_callbacks(execute=True):
        assert payment_charge_order(order_id=order.pk) is None

    order.refresh_from_db()
    assert (order.payment_status, order.status) == (PaymentStatus.AWAITING_OFFLINE, order_status)
    assert DunningCase.objects.filter(order=order, deadline__isnull=False).exists() is has_deadline
    assert len(mail.outbox) == (1 if has_deadline else 0)
    assert not PaymentAttempt.objects.exists()


def test_an_admin_marks_a_bank_transfer_paid(customer) -> None:  # noqa: ANN001
    order = make_order(customer=customer, kind=PaymentKind.BANK_TRANSFER)
    payment_charge_order(order_id=order.pk)

    payment_mark_paid(order_id=order.pk)

    order.refresh_from_db()
    assert (order.payment_status, order.status) == (PaymentStatus.PAID, OrderStatus.READY)


def test_charge_pending_charges_the_given_orders_and_counts_outcomes(customer, localstripe) -> None:  # noqa: ANN001
    good = make_order(method=save_card(localstripe, customer), customer=customer, sequence=2)
    other = CustomerFactory()
    bad = make_order(method=save_card(localstripe, other, DECLINES_ON_CHARGE), customer=other, sequence=2)
    transfer = make_order(customer=CustomerFactory(), kind=PaymentKind.BANK_TRANSFER)
    untouched = make_order(method=save_card(localstripe, customer), customer=customer, sequence=3)

    counts = payment_charge_pending(order_ids=[good.pk, bad.pk, transfer.pk], fan_out=False)

    assert (counts["charged"], counts["payment_failed"], counts["awaiting_offline"]) == (1, 1, 1)
    untouched.refresh_from_db()
    assert untouched.payment_status == PaymentStatus.UNPAID


def test_only_gateway_calls_take_from_the_payment_rate_budget(
    customer, localstripe, settings, monkeypatch
) -> None:  # noqa: ANN001
    # given a card order, a declined card order, offline orders of every kind and a free one
    import billing.services.payments as payments
    from billing.ratelimit import InProcessLimiter

    card = make_order(method=save_card(localstripe, customer), customer=customer, sequence=2)
    other = CustomerFactory()
    declined = make_order(
        method=save_card(localstripe, other, DECLINES_ON_CHARGE), customer=other, sequence=2
    )
    offline = [
        make_order(customer=CustomerFactory(), kind=kind)
        for kind in (PaymentKind.BANK_TRANSFER, PaymentKind.KONBINI, PaymentKind.COD) * 4
    ]
    free = make_order(customer=CustomerFactory(), kind=PaymentKind.BANK_TRANSFER, total=0)
    taken = []
    limiter = InProcessLimiter(settings.PAYMENT_RATE_LIMIT_PER_SECOND)

    class CountingLimiter:
        def acquire(self) -> None:
            taken.append(1)
            limiter.acquire()

    monkeypatch.setattr(payments, "payment_rate_limiter", CountingLimiter)

    # when the charge stage runs over all of them
    ids = [card.pk, declined.pk, free.pk, *(o.pk for o in offline)]
    counts = payment_charge_pending(order_ids=ids, fan_out=False)

    # then the two card charges took a token each and the fourteen others none
    assert len(taken) == 2
    assert (counts["charged"], counts["payment_failed"], counts["awaiting_offline"]) == (1, 1, 12)
