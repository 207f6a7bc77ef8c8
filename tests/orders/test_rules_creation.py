"""The order rules run as the nightly run creates its orders (orders.rules.creation), the orders that
wait for their payment finished by the stage after the charges (orders.rules.pending): the shop sees
what it saw when every order was walked after the charges — the same status, hold reasons, tags,
delivery method, the same timeline rows and mails — whatever the charge did."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections, transaction
from django.db.models import Count

from billing.bulk import payments_bulk_settle
from billing.models import PaymentMethod
from catalog.models import DeliveryKind, DeliveryMethod
from customers.models import Customer
from notifications.models import MailTemplate, Notification
from orders.models import Order, OrderEvent, OrderStatus, PaymentStatus, SubscriptionGift
from orders.rules.bulk import RULE_EVENT, order_rules_apply, order_rules_apply_pending
from orders.rules.models import OrderRule, OrderRulesWalk
from orders.rules.services import order_rule_save
from scheduler.generation import generate_due
from subscriptions.models import Subscription
from tests.backoffice.helpers import shop_order
from tests.factories import CourseFactory, ProductFactory, SubscriptionFactory

CREATION = dt.date(2027, 1, 25)  # SubscriptionFactory's first creation date

RULES = [
    ("カード・コメントなし・ギフトなし → 出荷待ち",
     [[{"field": "payment_kind", "op": "eq", "value": "card"},
       {"field": "has_comment", "op": "is", "value": False},
       {"field": "is_gift", "op": "is", "value": False}]],
     [{"type": "set_status", "value": "ready"}, {"type": "add_tags", "value": ["確認不要"]}], False),
    ("コメントあり・離島 → 要確認",
     [[{"field": "has_comment", "op": "is", "value": True}], [{"field": "remote_island", "op": "is", "value": True}]],
     [{"type": "hold", "value": "要確認"}], False),
    ("ブラックリスト → メール", [[{"field": "customer_blacklisted", "op": "is", "value": True}]],
     [{"type": "send_mail", "value": "on_hold"}, {"type": "add_tags", "value": ["BL"]}], False),
    ("代引き → タグ", [[{"field": "payment_kind", "op": "eq", "value": "cod"}]],
     [{"type": "add_tags", "value": ["代引"]}], False),
    ("午前指定 → タグ", [[{"field": "delivery_time_slot", "op": "eq", "value": "08-12"}]],
     [{"type": "add_tags", "value": ["午前"]}], False),
    ("リピーター → タグ", [[{"field": "customer_repeater", "op": "is", "value": True}]],
     [{"type": "add_tags", "value": ["リピーター"]}], False),
    ("メール便に収まる → メール便", [[{"field": "fits_mail_bin", "op": "is", "value": True}]],
     [{"type": "set_delivery_method", "value": "mail_bin"}], False),
    ("決済済み → タグ", [[{"field": "payment_status", "op": "eq", "value": "paid"}]],
     [{"type": "add_tags", "value": ["決済済"]}], False),
    ("保留理由あり → タグ", [[{"field": "hold_reasons", "op": "not_empty"}]],
     [{"type": "add_tags", "value": ["要対応"]}], False),
    ("ギフト → ここまで", [[{"field": "is_gift", "op": "is", "value": True}]],
     [{"type": "add_tags", "value": ["ギフト"]}], True),
    ("全件 → タグ", [], [{"type": "add_tags", "value": ["確認済"]}], False),
]  # fmt: skip


class _Rollback(Exception):
    pass


def _save_rules(rules=RULES) -> None:  # noqa: ANN001
    for name, conditions, actions, stop in rules:
        order_rule_save(name=name, conditions=conditions, actions=actions, stop_after_match=stop)


def _subscribe(kind: str = "card", **fields) -> Subscription:  # noqa: ANN003
    sub = SubscriptionFactory(**fields)
    method = PaymentMethod.objects.create(customer=sub.customer, kind=kind, last4="4242", brand="visa")
    Subscription.objects.filter(pk=sub.pk).update(payment_method=method)
    return sub


@pytest.fixture
def night(db, policy):  # noqa: ANN001, ANN201
    """A night's worth of different orders: cards with and without a slot, cash on delivery, bank
    transfer and konbini, a blacklisted customer (held at creation), a remote island, a gift, a
    pre-order item, a letterbox-sized item, a repeat customer, a customer ordering twice tonight."""
    MailTemplate.objects.filter(event="on_hold").update(enabled=True)
    DeliveryMethod.objects.create(
        code="parcel", name="宅配便", kind=DeliveryKind.PARCEL, fee=800, is_default=True
    )
    DeliveryMethod.objects.create(
        code="mail_bin", name="メール便", kind=DeliveryKind.MAIL_BIN, fee=200,
        max_length_mm=340, max_width_mm=250, max_thickness_mm=30, max_weight_g=1000, allows_time_slot=False,
    )  # fmt: skip
    subs = [
        _subscribe("card", delivery_time_slot=""),
        _subscribe("card", delivery_time_slot="08-12"),
        _subscribe("card", delivery_time_slot="14-16"),
        _subscribe("cod", delivery_time_slot="08-12"),
        _subscribe("bank_transfer"),
        _subscribe("konbini"),
    ]
    blacklisted = _subscribe("card")
    Customer.objects.filter(pk=blacklisted.customer_id).update(is_blacklisted=True)
    island = _subscribe("card")
    island.shipping_address.is_remote_island = True
    island.shipping_address.save()
    gift = _subscribe("card")
    SubscriptionGift.objects.create(subscription=gift, wrapping=True, message="おめでとう")
    preorder = ProductFactory(is_preorder=True, release_date=dt.date(2027, 3, 1))
    flat = ProductFactory(
        package_length_mm=200, package_width_mm=150, package_thickness_mm=10, package_weight_g=100
    )
    repeat = _subscribe("card")
    shop_order(status=OrderStatus.COMPLETED, customer=repeat.customer)
    # a customer with two subscriptions due tonight and no order yet: which order is the repeat one
    # depends on both, so the rules for these wait for the stage's usual path
    twice = _subscribe("card", customer=subs[0].customer, delivery_time_slot="")
    subs += [
        blacklisted, island, gift, repeat, twice,
        _subscribe("card", course=CourseFactory(setup=preorder)),
        _subscribe("card", course=CourseFactory(setup=flat), delivery_time_slot=""),
    ]  # fmt: skip
    return subs


def _charge(outcome: str) -> None:
    """What the charge stage leaves: offline orders settled by billing's own bulk settlement; card
    orders paid and ready ("usual"), declined and held ("declined"), or not charged yet ("queued",
    the charges still on their way through the workers)."""
    payments_bulk_settle(run_date=CREATION)
    cards = Order.objects.filter(
        payment_kind="card", status=OrderStatus.NEW, payment_status=PaymentStatus.UNPAID
    )
    if outcome == "usual":
        cards.update(payment_status=PaymentStatus.PAID, status=OrderStatus.READY)
    elif outcome == "declined":
        for order in cards:
            order.hold_reasons = [*order.hold_reasons, "payment_failed"]
            order.status, order.payment_status = OrderStatus.ON_HOLD, PaymentStatus.FAILED
            order.save(update_fields=["hold_reasons", "status", "payment_status"])


def _seen(subs: list[Subscription]) -> dict[int, tuple]:
    """Per subscription, its order as the shop sees it: state, timeline rows of the rules, rule mails."""
    orders = {o.pk: o for o in Order.objects.filter(subscription__in=subs).select_related("delivery_method")}
    mails: dict[int, list[str]] = {}
    for key in Notification.objects.filter(key__startswith="order-rule-mail:").values_list("key", flat=True):
        _prefix, order_id, rule_id, event = key.split(":")
        mails.setdefault(int(order_id), []).append(f"{rule_id}:{event}")
    events: dict[int, list] = {}
    for order_id, before, after, note in (
        OrderEvent.objects.filter(kind=RULE_EVENT, order__in=orders).order_by("id").values_list(
            "order_id", "before", "after", "note"
        )
    ):  # fmt: skip
        events.setdefault(order_id, []).append((before, after, note))
    return {
        o.subscription_id: (
            o.status, o.payment_status, o.hold_reasons, o.tags,
            o.delivery_method.code if o.delivery_method else None, o.rules_applied_at is not None,
            events.get(o.pk, []), sorted(mails.get(o.pk, [])),
        )
        for o in orders.values()
    }  # fmt: skip


def _night(subs: list[Subscription], *, at_creation: bool, outcome: str, between=None) -> dict:  # noqa: ANN001
    """Generation, the charges, the rules stage; what the shop sees; all rolled back."""
    seen: dict = {}
    try:
        with transaction.atomic():
            generate_due(run_date=CREATION, apply_rules=at_creation)
            if between is not None:
                between()
            _charge(outcome)
            order_rules_apply_pending(run_date=CREATION)
            seen = _seen(subs)
            assert not OrderRulesWalk.objects.exists()
            raise _Rollback
    except _Rollback:
        pass
    return seen


@pytest.fixture(params=["copy", "orm"])
def writer(request, settings):  # noqa: ANN001, ANN201
    settings.NIGHTLY_WRITER = request.param
    return request.param


@pytest.mark.parametrize("outcome", ["usual", "declined", "queued"])
def test_rules_at_creation_end_as_rules_after_the_charges(night, writer, outcome) -> None:  # noqa: ANN001
    # given the shop's rules and a night of varied orders
    _save_rules()

    # when the night runs with the rules walked after the charges (as before), and as it runs now
    after_charges = _night(night, at_creation=False, outcome=outcome)
    at_creation = _night(night, at_creation=True, outcome=outcome)

    # then every order ends the same, with the same timeline rows and mails
    assert len(after_charges) == len(night)
    assert at_creation == after_charges
    # (and the rules did something worth comparing)
    assert sum(len(seen[6]) for seen in at_creation.values()) >= 2 * len(night)


def test_the_stage_walks_again_when_the_rules_changed_after_creation(night) -> None:  # noqa: ANN001
    # given the rules, changed between the creation of tonight's orders and the stage
    _save_rules()

    def change() -> None:
        rule = OrderRule.objects.get(name="午前指定 → タグ")
        order_rule_save(
            rule_id=rule.pk, name=rule.name, conditions=rule.conditions,
            actions=[{"type": "add_tags", "value": ["午前便"]}],
        )  # fmt: skip

    # then the stage walks the rules as they are when it runs, as before
    after_charges = _night(night, at_creation=False, outcome="usual", between=change)
    at_creation = _night(night, at_creation=True, outcome="usual", between=change)
    assert at_creation == after_charges
    assert any("午前便" in seen[3] for seen in at_creation.values())


def test_applying_on_demand_before_the_stage_takes_the_order_off_its_list(night, admin_user) -> None:  # noqa: ANN001
    # given tonight's orders, charged, and staff applying the rules to them before the stage runs
    _save_rules()

    def on_demand() -> None:
        _charge("usual")
        order_rules_apply(order_ids=list(Order.objects.values_list("pk", flat=True)), actor_user=admin_user)

    # then the stage finds nothing left: every order ends as before, and an order that was waiting for
    # its payment has the one walk staff made (an order ruled at its creation, held from it, has had
    # its walk already: staff's is a second one, as after the stage before)
    after_charges = _night(night, at_creation=False, outcome="usual", between=on_demand)
    at_creation = _night(night, at_creation=True, outcome="usual", between=on_demand)
    assert {k: v[:6] for k, v in at_creation.items()} == {k: v[:6] for k, v in after_charges.items()}
    held = set(Subscription.objects.filter(customer__is_blacklisted=True).values_list("pk", flat=True))
    assert held
    assert {k: v for k, v in at_creation.items() if k not in held} == {
        k: v for k, v in after_charges.items() if k not in held
    }


def test_each_order_takes_the_way_its_walk_allows(night) -> None:  # noqa: ANN001
    # given the rules and tonight's orders
    _save_rules()
    result = generate_due(run_date=CREATION)
    orders = {o.subscription_id: o for o in Order.objects.filter(subscription__in=night)}
    blacklisted, twice = night[6], night[10]
    # then the order held from its creation is done (its charge waits for staff), the customer ordering
    # twice tonight waits for the stage's usual path (which of the two is the repeat order), and the
    # others wait for their payment with the tags the usual charge's walk gives
    assert orders[blacklisted.pk].rules_applied_at is not None
    assert orders[blacklisted.pk].tags == ["確認不要", "BL", "要対応", "確認済"]
    assert orders[twice.pk].rules_applied_at is None and orders[night[0].pk].rules_applied_at is None
    waiting = [o for o in orders.values() if o.subscription_id not in (blacklisted.pk, twice.pk, night[0].pk)]
    assert all(o.rules_applied_at is not None and o.status == OrderStatus.NEW for o in waiting)
    assert orders[night[1].pk].tags == ["確認不要", "午前", "決済済", "確認済"]
    assert result.rules["rules_waiting_payment"] == len(waiting)
    assert sum(len(w.order_ids) for w in OrderRulesWalk.objects.all()) == len(waiting)


def test_without_rules_every_order_is_written_done_and_the_stage_has_nothing_to_do(policy) -> None:  # noqa: ANN001
    # given no rule and no pre-order item (the built-in pre-order rule waits for one)
    for kind in ("card", "cod"):
        _subscribe(kind)
    generate_due(run_date=CREATION)
    assert not Order.objects.filter(rules_applied_at__isnull=True).exists()
    assert order_rules_apply_pending(run_date=CREATION) == {"rules_orders_seen": 0}


def test_a_dry_run_for_the_simulation_leaves_the_rules_to_it(night) -> None:  # noqa: ANN001
    _save_rules()
    generate_due(run_date=CREATION, apply_rules=False)
    assert set(Order.objects.values_list("rules_applied_at", flat=True)) == {None}
    assert not OrderRulesWalk.objects.exists()
    assert not OrderEvent.objects.filter(kind=RULE_EVENT).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_stages_finish_each_waiting_order_once(policy) -> None:  # noqa: ANN001
    # given 40 new card orders whose rules wait for their payment, charged
    from tests.backoffice.helpers import shop_defaults  # noqa: F401

    _save_rules(RULES[:1] + RULES[4:5])
    subs = [_subscribe("card", delivery_time_slot="08-12") for _ in range(40)]
    result = generate_due(run_date=CREATION)
    assert result.rules["rules_waiting_payment"] == 40
    _charge("usual")
    start = threading.Barrier(2)
    results = []

    def run() -> None:
        try:
            start.wait()
            results.append(order_rules_apply_pending(run_date=CREATION, batch_size=4))
        finally:
            connections.close_all()

    # when two stages start together
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then each order has one row per rule that changed it, and the list is empty
    per_order = dict(
        OrderEvent.objects.filter(kind=RULE_EVENT).values_list("order_id").annotate(n=Count("id")).values_list(
            "order_id", "n"
        )
    )  # fmt: skip
    orders = Order.objects.filter(subscription__in=subs)
    assert per_order == {o.pk: 2 for o in orders}
    assert {tuple(o.tags) for o in orders} == {("確認不要", "午前")}
    assert sum(r.get("rules_orders_seen", 0) for r in results) == 40
    assert not OrderRulesWalk.objects.exists()
