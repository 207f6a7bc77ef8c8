"""Backups: a dump taken mid-day and restored after a lost night, then the night run again, leaves one
order per delivery: nothing duplicated, nothing missed (README, "Backup and restore")."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection, connections
from django.db.models import Count

from orders.models import Order
from scheduler.generation import generate_due
from subscriptions.models import Subscription
from tests.factories import SubscriptionFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _pg_args() -> list[str]:
    db = connection.settings_dict
    return ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]


def _orders_by_delivery() -> dict[tuple[int, int], int]:
    rows = Order.objects.values_list("subscription_id", "sequence").annotate(n=Count("id"))
    return {(sub, seq): n for sub, seq, n in rows}


def test_restoring_a_midday_dump_after_a_lost_night_neither_duplicates_nor_misses(
    policy, tmp_path: Path
) -> None:  # noqa: ANN001
    # given 12 weekly subscriptions and their first night
    subs = SubscriptionFactory.create_batch(12, cycle_unit="week", anchor_date=dt.date(2027, 1, 29))
    first_night = min(Subscription.objects.values_list("next_creation_date", flat=True))
    assert generate_due(run_date=first_night).orders_created == 12
    second_night = min(Subscription.objects.values_list("next_creation_date", flat=True))
    assert second_night > first_night

    # and a dump taken the next day, at noon
    dump = tmp_path / "shop.dump"
    name = connection.settings_dict["NAME"]
    subprocess.run(["pg_dump", *_pg_args(), "-Fc", "-f", str(dump), name], check=True, env=os.environ)

    # when the second night runs, the database is lost and the noon dump is restored
    assert generate_due(run_date=second_night).orders_created == 12
    lost = _orders_by_delivery()
    connections.close_all()
    subprocess.run(
        ["pg_restore", *_pg_args(), "--clean", "--if-exists", "--no-owner", "-d", name, str(dump)],
        check=True,
        env=os.environ,
    )
    assert Order.objects.count() == 12  # the second night is gone with the lost database

    # and the second night runs again (twice: a nervous operator)
    rerun = generate_due(run_date=second_night)
    again = generate_due(run_date=second_night)

    # then every delivery of both nights has exactly one order, as before the loss
    assert rerun.orders_created == 12 and again.orders_created == 0
    assert _orders_by_delivery() == lost == {(s.pk, seq): 1 for s in subs for seq in (1, 2)}
    assert set(Subscription.objects.values_list("next_sequence", flat=True)) == {3}
