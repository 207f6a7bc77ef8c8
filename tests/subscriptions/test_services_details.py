"""What the next deliveries carry, who may change it and when: permissions, deadlines, the timeline."""

from __future__ import annotations

import pytest

from billing.models import PaymentMethod
from core.errors import DomainError
from pricing.models import Coupon
from subscriptions.cycles import Cycle
from subscriptions.models import ShopPolicy, SubscriptionEvent
from subscriptions.selectors import can_customer_change, change_deadline
from subscriptions.services import (
    subscription_cancel,
    subscription_change_address,
    subscription_change_cycle,
    subscription_change_items,
    subscription_change_next_date,
    subscription_change_payment_method,
    subscription_change_time_slot,
    subscription_pause,
    subscription_restart,
    subscription_resume,
    subscription_set_coupon,
    subscription_set_points_reservation,
    subscription_skip_next,
    subscription_unskip,
)
from subscriptions.services.details import MAX_POINTS_RESERVATION
from tests.factories import AddressFactory, ProductFactory, SubscriptionFactory

from .services_helpers import actor_for, admin_actor, customer_actor, d, events, on

pytestmark = pytest.mark.django_db

TODAY = d("2027-01-05")  # the factory's subscription: next 1/31, created 1/25, customer deadline 1/23


def card(customer, **kw):
    return PaymentMethod.objects.create(customer=customer, kind="card", brand="visa", last4="4242", **kw)


# Each change a customer can make: (permission flag, call). Every one must write exactly one event.
def change_calls(sub):
    address = AddressFactory(customer=sub.customer, label="実家")
    method = card(sub.customer)
    coupon = Coupon.objects.create(code="WELCOME", name="初回", value=500)
    return {
        "allow_skip": lambda who: subscription_skip_next(subscription_id=sub.pk, actor=who),
        "allow_change_date": lambda who: subscription_change_next_date(
            subscription_id=sub.pk, new_date=d("2027-02-10"), actor=who
        ),
        "allow_change_cycle": lambda who: subscription_change_cycle(
            subscription_id=sub.pk, cycle=Cycle("month", 2), actor=who
        ),
        "allow_change_time_slot": lambda who: subscription_change_time_slot(
            subscription_id=sub.pk, time_slot="19-21", actor=who
        ),
        "allow_change_quantity": lambda who: subscription_change_items(
            subscription_id=sub.pk, quantities={sub.items.get().product_id: 3}, actor=who
        ),
        "allow_change_address": lambda who: subscription_change_address(
            subscription_id=sub.pk, address_id=address.pk, actor=who
        ),
        "allow_change_payment": lambda who: subscription_change_payment_method(
            subscription_id=sub.pk, payment_method_id=method.pk, actor=who
        ),
        "allow_points": lambda who: subscription_set_points_reservation(
            subscription_id=sub.pk, mode="amount", amount=300, actor=who
        ),
        "allow_coupon": lambda who: subscription_set_coupon(
            subscription_id=sub.pk, coupon_id=coupon.pk, actor=who
        ),
        "allow_pause": lambda who: subscription_pause(subscription_id=sub.pk, actor=who),
        "allow_cancel": lambda who: subscription_cancel(subscription_id=sub.pk, reason="price", actor=who),
    }


FLAGS = [
    "allow_skip",
    "allow_change_date",
    "allow_change_cycle",
    "allow_change_time_slot",
    "allow_change_quantity",
    "allow_change_address",
    "allow_change_payment",
    "allow_points",
    "allow_coupon",
    "allow_pause",
    "allow_cancel",
]


@pytest.mark.parametrize("actor_kind", ["customer", "admin", "system"])
@pytest.mark.parametrize("flag", FLAGS)
def test_every_change_writes_exactly_one_event_with_who_and_before_after(flag, actor_kind):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    who = actor_for(actor_kind, sub)
    calls = change_calls(sub)
    with on(TODAY):
        calls[flag](who)
    [event] = events(sub)
    assert event.actor_kind == actor_kind
    assert event.actor_id == who.user_id
    assert event.before != event.after
    assert set(event.before) <= set(event.after)


@pytest.mark.parametrize("flag", FLAGS)
def test_a_permission_turned_off_refuses_customers_but_not_the_shop(policy, flag):
    setattr(policy, flag, False)
    policy.save()
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    calls = change_calls(sub)
    with on(TODAY):
        with pytest.raises(DomainError) as exc:
            calls[flag](customer_actor(sub))
        assert (exc.value.code, exc.value.status) == ("not_allowed", 403)
        assert events(sub) == []
        calls[flag](admin_actor())
    assert len(events(sub)) == 1


def test_resume_and_restart_follow_their_permissions(policy):
    policy.allow_pause = policy.allow_restart = False
    policy.save()
    paused = SubscriptionFactory(anchor_date=d("2027-01-31"), status="paused")
    cancelled = SubscriptionFactory(anchor_date=d("2027-01-31"), status="cancelled")
    with on(TODAY):
        for call in (
            lambda: subscription_resume(subscription_id=paused.pk, actor=customer_actor(paused)),
            lambda: subscription_restart(subscription_id=cancelled.pk, actor=customer_actor(cancelled)),
        ):
            with pytest.raises(DomainError) as exc:
                call()
            assert exc.value.code == "not_allowed"


# Deadline: next 1/31 is created 1/25; customers may change it until 1/23 inclusive.
DEADLINE_BOUND = [f for f in FLAGS if f not in ("allow_change_payment", "allow_change_cycle")]


@pytest.mark.parametrize(
    ("today", "allowed"),
    [("2027-01-22", True), ("2027-01-23", True), ("2027-01-24", False), ("2027-01-31", False)],
)
@pytest.mark.parametrize("flag", DEADLINE_BOUND)
def test_customer_changes_to_the_next_delivery_close_at_the_deadline(flag, today, allowed):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    calls = change_calls(sub)
    policy = ShopPolicy.current()
    assert change_deadline(sub, policy) == d("2027-01-23")
    assert can_customer_change(sub, policy, d(today)) is allowed
    with on(d(today)):
        if allowed:
            calls[flag](customer_actor(sub))
            assert len(events(sub)) == 1
        else:
            with pytest.raises(DomainError) as exc:
                calls[flag](customer_actor(sub))
            assert exc.value.code == "deadline_passed"
            # the shop is not bound by it
            calls[flag](admin_actor())


def test_payment_method_and_a_cycle_change_that_keeps_the_next_date_are_open_after_the_deadline():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    calls = change_calls(sub)
    with on(d("2027-01-24")):
        calls["allow_change_payment"](customer_actor(sub))
        calls["allow_change_cycle"](customer_actor(sub))
    assert [e.kind for e in events(sub)] == ["payment_method_changed", "cycle_changed"]


def test_a_customer_cannot_touch_another_customers_subscription():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    stranger = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(TODAY), pytest.raises(DomainError) as exc:
        subscription_skip_next(subscription_id=sub.pk, actor=customer_actor(stranger))
    assert (exc.value.code, exc.value.status) == ("subscription_not_found", 404)


@pytest.mark.parametrize("actor_kind", ["customer", "admin"])
def test_another_customers_address_or_card_is_refused(actor_kind):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    other = SubscriptionFactory(anchor_date=d("2027-01-31"))
    who = actor_for(actor_kind, sub)
    with on(TODAY):
        with pytest.raises(DomainError) as exc:
            subscription_change_address(
                subscription_id=sub.pk, address_id=other.shipping_address_id, actor=who
            )
        assert (exc.value.code, exc.value.status) == ("address_not_found", 404)
        with pytest.raises(DomainError) as exc:
            subscription_change_payment_method(
                subscription_id=sub.pk, payment_method_id=card(other.customer).pk, actor=who
            )
        assert exc.value.code == "payment_method_not_found"
    sub.refresh_from_db()
    assert sub.shipping_address.customer_id == sub.customer_id
    assert events(sub) == []


def test_invalid_address_and_inactive_card_are_refused():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(TODAY):
        with pytest.raises(DomainError) as exc:
            subscription_change_address(
                subscription_id=sub.pk, address_id=AddressFactory(customer=sub.customer, is_invalid=True).pk,
                actor=customer_actor(sub),
            )  # fmt: skip
        assert exc.value.code == "invalid_address"
        with pytest.raises(DomainError) as exc:
            subscription_change_payment_method(
                subscription_id=sub.pk, payment_method_id=card(sub.customer, is_active=False).pk,
                actor=customer_actor(sub),
            )  # fmt: skip
        assert exc.value.code == "payment_method_not_found"


@pytest.mark.parametrize(
    ("quantities", "outcome"),
    [
        ({"course": 2}, {"course": 2}),
        ({"course": 99}, {"course": 99}),
        ({"course": 100}, "invalid_quantity"),
        ({"course": -1}, "invalid_quantity"),
        ({"course": 0}, "no_items"),  # removing every item is refused: that is a cancellation
        ({"course": 0, "extra": 1}, {"extra": 1}),
        ({"extra": 2}, {"course": 1, "extra": 2}),
        ({"stranger": 1}, "product_not_allowed"),  # customers only add the course's products
    ],
)
def test_change_items(quantities, outcome):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    products = {"course": sub.items.get().product, "extra": ProductFactory(), "stranger": ProductFactory()}
    sub.course.items.create(product=products["extra"], quantity=1)
    ids = {products[k].pk: v for k, v in quantities.items()}
    with on(TODAY):
        if isinstance(outcome, str):
            with pytest.raises(DomainError) as exc:
                subscription_change_items(subscription_id=sub.pk, quantities=ids, actor=customer_actor(sub))
            assert exc.value.code == outcome
            assert [(i.product, i.quantity) for i in sub.items.all()] == [(products["course"], 1)]
        else:
            subscription_change_items(subscription_id=sub.pk, quantities=ids, actor=customer_actor(sub))
            assert {i.product_id: i.quantity for i in sub.items.all()} == {
                products[k].pk: v for k, v in outcome.items()
            }
            [event] = events(sub)
            assert event.before == {"items": {str(products["course"].pk): 1}}


def test_admin_may_add_any_active_product():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    shaker = ProductFactory(name="シェイカー")
    with on(TODAY):
        subscription_change_items(subscription_id=sub.pk, quantities={shaker.pk: 1}, actor=admin_actor())
    assert sub.items.count() == 2


@pytest.mark.parametrize(
    ("mode", "amount", "outcome"),
    [
        ("none", 0, ("none", 0)),
        ("all", 500, ("all", 0)),  # amount only matters for a fixed reservation
        ("amount", 300, ("amount", 300)),
        ("amount", 0, "invalid_points_amount"),
        ("some", 0, "invalid_points_mode"),
    ],
)
def test_points_reservation(mode, amount, outcome):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(TODAY):
        if isinstance(outcome, str):
            with pytest.raises(DomainError) as exc:
                subscription_set_points_reservation(
                    subscription_id=sub.pk, mode=mode, amount=amount, actor=customer_actor(sub)
                )
            assert exc.value.code == outcome
        else:
            subscription_set_points_reservation(
                subscription_id=sub.pk, mode=mode, amount=amount, actor=customer_actor(sub)
            )
            sub.refresh_from_db()
            assert (sub.points_reservation, sub.points_reservation_amount) == outcome


def test_time_slot_must_be_a_known_slot_and_coupon_can_be_removed():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    coupon = Coupon.objects.create(code="C1", name="c", value=100)
    with on(TODAY):
        with pytest.raises(DomainError) as exc:
            subscription_change_time_slot(
                subscription_id=sub.pk, time_slot="25-26", actor=customer_actor(sub)
            )
        assert exc.value.code == "invalid_time_slot"
        subscription_set_coupon(subscription_id=sub.pk, coupon_id=coupon.pk, actor=customer_actor(sub))
        subscription_set_coupon(subscription_id=sub.pk, coupon_id=None, actor=customer_actor(sub))
        with pytest.raises(DomainError) as exc:
            subscription_set_coupon(subscription_id=sub.pk, coupon_id=999999, actor=customer_actor(sub))
        assert exc.value.code == "coupon_not_found"
    sub.refresh_from_db()
    assert sub.coupon is None
    assert [(e.before, e.after) for e in events(sub)] == [
        ({"coupon_id": None}, {"coupon_id": coupon.pk}),
        ({"coupon_id": coupon.pk}, {"coupon_id": None}),
    ]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda s, w: subscription_skip_next(subscription_id=s.pk, actor=w), "invalid_status"),
        (lambda s, w: subscription_unskip(subscription_id=s.pk, sequence=1, actor=w), "invalid_status"),
        (
            lambda s, w: subscription_change_next_date(
                subscription_id=s.pk, new_date=d("2027-02-10"), actor=w
            ),
            "invalid_status",
        ),
        (
            lambda s, w: subscription_change_time_slot(subscription_id=s.pk, time_slot="", actor=w),
            "invalid_status",
        ),
    ],
)
def test_a_cancelled_subscription_cannot_be_changed(call, code):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"), status="cancelled")
    with on(TODAY), pytest.raises(DomainError) as exc:
        call(sub, admin_actor())
    assert (exc.value.code, exc.value.status) == (code, 409)
    assert SubscriptionEvent.objects.filter(subscription=sub).count() == 0


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
