"""Two writers on one subscription serialise on its row lock instead of losing an update."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from subscriptions.actors import Actor
from subscriptions.models import SubscriptionEvent
from subscriptions.services import subscription_skip_next
from tests.factories import SubscriptionFactory

from .services_helpers import d, on


@pytest.mark.django_db(transaction=True)
def test_a_second_skip_waits_for_the_first_and_builds_on_it():
    # given a subscription whose next delivery is sequence 1
    sub = SubscriptionFactory(anchor_date=d("2027-01-31"))
    finished = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with on(d("2027-01-05")):
                subscription_skip_next(subscription_id=sub.pk, actor=Actor.system())
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
        finally:
            finished.set()
            connection.close()

    with on(d("2027-01-05")):
        # when one writer holds the row (its transaction still open) and another starts
        with transaction.atomic():
            subscription_skip_next(subscription_id=sub.pk, actor=Actor.system())
            thread = threading.Thread(target=second_writer)
            thread.start()
            # then the second one waits for the lock
            assert not finished.wait(timeout=0.5)
        thread.join(timeout=10)
    # and, once the first commits, skips the sequence after the first one's: no lost update
    assert not errors
    assert finished.is_set()
    sub.refresh_from_db()
    assert sub.skipped_sequences == [1, 2]
    assert (sub.next_sequence, sub.next_delivery_date) == (3, d("2027-03-31"))
    assert SubscriptionEvent.objects.filter(subscription=sub, kind="skipped").count() == 2
