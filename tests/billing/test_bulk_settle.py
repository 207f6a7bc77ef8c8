"""The charge stage's set-based settlement (billing.bulk) leaves orders exactly as the one-by-one path.

Both paths run on the same seeded orders: the one-by-one path inside a savepoint that is rolled back,
then the bulk path; the end states (order and payment status, order events, dunning cases, the mails
in the outbox and those delivered) are compared order by order.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from billing.bulk import payments_bulk_settle
from billing.models import (
    DunningCase,
    DunningReason,
    DunningStatus,
    PaymentAttempt,
    PaymentKind,
    PaymentMethod,
    PaymentPolicy,
)
from billing.services.payments import payment_charge_order
from billing.stages import payment_charge_pending
from notifications.models import MailTemplate, Notification, OutboxTask
from notifications.services import mail_templates_install_defaults
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, PaymentStatus
from subscriptions.models import SubscriptionEvent
from tests.billing.payments_helpers import make_order
from tests.factories import CustomerFactory, ProductFactory

RUN_DATE = dt.date(2027, 2, 20)
K = PaymentKind


class _RollBack(Exception):
    pass


def _seed() -> dict[str, Order]:
    """One order of each kind the settlement handles, in both languages, plus ones it must leave."""
    mail_templates_install_defaults()  # a transactional test's flush may have emptied the table
    MailTemplate.objects.update(enabled=True)  # every status mail, those a new shop has off too
    PaymentPolicy.objects.update_or_create(
        pk=1,
        defaults={
            "bank_transfer_account": "テスト銀行 本店 普通 7654321",
            "konbini_instructions": "払込票で",
        },
    )
    product = ProductFactory()
    orders: dict[str, Order] = {}
    for language in ("ja", "en"):
        for kind in (K.BANK_TRANSFER, K.KONBINI, K.COD):
            customer = CustomerFactory(language=language)
            orders[f"{kind}-{language}"] = make_order(customer=customer, kind=kind, total=4180 + 110)
        orders[f"free-{language}"] = make_order(
            customer=CustomerFactory(language=language), kind=K.BANK_TRANSFER, total=0
        )
    # The kind only on the payment method (an order generation left without payment_kind).
    customer = CustomerFactory()
    method = PaymentMethod.objects.create(customer=customer, kind=K.KONBINI)
    orders["konbini-by-method"] = make_order(customer=customer, method=method, kind="")
    # A case left from before (the customer had failed by card, then switched): reopened for the deadline.
    orders["bank-with-old-case"] = make_order(customer=CustomerFactory(), kind=K.BANK_TRANSFER)
    DunningCase.objects.create(
        order=orders["bank-with-old-case"], reason=DunningReason.CARD_FAILED, status=DunningStatus.RESOLVED
    )
    orders["held-transfer"] = make_order(
        customer=CustomerFactory(),
        kind=K.BANK_TRANSFER,
        status=OrderStatus.ON_HOLD,
        hold_reasons=["blacklisted"],
    )
    orders["paid-cod"] = make_order(customer=CustomerFactory(), kind=K.COD, payment_status=PaymentStatus.PAID)
    orders["later-cod"] = make_order(
        customer=CustomerFactory(), kind=K.COD, creation_date=RUN_DATE + dt.timedelta(days=1)
    )
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


def _state(orders: dict[str, Order]) -> dict[str, Any]:
    """Everything a customer or an admin could see of the orders, with database ids taken out."""
    state: dict[str, Any] = {}
    for name, seeded in orders.items():
        order = Order.objects.get(pk=seeded.pk)
        events = list(OrderEvent.objects.filter(order=order).order_by("id"))
        event_index = {e.pk: i for i, e in enumerate(events)}

        def normal_key(key: str, pk: int = order.pk, index: dict = event_index) -> str:
            match = re.fullmatch(rf"order-mail:{pk}:(\w+):(\d+)", key)
            return f"order-mail:{match[1]}:event#{index[int(match[2])]}" if match else key

        notices = Notification.objects.filter(customer=order.customer).order_by("id")
        case = DunningCase.objects.filter(order=order).first()
        state[name] = {
            "order": (order.status, order.payment_status, order.hold_reasons, order.cancelled_at),
            "events": [(e.kind, e.before, e.after, e.note, e.actor_id) for e in events],
            "case": None
            if case is None
            else (
                case.reason,
                case.status,
                case.deadline,
                case.failures,
                case.next_retry_on,
                case.reminded_on,
            ),
            "mails": [
                (normal_key(n.key), n.kind, n.to_email, n.subject, n.body, n.ref, n.status) for n in notices
            ],
        }
    state["delivered"] = sorted((m.to, m.subject, m.body) for m in mail.outbox)
    state["attempts"] = PaymentAttempt.objects.count()
    # The bulk path's mails travel as notifications.deliver_mails tasks (rendered at send); what
    # they deliver is compared above, row by row and mail by mail.
    tasks = OutboxTask.objects.exclude(task="notifications.deliver_mails")
    state["outbox_tasks"] = sorted(tasks.values_list("task", "args"))
    state["timeline"] = SubscriptionEvent.objects.count()
    return state


def _run(path, orders: dict[str, Order], capture) -> dict[str, Any]:  # noqa: ANN001
    mail.outbox.clear()
    with capture(execute=True):
        path([o.pk for o in orders.values()])
    return _state(orders)


def _one_by_one(ids: list[int]) -> None:
    for order_id in sorted(ids):
        payment_charge_order(order_id=order_id, today=RUN_DATE)


def _bulk(ids: list[int]) -> None:
    payments_bulk_settle(run_date=RUN_DATE, order_ids=ids, batch_size=4)  # batches of 4: several


@pytest.mark.django_db
@pytest.mark.parametrize("later_first", [False, True], ids=["one_by_one_first", "bulk_first"])
def test_bulk_settlement_ends_as_the_one_by_one_path(later_first, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    # given the same seeded orders
    orders = _seed()
    # "later-cod" is created after the run date: the stage passes run_date, charge_order is per id.
    orders.pop("later-cod")
    first, second = (_bulk, _one_by_one) if later_first else (_one_by_one, _bulk)

    # when each path settles them (the first inside a savepoint rolled back afterwards)
    try:
        with transaction.atomic():
            before = _run(first, orders, django_capture_on_commit_callbacks)
            raise _RollBack
    except _RollBack:
        pass
    assert Order.objects.get(pk=orders["cod-ja"].pk).status == OrderStatus.NEW  # really rolled back
    after = _run(second, orders, django_capture_on_commit_callbacks)

    # then the end states are the same, and they are the ones a shop expects
    assert after == before
    assert after["free-en"]["order"][:2] == (OrderStatus.READY, PaymentStatus.NOT_REQUIRED)
    assert after["cod-ja"]["order"][:2] == (OrderStatus.READY, PaymentStatus.AWAITING_OFFLINE)
    assert after["konbini-by-method"]["order"][:2] == (
        OrderStatus.AWAITING_PAYMENT,
        PaymentStatus.AWAITING_OFFLINE,
    )
    assert after["bank_transfer-en"]["case"][:3] == (
        DunningReason.AWAITING_OFFLINE,
        DunningStatus.OPEN,
        RUN_DATE + dt.timedelta(days=7),
    )
    assert after["bank-with-old-case"]["case"][:2] == (DunningReason.AWAITING_OFFLINE, DunningStatus.OPEN)
    assert [m[1] for m in after["konbini-en"]["mails"]] == [
        "mail:awaiting_payment",
        "payment_offline_instructions",
    ]
    assert [m[1] for m in after["cod-en"]["mails"]] == ["mail:ready"]

    # the instructions say where and how to pay, as the shop wrote it
    def mails_to(order: Order) -> str:
        return "\n".join(body for to, _subject, body in after["delivered"] if order.customer.user.email in to)

    assert "■ お振込先\nテスト銀行 本店 普通 7654321" in mails_to(orders["bank_transfer-ja"])
    assert "■ Payment method\n払込票で" in mails_to(orders["konbini-en"])
    assert after["held-transfer"]["events"] == [] and after["paid-cod"]["events"] == []
    # two mails for each prepaid order (4 by kind and language, by method, old case), one for COD and free
    assert len(after["delivered"]) == 6 * 2 + 2 + 2
    assert after["attempts"] == 0


@pytest.mark.django_db
def test_bulk_settlement_skips_card_held_later_and_settled_orders_and_runs_once() -> None:
    # given a card order, a held transfer, one created after the run date and a settled one
    orders = _seed()
    card = make_order(customer=CustomerFactory(), kind=K.CARD)

    counts = payments_bulk_settle(run_date=RUN_DATE)
    again = payments_bulk_settle(run_date=RUN_DATE)

    assert counts == {"awaiting_offline": 8, "not_required": 2}
    assert again == {"awaiting_offline": 0, "not_required": 0}
    for name in ("held-transfer", "paid-cod", "later-cod"):
        assert not OrderEvent.objects.filter(order=orders[name]).exists(), name
    card.refresh_from_db()
    assert (card.status, card.payment_status) == (OrderStatus.NEW, PaymentStatus.UNPAID)


@pytest.mark.django_db
def test_the_charge_stage_settles_offline_orders_in_bulk_and_counts_them(monkeypatch) -> None:  # noqa: ANN001
    # given offline and free orders
    orders = _seed()
    import billing.stages as stages

    charged_one_by_one = []
    monkeypatch.setattr(
        stages, "payment_charge_order", lambda **kw: charged_one_by_one.append(kw["order_id"])
    )

    counts = payment_charge_pending(run_date=RUN_DATE, fan_out=False)

    # then none went through the one-by-one path and all are counted
    assert charged_one_by_one == []
    assert (counts["awaiting_offline"], counts["not_required"]) == (8, 2)
    assert Order.objects.get(pk=orders["later-cod"].pk).payment_status == PaymentStatus.UNPAID
