"""Dunning: the rule table, hard declines, the nightly retries, the final action, a new card, offline
deadlines."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from billing.dunning_rules import Rule, is_hard_decline, next_step
from billing.models import DunningCase, DunningRule, DunningStatus, FinalAction, PaymentKind, PaymentPolicy
from billing.services.dunning_runs import dunning_run
from billing.services.payments import payment_charge_order
from orders.models import OrderStatus, PaymentStatus
from subscriptions.actors import Actor
from subscriptions.models import SubscriptionStatus
from tests.billing.payments_helpers import DECLINES_ON_CHARGE, VISA, charges_for, make_order, save_card
from tests.factories import CustomerFactory

DEFAULT = [Rule(1, 1, False), Rule(2, 3, False), Rule(3, 5, False), Rule(4, 7, True)]
FIRST = dt.date(2027, 3, 1)


@pytest.mark.parametrize(
    ("failures", "today", "retry_on", "warn", "exhausted"),
    [
        (1, FIRST, dt.date(2027, 3, 2), False, False),
        (2, dt.date(2027, 3, 2), dt.date(2027, 3, 4), False, False),
        (3, dt.date(2027, 3, 4), dt.date(2027, 3, 6), False, False),
        (4, dt.date(2027, 3, 6), dt.date(2027, 3, 8), True, False),  # warned before the last try
        (5, dt.date(2027, 3, 8), None, False, True),
        (2, dt.date(2027, 3, 5), dt.date(2027, 3, 5), False, False),  # a late run retries today
    ],
)
def test_next_step_counts_from_the_first_failure(failures, today, retry_on, warn, exhausted) -> None:  # noqa: ANN001
    step = next_step(rules=DEFAULT, first_failed_on=FIRST, failures=failures, hard=False, today=today)

    assert (step.retry_on, step.warn, step.exhausted) == (retry_on, warn, exhausted)


def test_a_hard_decline_is_never_retried() -> None:
    step = next_step(rules=DEFAULT, first_failed_on=FIRST, failures=1, hard=True, today=FIRST)

    assert (step.retry_on, step.exhausted) == (None, True)


@pytest.mark.parametrize(
    ("error_code", "decline_code", "hard"),
    [
        ("card_declined", "insufficient_funds", False),
        ("card_declined", "generic_decline", False),
        ("card_declined", "", False),
        ("processing_error", "", False),
        ("card_declined", "stolen_card", True),
        ("card_declined", "lost_card", True),
        ("card_declined", "pickup_card", True),
        ("card_declined", "fraudulent", True),
        ("card_declined", "invalid_account", True),
        ("expired_card", "", True),
        ("incorrect_number", "", True),
    ],
)
def test_hard_declines(error_code, decline_code, hard) -> None:  # noqa: ANN001
    assert is_hard_decline(error_code=error_code, decline_code=decline_code) is hard


def test_the_default_rules_are_seeded_by_migration(db) -> None:  # noqa: ANN001
    assert list(DunningRule.objects.values_list("retry", "days_after_failure", "email_before")) == [
        (1, 1, False),
        (2, 3, False),
        (3, 5, False),
        (4, 7, True),
    ]


@pytest.fixture
def failing_order(stripe_settings, db, localstripe):  # noqa: ANN001, ANN201
    customer = CustomerFactory()
    order = make_order(method=save_card(localstripe, customer, DECLINES_ON_CHARGE), customer=customer)
    return order


def _run(day: dt.date, time_machine) -> dict:  # noqa: ANN001
    time_machine.move_to(dt.datetime(day.year, day.month, day.day, 3, tzinfo=dt.UTC))
    return dunning_run(run_date=day)


@pytest.mark.parametrize(
    ("action", "subscription_status"),
    [
        (FinalAction.SUSPEND, SubscriptionStatus.SUSPENDED),
        (FinalAction.CANCEL, SubscriptionStatus.CANCELLED),
        (FinalAction.SKIP, SubscriptionStatus.ACTIVE),
    ],
)
def test_retries_follow_the_rules_then_the_shops_final_action(
    failing_order, time_machine, django_capture_on_commit_callbacks, action, subscription_status
) -> None:  # noqa: ANN001
    PaymentPolicy.objects.update_or_create(pk=1, defaults={"final_action": action})
    order = failing_order
    time_machine.move_to(dt.datetime(2027, 3, 1, 3, tzinfo=dt.UTC))
    with django_capture_on_commit_callbacks(execute=True):
        payment_charge_order(order_id=order.pk)
        assert _run(dt.date(2027, 3, 1), time_machine)["retried"] == 0  # not before day 1
        retried = [_run(dt.date(2027, 3, day), time_machine)["retried"] for day in range(2, 10)]

    assert retried == [1, 0, 1, 0, 1, 0, 1, 0]  # days 2, 4, 6 and 8
    order.refresh_from_db()
    order.subscription.refresh_from_db()
    case = DunningCase.objects.get(order=order)
    assert (case.failures, case.status) == (5, DunningStatus.EXHAUSTED)
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.CANCELLED)
    assert order.subscription.status == subscription_status
    assert order.payment_attempts.count() == 5
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        "【重要】定期便のお支払いができませんでした",  # first failure
        "【重要】お支払いの最終確認のお願い",  # before the last try
        "定期便のお支払いを完了できませんでした",  # final action
    ]


def test_a_new_card_retries_the_failed_order_at_once_and_clears_the_attention(
    failing_order, localstripe, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    from subscriptions.services import subscription_change_payment_method

    order = failing_order
    payment_charge_order(order_id=order.pk)
    customer = order.customer
    new_card = save_card(localstripe, customer, VISA)

    with django_capture_on_commit_callbacks(execute=True):
        subscription_change_payment_method(
            subscription_id=order.subscription_id,
            payment_method_id=new_card.pk,
            actor=Actor.customer(customer.user),
        )

    order.refresh_from_db()
    order.subscription.refresh_from_db()
    assert (order.payment_status, order.status, order.hold_reasons) == (
        PaymentStatus.PAID,
        OrderStatus.READY,
        [],
    )
    assert order.payment_method_id == new_card.pk
    assert "payment_failed" not in order.subscription.needs_attention
    assert DunningCase.objects.get(order=order).status == DunningStatus.RESOLVED
    assert len(charges_for(localstripe, customer.stripe_customer_id)) == 1


def test_offline_payment_is_reminded_before_its_deadline_and_cancelled_after(
    db, time_machine, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    PaymentPolicy.objects.update_or_create(
        pk=1, defaults={"bank_transfer_account": "テスト銀行 本店 普通 7654321"}
    )
    order = make_order(kind=PaymentKind.BANK_TRANSFER)
    time_machine.move_to(dt.datetime(2027, 3, 1, 3, tzinfo=dt.UTC))
    with django_capture_on_commit_callbacks(execute=True):
        payment_charge_order(order_id=order.pk)  # deadline: 7 days later, 3/8
        counts = [(_run(dt.date(2027, 3, d), time_machine)) for d in (5, 6, 7, 8, 9)]

    assert [(c["offline_reminded"], c["offline_cancelled"]) for c in counts] == [
        (0, 0),
        (1, 0),  # two days before the deadline
        (0, 0),
        (0, 0),
        (0, 1),  # the day after the deadline
    ]
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.CANCELLED)
    assert [m.subject for m in mail.outbox] == [
        "お支払い方法のご案内",
        "お支払期限が近づいています",
        "お支払期限切れによるご注文キャンセルのお知らせ",
    ]
    # the instructions and the reminder say where to pay
    for sent in mail.outbox[:2]:
        assert "■ お振込先\nテスト銀行 本店 普通 7654321" in sent.body, sent.body
