"""Order rules applied to stored orders: the nightly stage (once per order), on demand, the timeline."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections
from django.db.models import Count

from catalog.models import DeliveryKind, DeliveryMethod
from notifications.models import MailTemplate, Notification
from orders.models import Order, OrderEvent, OrderStatus, PaymentStatus
from orders.rules.bulk import RULE_EVENT, order_rules_apply, order_rules_apply_pending
from orders.rules.models import OrderRule
from orders.rules.services import RuleInvalid, order_rule_save, order_rules_warnings
from scheduler.pipeline import run_pipeline
from tests.backoffice.helpers import shop_order
from tests.factories import CustomerFactory, ProductFactory, SubscriptionFactory

RUN = dt.date(2027, 3, 10)


def _straight_and_check() -> tuple[OrderRule, OrderRule]:
    straight = order_rule_save(
        name="カード・コメントなし・ギフトなし → 出荷待ち",
        conditions=[
            [
                {"field": "payment_kind", "op": "eq", "value": "card"},
                {"field": "has_comment", "op": "is", "value": False},
                {"field": "is_gift", "op": "is", "value": False},
            ]
        ],
        actions=[{"type": "set_status", "value": "ready"}, {"type": "add_tags", "value": ["確認不要"]}],
    )
    check = order_rule_save(
        name="コメントあり・離島 → 要確認",
        conditions=[
            [{"field": "has_comment", "op": "is", "value": True}],
            [{"field": "remote_island", "op": "is", "value": True}],
        ],
        actions=[{"type": "hold", "value": "要確認"}],
    )
    return straight, check


@pytest.mark.django_db
def test_the_worked_example_sorts_orders_and_says_which_rule_did_it():
    _straight_and_check()
    paid = shop_order(status=OrderStatus.NEW, payment_status=PaymentStatus.PAID)
    comment = shop_order(
        status=OrderStatus.NEW, payment_status=PaymentStatus.PAID, customer_comment="不在時は宅配ボックスへ"
    )
    island = shop_order(status=OrderStatus.NEW, payment_kind="cod", ship_remote_island=True)
    unpaid_card = shop_order(status=OrderStatus.NEW)

    counts = order_rules_apply_pending(run_date=RUN)

    assert counts["rules_orders_seen"] == 4
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses[paid.pk] == OrderStatus.READY
    assert statuses[comment.pk] == OrderStatus.ON_HOLD
    assert statuses[island.pk] == OrderStatus.ON_HOLD
    assert statuses[unpaid_card.pk] == OrderStatus.NEW  # 出荷待ち waits for the payment
    assert Order.objects.get(pk=paid.pk).tags == ["確認不要"]
    assert Order.objects.get(pk=island.pk).hold_reasons == ["要確認"]
    event = OrderEvent.objects.get(order=paid, kind=RULE_EVENT)
    assert event.note == "カード・コメントなし・ギフトなし → 出荷待ち"
    assert event.after == {"status": "ready", "tags": ["確認不要"]}
    refused = OrderEvent.objects.get(order=unpaid_card, kind=RULE_EVENT)
    assert "決済が済んでいない" in refused.note
    # and a second run finds nothing left to do
    assert order_rules_apply_pending(run_date=RUN) == {"rules_orders_seen": 0}
    assert OrderEvent.objects.filter(kind=RULE_EVENT).count() == 4


@pytest.mark.django_db
def test_mail_and_delivery_method_actions(django_capture_on_commit_callbacks):
    MailTemplate.objects.filter(event="ready").update(enabled=True)  # off by default
    DeliveryMethod.objects.create(
        code="parcel", name="宅配便", kind=DeliveryKind.PARCEL, fee=800, is_default=True
    )
    DeliveryMethod.objects.create(
        code="mail_bin", name="メール便", kind=DeliveryKind.MAIL_BIN, fee=200,
        max_length_mm=340, max_width_mm=250, max_thickness_mm=30, max_weight_g=1000, allows_time_slot=False,
    )  # fmt: skip
    flat = ProductFactory(
        package_length_mm=200, package_width_mm=150, package_thickness_mm=10, package_weight_g=100
    )
    box = ProductFactory(
        package_length_mm=300, package_width_mm=200, package_thickness_mm=80, package_weight_g=900
    )
    order_rule_save(
        name="メール便に収まる → メール便",
        conditions=[[{"field": "fits_mail_bin", "op": "is", "value": True}]],
        actions=[
            {"type": "set_delivery_method", "value": "mail_bin"},
            {"type": "send_mail", "value": "ready"},
        ],
    )
    fits = shop_order(status=OrderStatus.NEW, product=flat, delivery_time_slot="")
    too_thick = shop_order(status=OrderStatus.NEW, product=box, delivery_time_slot="")
    wants_slot = shop_order(status=OrderStatus.NEW, product=flat, delivery_time_slot="14-16")

    with django_capture_on_commit_callbacks():
        order_rules_apply_pending(run_date=RUN)

    methods = dict(Order.objects.values_list("pk", "delivery_method__code"))
    assert methods == {fits.pk: "mail_bin", too_thick.pk: None, wants_slot.pk: None}
    assert Notification.objects.filter(ref=f"order:{fits.pk}").count() == 1
    # applied again on demand: the rule's mail is not sent twice
    with django_capture_on_commit_callbacks():
        order_rules_apply(order_ids=[fits.pk])
    assert Notification.objects.filter(ref=f"order:{fits.pk}").count() == 1


@pytest.mark.django_db
def test_on_demand_applies_to_a_selection_whatever_ran_before(admin_user):
    _straight_and_check()
    order = shop_order(
        status=OrderStatus.NEW,
        customer_comment="のし希望",
        rules_applied_at=dt.datetime(2027, 3, 1, tzinfo=dt.UTC),
    )
    assert order_rules_apply_pending(run_date=RUN) == {"rules_orders_seen": 0}

    order_rules_apply(order_ids=[order.pk], actor_user=admin_user)

    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    assert OrderEvent.objects.get(order=order, kind=RULE_EVENT).actor == admin_user


@pytest.mark.django_db
def test_repeaters_groups_and_similar_to_blacklisted():
    order_rule_save(
        name="リピーター",
        conditions=[[{"field": "customer_repeater", "op": "is", "value": True}]],
        actions=[{"type": "add_tags", "value": ["リピーター"]}],
    )
    order_rule_save(
        name="ブラックリスト類似",
        conditions=[[{"field": "customer_similar_blacklisted", "op": "is", "value": True}]],
        actions=[{"type": "hold", "value": "ブラックリスト類似"}],
    )
    bad = CustomerFactory(name="悪田 太郎", phone="090-0000-1111", is_blacklisted=True)
    twin = CustomerFactory(name="悪田 太郎", phone="09000001111")
    regular = CustomerFactory()
    first = shop_order(status=OrderStatus.NEW, customer=regular)
    second = shop_order(status=OrderStatus.NEW, customer=regular)
    suspicious = shop_order(
        status=OrderStatus.NEW, customer=twin, ship_name="悪田 太郎", ship_phone="090-0000-1111"
    )
    assert bad.pk

    order_rules_apply_pending(run_date=RUN)

    tags = dict(Order.objects.values_list("pk", "tags"))
    assert tags[first.pk] == [] and tags[second.pk] == ["リピーター"]
    assert Order.objects.get(pk=suspicious.pk).hold_reasons == ["ブラックリスト類似"]


@pytest.mark.django_db
def test_preorders_are_held_until_their_release_date():
    product = ProductFactory(is_preorder=True, release_date=dt.date(2027, 3, 20))
    order = shop_order(status=OrderStatus.NEW, product=product)

    order_rules_apply_pending(run_date=RUN)
    order.refresh_from_db()
    assert (order.status, order.hold_reasons, order.tags) == (OrderStatus.ON_HOLD, ["preorder"], ["予約"])

    from orders.rules.bulk import preorders_release_due

    assert preorders_release_due(run_date=dt.date(2027, 3, 19)) == {"preorders_released": 0}
    assert preorders_release_due(run_date=dt.date(2027, 3, 20)) == {"preorders_released": 1}
    order.refresh_from_db()
    assert (order.status, order.hold_reasons) == (OrderStatus.NEW, [])


@pytest.mark.django_db
def test_saving_refuses_unknown_fields_and_flags_dead_rules():
    with pytest.raises(RuleInvalid) as caught:
        order_rule_save(
            name="x",
            conditions=[[{"field": "colour", "op": "eq", "value": "red"}]],
            actions=[{"type": "add_tags", "value": "a"}],
        )
    assert "colour" in caught.value.message
    with pytest.raises(RuleInvalid):
        order_rule_save(
            name="x",
            conditions=[[{"field": "total", "op": "approx", "value": 1}]],
            actions=[{"type": "add_tags", "value": "a"}],
        )
    everything = order_rule_save(
        name="全部", conditions=[], actions=[{"type": "add_tags", "value": "a"}], stop_after_match=True
    )
    later = order_rule_save(
        name="後",
        conditions=[[{"field": "is_gift", "op": "is", "value": True}]],
        actions=[{"type": "add_tags", "value": "b"}],
    )
    never = order_rule_save(
        name="無理",
        conditions=[
            [{"field": "total", "op": "gt", "value": 10}, {"field": "total", "op": "lt", "value": 5}]
        ],
        actions=[{"type": "add_tags", "value": "c"}],
    )
    warnings = order_rules_warnings()
    assert everything.pk not in warnings
    assert "全部" in warnings[later.pk][0]
    assert any("一致しません" in w for w in warnings[never.pk])


@pytest.mark.django_db
def test_the_nightly_pipeline_runs_the_rules_on_the_orders_it_created(policy):
    order_rule_save(
        name="初回 → タグ",
        conditions=[[{"field": "first_order", "op": "is", "value": True}]],
        actions=[{"type": "add_tags", "value": ["初回"]}],
    )
    subs = SubscriptionFactory.create_batch(3)
    run_date = subs[0].next_creation_date

    counters = run_pipeline(run_date=run_date)

    assert counters["orders_created"] == 3
    assert counters["rules_orders_seen"] == 3
    orders = Order.objects.filter(subscription__in=subs)
    assert {tuple(o.tags) for o in orders} == {("初回",)}
    assert all(o.rules_applied_at is not None for o in orders)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_runs_apply_the_rules_once_per_order():
    # given 60 new orders and a rule, and small batches so the runs interleave
    from tests.backoffice.helpers import shop_defaults  # noqa: F401

    order_rule_save(name="全件タグ", conditions=[], actions=[{"type": "add_tags", "value": ["checked"]}])
    product = ProductFactory()
    customer = CustomerFactory()
    orders = [shop_order(status=OrderStatus.NEW, product=product, customer=customer) for _ in range(60)]
    start = threading.Barrier(2)
    results = []

    def run() -> None:
        try:
            start.wait()
            results.append(order_rules_apply_pending(run_date=RUN, batch_size=4))
        finally:
            connections.close_all()

    # when two runs start together
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then each order has exactly one rule event, and the two runs shared the work
    per_order = dict(
        OrderEvent.objects.filter(kind=RULE_EVENT)
        .values_list("order_id")
        .annotate(n=Count("id"))
        .values_list("order_id", "n")
    )
    assert per_order == {o.pk: 1 for o in orders}
    assert sum(r["rules_orders_seen"] for r in results) == 60
    assert all(r["rules_orders_seen"] > 0 for r in results)
