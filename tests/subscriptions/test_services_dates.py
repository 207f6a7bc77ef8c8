"""Services that move a schedule: create, skip, unskip, change next date, change cycle."""

from __future__ import annotations

import pytest

from catalog.models import CourseCycle
from core.errors import DomainError
from subscriptions.cycles import LAST, Cycle
from subscriptions.models import CycleChangeMode, ShopPolicy
from subscriptions.selectors import upcoming_deliveries
from subscriptions.services import (
    subscription_change_cycle,
    subscription_change_next_date,
    subscription_create,
    subscription_skip_next,
    subscription_unskip,
)
from tests.factories import (
    AddressFactory,
    CourseFactory,
    CustomerFactory,
    ProductFactory,
    SubscriptionFactory,
)

from .services_helpers import admin_actor, creation, customer_actor, d, events, on

pytestmark = pytest.mark.django_db

MONTHLY = Cycle("month", 1)


def dates(subscription, count=4):
    return [
        (r.sequence, r.delivery_date.isoformat(), r.skipped) for r in upcoming_deliveries(subscription, count)
    ]


# --- create -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cycle", "first", "expected"),
    [
        (MONTHLY, "2028-01-31", ["2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30"]),  # leap year
        (MONTHLY, "2027-01-31", ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]),
        (Cycle("month", 2), "2027-12-31", ["2027-12-31", "2028-02-29", "2028-04-30", "2028-06-30"]),
        (
            Cycle("month", 1, day_of_month=LAST),
            "2027-02-10",
            ["2027-02-10", "2027-03-31", "2027-04-30", "2027-05-31"],
        ),
    ],
)
def test_create_anchors_the_first_delivery_and_follows_month_ends(cycle, first, expected):
    # given a course that allows monthly (any day), every 2 months and month-end
    course = CourseFactory()
    CourseCycle.objects.create(course=course, unit="month", interval=1, day_of_month=LAST)
    customer = CustomerFactory()
    address = AddressFactory(customer=customer)
    # when the customer signs up
    with on(d("2027-01-05")):
        sub = subscription_create(
            customer=customer,
            course=course,
            cycle=cycle,
            first_delivery_date=d(first),
            address=address,
            time_slot="14-16",
            actor=customer_actor_for(customer),
            source="lp-a",
            utm={"source": "google", "campaign": "spring"},
        )
    # then the schedule is anchored on the first delivery
    sub.refresh_from_db()
    assert (sub.anchor_date, sub.anchor_sequence, sub.next_sequence) == (d(first), 1, 1)
    assert sub.next_delivery_date == d(first)
    assert sub.next_creation_date == creation(d(first))
    assert [row[1] for row in dates(sub)] == expected
    assert [(i.product_id, i.quantity) for i in sub.items.all()] == [
        (ci.product_id, ci.quantity) for ci in course.items.all()
    ]
    assert (sub.source, sub.utm_source, sub.utm_campaign, sub.delivery_time_slot) == (
        "lp-a",
        "google",
        "spring",
        "14-16",
    )
    [event] = events(sub)
    assert (event.kind, event.actor_kind, event.before) == ("created", "customer", {})
    assert event.after["next_delivery_date"] == first


def customer_actor_for(customer):
    from subscriptions.actors import Actor

    return Actor.customer(customer.user)


@pytest.mark.parametrize(
    ("cycle", "error"),
    [
        (Cycle("week", 2), "cycle_not_allowed"),
        (Cycle("month", 3), "cycle_not_allowed"),
        (Cycle("month", 1, nth_week=2, weekday=1), "cycle_not_allowed"),
    ],
)
def test_create_refuses_a_cycle_the_course_does_not_offer(cycle, error):
    course = CourseFactory()
    with on(d("2027-01-05")), pytest.raises(DomainError) as exc:
        subscription_create(
            customer=CustomerFactory(),
            course=course,
            cycle=cycle,
            first_delivery_date=d("2027-01-31"),
            actor=admin_actor(),
        )
    assert exc.value.code == error


def test_create_with_explicit_items_and_a_fixed_day_course_cycle():
    course = CourseFactory()
    course.cycles.all().delete()  # only 毎月15日 is offered
    CourseCycle.objects.create(course=course, unit="month", interval=1, day_of_month=15)
    shaker = ProductFactory(name="シェイカー", tax_rate=10)
    with on(d("2027-01-05")):
        sub = subscription_create(
            customer=CustomerFactory(),
            course=course,
            cycle=Cycle("month", 1, day_of_month=15),
            first_delivery_date=d("2027-01-20"),
            items=[(shaker, 2)],
            actor=admin_actor(),
        )
        # a fixed day the course does not offer is refused
        with pytest.raises(DomainError) as exc:
            subscription_create(
                customer=sub.customer,
                course=course,
                cycle=Cycle("month", 1, day_of_month=20),
                first_delivery_date=d("2027-01-20"),
                actor=admin_actor(),
            )
    assert exc.value.code == "cycle_not_allowed"
    assert [(i.product, i.quantity) for i in sub.items.all()] == [(shaker, 2)]
    assert dates(sub, 3) == [(1, "2027-01-20", False), (2, "2027-02-15", False), (3, "2027-03-15", False)]


def test_create_refuses_another_customers_address_and_an_unreachable_first_date_for_customers():
    course = CourseFactory()
    customer = CustomerFactory()
    with on(d("2027-01-28")):
        with pytest.raises(DomainError) as exc:
            subscription_create(
                customer=customer,
                course=course,
                cycle=MONTHLY,
                first_delivery_date=d("2027-02-28"),
                address=AddressFactory(),
                actor=customer_actor_for(customer),
            )
        assert exc.value.code == "address_not_found"
        with pytest.raises(DomainError) as exc:
            subscription_create(
                customer=customer,
                course=course,
                cycle=MONTHLY,
                first_delivery_date=d("2027-01-31"),  # created 1/25: already past
                actor=customer_actor_for(customer),
            )
        assert exc.value.code == "date_unreachable"


# --- skip and unskip ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "skips", "expected_next", "expected_rows"),
    [
        # one skip: later dates do not move
        ("2027-01-31", 1, (2, "2027-02-28"), [(2, "2027-02-28", False), (3, "2027-03-31", False)]),
        # several in a row
        ("2027-01-31", 2, (3, "2027-03-31"), [(3, "2027-03-31", False), (4, "2027-04-30", False)]),
        ("2027-01-31", 3, (4, "2027-04-30"), [(4, "2027-04-30", False), (5, "2027-05-31", False)]),
        # leap year: 31 -> 29 Feb -> 31 Mar
        ("2028-01-31", 1, (2, "2028-02-29"), [(2, "2028-02-29", False), (3, "2028-03-31", False)]),
    ],
)
def test_skip_next_marks_the_next_sequence_and_moves_nothing_else(
    anchor, skips, expected_next, expected_rows
):
    sub = SubscriptionFactory(anchor_date=d(anchor))
    with on(d(anchor) - (d("2027-01-31") - d("2027-01-05"))):
        for _ in range(skips):
            subscription_skip_next(subscription_id=sub.pk, actor=customer_actor(sub))
    sub.refresh_from_db()
    assert (sub.next_sequence, sub.next_delivery_date.isoformat()) == expected_next
    assert sub.skipped_sequences == list(range(1, skips + 1))
    assert sub.next_creation_date == creation(sub.next_delivery_date)
    assert dates(sub, 2) == expected_rows
    assert [e.kind for e in events(sub)] == ["skipped"] * skips


def test_skip_then_change_date_keeps_the_old_skip_and_re_anchors_at_the_next_sequence():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        subscription_skip_next(subscription_id=sub.pk, actor=customer_actor(sub))  # skips 1/31
        subscription_change_next_date(
            subscription_id=sub.pk, new_date=d("2027-03-10"), actor=customer_actor(sub)
        )
    sub.refresh_from_db()
    assert (sub.anchor_date, sub.anchor_sequence, sub.skipped_sequences) == (d("2027-03-10"), 2, [1])
    assert dates(sub, 3) == [(2, "2027-03-10", False), (3, "2027-04-10", False), (4, "2027-05-10", False)]


def test_change_date_then_skip_skips_the_new_date():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        subscription_change_next_date(subscription_id=sub.pk, new_date=d("2027-02-05"), actor=admin_actor())
        subscription_skip_next(subscription_id=sub.pk, actor=admin_actor())
    sub.refresh_from_db()
    assert (sub.next_sequence, sub.next_delivery_date) == (2, d("2027-03-05"))
    assert sub.skipped_sequences == [1]


def test_change_date_drops_skips_that_named_dates_of_the_old_schedule():
    # given 1 and 2 skipped, then 1 unskipped again: sequence 2 (2/28) is still skipped ahead
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        subscription_skip_next(subscription_id=sub.pk, actor=admin_actor())
        subscription_skip_next(subscription_id=sub.pk, actor=admin_actor())
        subscription_unskip(subscription_id=sub.pk, sequence=1, actor=admin_actor())
        sub.refresh_from_db()
        assert (sub.next_sequence, sub.skipped_sequences) == (1, [2])
        # when the next delivery moves to 2/10
        subscription_change_next_date(subscription_id=sub.pk, new_date=d("2027-02-10"), actor=admin_actor())
    # then sequence 2 is the new 3/10 and no longer skipped
    sub.refresh_from_db()
    assert sub.skipped_sequences == []
    assert dates(sub, 3) == [(1, "2027-02-10", False), (2, "2027-03-10", False), (3, "2027-04-10", False)]


@pytest.mark.parametrize(
    ("today", "actor", "outcome"),
    [
        # sequence 1 (1/31) is created on 1/25; the customer deadline is 2 days before: 1/23
        ("2027-01-22", "customer", "ok"),
        ("2027-01-23", "customer", "ok"),
        ("2027-01-24", "customer", "deadline_passed"),
        ("2027-01-24", "admin", "ok"),
        ("2027-01-25", "admin", "ok"),  # on its creation date the order can still be made
        ("2027-01-26", "admin", "too_late"),
    ],
)
def test_unskip_is_allowed_until_the_skipped_deliverys_creation_date(today, actor, outcome):
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    assert sub.next_creation_date == d("2027-01-25")
    with on(d("2027-01-05")):
        subscription_skip_next(subscription_id=sub.pk, actor=admin_actor())
    who = customer_actor(sub) if actor == "customer" else admin_actor()
    with on(d(today)):
        if outcome == "ok":
            subscription_unskip(subscription_id=sub.pk, sequence=1, actor=who)
            sub.refresh_from_db()
            assert (sub.next_sequence, sub.next_delivery_date, sub.skipped_sequences) == (
                1,
                d("2027-01-31"),
                [],
            )
        else:
            with pytest.raises(DomainError) as exc:
                subscription_unskip(subscription_id=sub.pk, sequence=1, actor=who)
            assert exc.value.code == outcome
            sub.refresh_from_db()
            assert sub.skipped_sequences == [1]


def test_unskip_refuses_a_sequence_that_is_not_skipped_or_before_the_last_delivery():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        with pytest.raises(DomainError) as exc:
            subscription_unskip(subscription_id=sub.pk, sequence=1, actor=admin_actor())
        assert exc.value.code == "not_skipped"
        subscription_skip_next(subscription_id=sub.pk, actor=admin_actor())
    # the order for 2/28 (sequence 2) has been created and delivered since
    sub.refresh_from_db()
    sub.next_sequence, sub.last_delivery_date = 3, d("2027-02-28")
    sub.save()
    with on(d("2027-01-06")), pytest.raises(DomainError) as exc:
        subscription_unskip(subscription_id=sub.pk, sequence=1, actor=admin_actor())
    assert exc.value.code == "too_late"


# --- change next date ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "new_date", "actor", "outcome"),
    [
        ("2027-01-05", "2027-02-10", "customer", "ok"),
        ("2027-01-05", "2027-01-08", "admin", "date_unreachable"),  # its order should have been created 12/31
        ("2027-01-05", "2027-01-13", "admin", "ok"),  # created today (1/5; 1/11 is 成人の日): still met
        ("2027-01-05", "2027-01-12", "admin", "date_unreachable"),  # would be created 1/4
        ("2027-01-05", "2027-01-13", "customer", "date_unreachable"),  # its deadline has passed
        ("2027-01-05", "2027-04-01", "customer", "ok"),  # exactly 60 days after 1/31
        ("2027-01-05", "2027-04-02", "customer", "date_too_far"),
        ("2027-01-05", "2027-04-02", "admin", "ok"),
        ("2027-01-23", "2027-02-10", "customer", "ok"),  # on the deadline
        ("2027-01-24", "2027-02-10", "customer", "deadline_passed"),
        ("2027-01-24", "2027-02-10", "admin", "ok"),
        ("2028-01-05", "2028-02-29", "customer", "ok"),  # leap day
    ],
)
def test_change_next_date_rules(today, new_date, actor, outcome):
    anchor = "2028-01-31" if today.startswith("2028") else "2027-01-31"
    sub = SubscriptionFactory(anchor_date=d(anchor))
    who = customer_actor(sub) if actor == "customer" else admin_actor()
    with on(d(today)):
        if outcome == "ok":
            subscription_change_next_date(subscription_id=sub.pk, new_date=d(new_date), actor=who)
            sub.refresh_from_db()
            assert (sub.anchor_date, sub.anchor_sequence, sub.next_delivery_date) == (
                d(new_date),
                1,
                d(new_date),
            )
            assert sub.next_creation_date == creation(d(new_date))
            [event] = events(sub)
            assert event.before["next_delivery_date"] == anchor
            assert event.after["next_delivery_date"] == new_date
        else:
            with pytest.raises(DomainError) as exc:
                subscription_change_next_date(subscription_id=sub.pk, new_date=d(new_date), actor=who)
            assert exc.value.code == outcome
            assert events(sub) == []


def test_change_next_date_to_the_29th_then_follows_the_29th():
    sub = SubscriptionFactory(anchor_date=d("2028-01-31"))
    with on(d("2028-01-05")):
        subscription_change_next_date(subscription_id=sub.pk, new_date=d("2028-02-29"), actor=admin_actor())
    sub.refresh_from_db()
    assert [r[1] for r in dates(sub, 3)] == ["2028-02-29", "2028-03-29", "2028-04-29"]


def test_customer_deadline_message_names_the_delivery_and_the_deadline():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-24")), pytest.raises(DomainError) as exc:
        subscription_skip_next(subscription_id=sub.pk, actor=customer_actor(sub))
    assert exc.value.code == "deadline_passed"
    assert "1月31日" in exc.value.message and "1月23日" in exc.value.message


# --- change cycle -------------------------------------------------------------------------------


def test_change_cycle_keep_next_date_re_anchors_at_the_next_delivery():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        subscription_skip_next(subscription_id=sub.pk, actor=admin_actor())  # next: 2 on 2/28
        subscription_change_cycle(subscription_id=sub.pk, cycle=Cycle("month", 2), actor=customer_actor(sub))
    sub.refresh_from_db()
    assert (sub.cycle_unit, sub.cycle_interval) == ("month", 2)
    assert (sub.anchor_date, sub.anchor_sequence) == (d("2027-02-28"), 2)
    # the 31st survives the re-anchor on a clamped Feb 28: Apr 30, not Apr 28
    assert sub.cycle_day_of_month == 31
    assert dates(sub, 3) == [(2, "2027-02-28", False), (3, "2027-04-30", False), (4, "2027-06-30", False)]
    event = events(sub)[-1]
    assert (event.kind, event.before["cycle_interval"], event.after["cycle_interval"]) == (
        "cycle_changed",
        1,
        2,
    )
    assert event.after["date_moved"] is False


def delivered_once(anchor="2027-01-10"):
    """A monthly subscription whose first delivery (anchor) has been ordered; next is sequence 2."""
    sub = SubscriptionFactory(anchor_date=d(anchor))
    sub.next_sequence, sub.last_delivery_date, sub.orders_created, sub.cycle_count = 2, d(anchor), 1, 1
    sub.save()
    return sub


@pytest.mark.parametrize(
    ("today", "cycle", "expected_next", "moved"),
    [
        # next was 2/10; every 2 months from the last delivery (1/10) gives 3/10
        ("2027-01-12", Cycle("month", 2), (2, "2027-03-10"), False),
        # every 2 weeks from 1/10 gives 1/24, whose order (1/18) is still ahead on 1/12
        ("2027-01-12", Cycle("week", 2), (2, "2027-01-24"), False),
        # on 2/1 weekly from 1/10 (1/17, 1/24, 1/31) cannot be met: the first that can is 2/7
        ("2027-02-01", Cycle("week", 1), (5, "2027-02-07"), True),
    ],
)
def test_change_cycle_from_last_delivery(policy, today, cycle, expected_next, moved):
    policy.cycle_change_mode = CycleChangeMode.FROM_LAST_DELIVERY
    policy.save()
    sub = delivered_once()
    with on(d(today)):
        subscription_change_cycle(subscription_id=sub.pk, cycle=cycle, actor=admin_actor())
    sub.refresh_from_db()
    assert (sub.next_sequence, sub.next_delivery_date.isoformat()) == expected_next
    assert sub.next_creation_date >= d(today)
    assert (sub.anchor_date, sub.anchor_sequence) == (d("2027-01-10"), 1)
    assert events(sub)[-1].after["date_moved"] is moved


def test_change_cycle_from_last_delivery_without_a_delivery_keeps_the_next_date(policy):
    policy.cycle_change_mode = CycleChangeMode.FROM_LAST_DELIVERY
    policy.save()
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        subscription_change_cycle(subscription_id=sub.pk, cycle=Cycle("month", 2), actor=admin_actor())
    sub.refresh_from_db()
    assert [r[1] for r in dates(sub, 2)] == ["2027-01-31", "2027-03-31"]


@pytest.mark.parametrize(
    ("anchor", "cycle", "expected"),
    [
        # a day the new anchor already has: nothing to carry
        ("2027-01-15", Cycle("month", 2), (None, ["2027-02-15", "2027-04-15"])),
        # an explicit day in the new cycle wins over the old one
        ("2027-01-31", Cycle("month", 1, day_of_month=10), (10, ["2027-02-28", "2027-03-10"])),
        # from a month schedule to a weekly one there is no day of month to keep
        ("2027-01-31", Cycle("week", 2), (None, ["2027-02-28", "2027-03-14"])),
    ],
)
def test_change_cycle_keep_next_date_carries_the_day_only_when_it_must(anchor, cycle, expected):
    sub = SubscriptionFactory(anchor_date=d(anchor))
    with on(d("2027-01-05")):
        subscription_skip_next(subscription_id=sub.pk, actor=admin_actor())
        subscription_change_cycle(subscription_id=sub.pk, cycle=cycle, actor=admin_actor())
    sub.refresh_from_db()
    assert (sub.cycle_day_of_month, [r[1] for r in dates(sub, 2)]) == expected


def test_customers_may_only_choose_the_courses_cycles_admins_any():
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    with on(d("2027-01-05")):
        with pytest.raises(DomainError) as exc:
            subscription_change_cycle(
                subscription_id=sub.pk, cycle=Cycle("week", 2), actor=customer_actor(sub)
            )
        assert exc.value.code == "cycle_not_allowed"
        subscription_change_cycle(subscription_id=sub.pk, cycle=Cycle("week", 2), actor=admin_actor())
    sub.refresh_from_db()
    assert [r[1] for r in dates(sub, 2)] == ["2027-01-31", "2027-02-14"]


def test_shop_policy_calendar_drives_creation_dates(policy):
    # a special closure on 1/25 pushes the creation of 1/31 back to 1/22
    policy.special_days.create(date=d("2027-01-25"), note="棚卸し")
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    assert sub.next_creation_date == d("2027-01-22")
    assert ShopPolicy.current().business_calendar().is_open(d("2027-01-25")) is False
