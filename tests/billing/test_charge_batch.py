"""Card charges a batch at a time (billing.services.charge_batch) leave each order as the one-by-one
path does, charge each order once, and hand what they cannot do set-based to the one-by-one path.

Both paths run against localstripe on the same seeded orders: the first inside a savepoint rolled
back afterwards (its PaymentIntents stay on the server, which is why charges are counted per
attempt key), then the other; the end states are compared order by order, with the random part of
idempotency keys taken out.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from billing.models import DunningCase, DunningReason, DunningStatus, PaymentAttempt, PaymentKind
from billing.services import charge_batch
from billing.services.charge_batch import payments_charge_batch
from billing.services.payments import payment_charge_order
from notifications.models import MailTemplate, Notification
from notifications.services import mail_templates_install_defaults
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, PaymentStatus
from subscriptions.models import AttentionReason, Subscription
from tests.billing.payments_helpers import DECLINES_ON_CHARGE, charges_for, make_order, save_card
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.usefixtures("stripe_settings")
_KEY = re.compile(r"(order-\d+-attempt-\d+)-[0-9a-f]{24}")


class _RollBack(Exception):
    pass


def _seed(localstripe) -> dict[str, Order]:  # noqa: ANN001
    mail_templates_install_defaults()
    MailTemplate.objects.update(enabled=True)  # 入金確認 and 出荷準備中 both mailed
    product = ProductFactory()
    orders: dict[str, Order] = {}
    for language in ("ja", "en"):
        customer = CustomerFactory(language=language)
        orders[f"card-{language}"] = make_order(customer=customer, method=save_card(localstripe, customer))
    customer = CustomerFactory()
    orders["declined"] = make_order(
        customer=customer, method=save_card(localstripe, customer, DECLINES_ON_CHARGE)
    )
    orders["no-card"] = make_order(customer=CustomerFactory())
    # A success whose subscription is flagged (an earlier order failed): cleared one by one.
    customer = CustomerFactory()
    orders["flagged"] = make_order(customer=customer, method=save_card(localstripe, customer))
    Subscription.objects.filter(pk=orders["flagged"].subscription_id).update(
        needs_attention=[AttentionReason.PAYMENT_FAILED]
    )
    DunningCase.objects.create(
        order=orders["flagged"], reason=DunningReason.CARD_FAILED, status=DunningStatus.RESOLVED
    )
    orders["konbini"] = make_order(customer=CustomerFactory(), kind=PaymentKind.KONBINI)
    orders["held"] = make_order(
        customer=CustomerFactory(), status=OrderStatus.ON_HOLD, hold_reasons=["blacklisted"]
    )
    orders["paid"] = make_order(customer=CustomerFactory(), payment_status=PaymentStatus.PAID)
    for order in orders.values():
        OrderLine.objects.create(
            order=order,
            product=product,
            sku=product.sku,
            product_name=product.name,
            quantity=1,
            unit_price=order.total,
            tax_rate=8,
            line_total=order.total,
        )
    return orders


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return _KEY.sub(r"\1-KEY", value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _state(orders: dict[str, Order]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for name, seeded in orders.items():
        order = Order.objects.get(pk=seeded.pk)
        events = list(OrderEvent.objects.filter(order=order).order_by("id"))
        index = {e.pk: i for i, e in enumerate(events)}
        attempts = PaymentAttempt.objects.filter(order=order).order_by("number")
        case = DunningCase.objects.filter(order=order).first()
        state[name] = {
            "order": (order.status, order.payment_status, order.hold_reasons),
            "events": [(e.kind, e.before, e.after, _plain(e.note)) for e in events],
            "attempts": [
                (
                    a.number,
                    a.status,
                    a.amount,
                    a.captured_amount,
                    a.error_code,
                    a.decline_code,
                    bool(a.gateway_payment_intent_id),
                )
                for a in attempts
            ],  # fmt: skip
            "case": None if case is None else (case.reason, case.status, case.failures, case.next_retry_on),
            "flags": Subscription.objects.get(pk=order.subscription_id).needs_attention,
            "mails": [
                (
                    re.sub(r":(\d+)$", lambda m, index=index: f":event#{index.get(int(m[1]))}", n.key),
                    n.kind,
                    n.subject,
                    n.body,
                    n.status,
                )
                for n in Notification.objects.filter(customer=order.customer).order_by("id")
            ],  # fmt: skip
        }
    state["delivered"] = sorted((m.to, m.subject, m.body) for m in mail.outbox)
    return state


def _one_by_one(ids: list[int]) -> None:
    for order_id in ids:
        payment_charge_order(order_id=order_id)


def _batch(ids: list[int]) -> None:
    payments_charge_batch(order_ids=ids)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_first", [False, True], ids=["one_by_one_first", "batch_first"])
def test_a_batch_ends_as_the_one_by_one_path(
    batch_first, localstripe, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    # given card orders (plain, declined, without a card, flagged) and ones the batch must pass on
    orders = _seed(localstripe)
    ids = sorted(o.pk for o in orders.values())
    first, second = (_batch, _one_by_one) if batch_first else (_one_by_one, _batch)

    # when each path charges them (the first inside a savepoint rolled back afterwards)
    try:
        with transaction.atomic():
            mail.outbox.clear()
            with django_capture_on_commit_callbacks(execute=True):
                first(ids)
            before = _state(orders)
            raise _RollBack
    except _RollBack:
        pass
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        second(ids)
    after = _state(orders)

    # then the end states are the same, and the ones a shop expects
    assert after == before
    assert after["card-en"]["order"][:2] == (OrderStatus.READY, PaymentStatus.PAID)
    assert [m[1] for m in after["card-ja"]["mails"]] == ["mail:payment_confirmed", "mail:ready"]
    assert after["declined"]["order"][:2] == (OrderStatus.ON_HOLD, PaymentStatus.FAILED)
    assert after["no-card"]["attempts"][0][4] == "no_payment_method"
    assert after["flagged"]["flags"] == [] and after["flagged"]["case"][1] == DunningStatus.RESOLVED
    assert after["konbini"]["order"][1] == PaymentStatus.AWAITING_OFFLINE
    assert after["held"]["events"] == [] and after["paid"]["events"] == []


@pytest.mark.django_db
def test_a_batch_delivered_twice_charges_each_order_once(localstripe, monkeypatch) -> None:  # noqa: ANN001
    # given two card orders
    customers = [CustomerFactory(), CustomerFactory()]
    orders = [make_order(customer=c, method=save_card(localstripe, c)) for c in customers]
    ids = [o.pk for o in orders]
    alone: list[int] = []
    monkeypatch.setattr(
        charge_batch,
        "payment_charge_order",
        lambda **kw: alone.append(kw["order_id"]) or payment_charge_order(**kw),
    )

    # when the batch runs, then runs again (a redelivered task)
    first = payments_charge_batch(order_ids=ids)
    assert alone == []  # plain card orders: charged and recorded by the batch itself
    second = payments_charge_batch(order_ids=ids)

    # then each order was charged once, and the second delivery found nothing to do
    assert {a.status for a in first.values()} == {"succeeded"}
    assert second == dict.fromkeys(ids)
    for customer in customers:
        assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1


@pytest.mark.django_db
def test_an_attempt_left_open_is_reconciled_before_anything_new(localstripe) -> None:  # noqa: ANN001
    # given an order whose first attempt's answer was lost (the charge went through at Stripe)
    customer = CustomerFactory()
    order = make_order(customer=customer, method=save_card(localstripe, customer))
    attempt = payment_charge_order(order_id=order.pk)
    PaymentAttempt.objects.filter(pk=attempt.pk).update(status="unknown")
    Order.objects.filter(pk=order.pk).update(payment_status=PaymentStatus.PROCESSING, status=OrderStatus.NEW)

    # when a batch takes it
    result = payments_charge_batch(order_ids=[order.pk])

    # then the open attempt is settled from Stripe and no second charge is made
    assert result[order.pk].pk == attempt.pk and result[order.pk].status == "succeeded"
    assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1
    assert PaymentAttempt.objects.filter(order=order).count() == 1
