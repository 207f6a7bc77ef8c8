"""subscriptions.bulk: subscriptions created in bulk and updated from another system's copy."""

from datetime import date

import pytest

from subscriptions.actors import Actor
from subscriptions.bulk import NewSubscription, subscription_update_from_source, subscriptions_bulk_create
from subscriptions.models import Subscription, SubscriptionEvent
from tests.factories import CustomerFactory, ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_bulk_created_subscriptions_have_their_items_and_one_event_each():
    customer = CustomerFactory()
    base = SubscriptionFactory(customer=customer)
    soap, towel = ProductFactory(), ProductFactory()
    fields = {
        "course_id": base.course_id,
        "status": "active",
        "anchor_date": date(2027, 1, 31),
        "next_sequence": 1,
        "next_delivery_date": date(2027, 1, 31),
        "next_creation_date": date(2027, 1, 24),
        "source": "import:ecforce",
    }
    ids = subscriptions_bulk_create(
        subscriptions=[
            NewSubscription(customer.pk, fields, [(soap.pk, 2)], "imported", {"row": 2}),
            NewSubscription(
                customer.pk, fields, [(soap.pk, 1), (towel.pk, 3)], "imported", {"row": 3}, "no card"
            ),
        ],
        actor=Actor.system(),
    )
    first, second = (Subscription.objects.get(pk=pk) for pk in ids)
    assert sorted(first.items.values_list("product_id", "quantity")) == [(soap.pk, 2)]
    assert sorted(second.items.values_list("product_id", "quantity")) == sorted([(soap.pk, 1), (towel.pk, 3)])
    assert (second.source, second.next_delivery_date) == ("import:ecforce", date(2027, 1, 31))
    events = list(SubscriptionEvent.objects.filter(subscription_id__in=ids).order_by("subscription_id"))
    assert [(e.kind, e.after, e.note) for e in events] == [
        ("imported", {"row": 2}, ""),
        ("imported", {"row": 3}, "no card"),
    ]


def test_update_from_source_changes_only_what_differs_and_says_so():
    subscription = SubscriptionFactory(delivery_time_slot="", remarks="")
    product = ProductFactory()
    items = sorted(subscription.items.values_list("product_id", "quantity"))
    subscription_update_from_source(
        subscription_id=subscription.pk,
        fields={"delivery_time_slot": "14-16", "remarks": ""},
        items=[*items, (product.pk, 1)],
        actor=Actor.system(),
        event_kind="import_updated",
        event_after={"row": 7},
    )
    subscription.refresh_from_db()
    assert subscription.delivery_time_slot == "14-16"
    event = SubscriptionEvent.objects.filter(subscription=subscription, kind="import_updated").get()
    assert event.before == {"delivery_time_slot": "", "items": [list(i) for i in items]}
    assert event.after["delivery_time_slot"] == "14-16" and event.after["row"] == 7
    assert [product.pk, 1] in event.after["items"]


def test_update_with_nothing_changed_still_records_the_read():
    subscription = SubscriptionFactory()
    items = list(subscription.items.values_list("product_id", "quantity"))
    subscription_update_from_source(
        subscription_id=subscription.pk,
        fields={"remarks": subscription.remarks},
        items=items,
        actor=Actor.system(),
        event_kind="import_updated",
        event_after={"row": 9},
    )
    event = SubscriptionEvent.objects.filter(subscription=subscription, kind="import_updated").get()
    assert (event.before, event.after) == ({}, {"row": 9})
