"""Helpers shared by the subscription service tests."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import time_machine
from django.contrib.auth import get_user_model

from subscriptions.actors import Actor
from subscriptions.models import ShopPolicy, Subscription, SubscriptionEvent

TOKYO = ZoneInfo("Asia/Tokyo")


@contextmanager
def on(day: dt.date, hour: int = 10):
    """Travel to `day` at `hour` o'clock in Tokyo (the shop's today)."""
    with time_machine.travel(dt.datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO), tick=False):
        yield


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def admin_actor() -> Actor:
    user, _ = get_user_model().objects.get_or_create(
        username="staff@example.com", defaults={"email": "staff@example.com", "is_staff": True}
    )
    return Actor.admin(user)


def customer_actor(subscription: Subscription) -> Actor:
    return Actor.customer(subscription.customer.user)


def actor_for(kind: str, subscription: Subscription) -> Actor:
    return {"customer": customer_actor, "admin": lambda s: admin_actor(), "system": lambda s: Actor.system()}[
        kind
    ](subscription)


def events(subscription: Subscription) -> list[SubscriptionEvent]:
    return list(SubscriptionEvent.objects.filter(subscription=subscription).order_by("id"))


def creation(day: dt.date) -> dt.date:
    policy = ShopPolicy.current()
    return policy.business_calendar().creation_date(day, policy.lead_days)
