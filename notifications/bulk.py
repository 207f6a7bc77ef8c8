"""Notifications written in bulk: the nightly charge stage's mails, as outbox rows by reference.

notifications_bulk_queue writes one row per mail with an empty subject and body and a reference
(notifications.rendering) in the caller's transaction, once per key (a key already in the log is
left out, as notification_send leaves it), and records `notifications.deliver_mails` tasks of
DELIVERY_CHUNK rows each in the task outbox, dispatched after commit. The stage thus writes a mail
at the database's pace; the workers render and send them (eager Celery: right after commit, in
process). A task lost with the broker leaves its rows pending for the sweeper.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core.copy import NULL, copy_field, copy_text

from . import tasks as _tasks  # noqa: F401 - registers the task the outbox rows below name
from .models import Notification, NotificationStatus
from .outbox import outbox_dispatch, outbox_enqueue_many

DELIVERY_CHUNK = 500
DELIVER_TASK = "notifications.deliver_mails"


@dataclass(frozen=True, slots=True)
class QueuedMail:
    key: str
    kind: str
    customer_id: int | None
    to_email: str
    ref: str
    render: dict[str, Any]
    attachments: tuple[dict[str, Any], ...] = ()


def notifications_bulk_queue(*, mails: list[QueuedMail]) -> list[int]:
    """Write the mails (in the order given) and queue their delivery after commit; the new row ids."""
    if not mails:
        return []
    ids = _insert_postgresql(mails) if connection.vendor == "postgresql" else _insert_orm(mails)
    if ids:
        chunks = [ids[i : i + DELIVERY_CHUNK] for i in range(0, len(ids), DELIVERY_CHUNK)]
        keys = outbox_enqueue_many(
            rows=[(f"{DELIVER_TASK}:{chunk[0]}:{len(chunk)}", DELIVER_TASK, [chunk]) for chunk in chunks]
        )
        held = _held.get()
        if held is not None:
            held.extend(keys)  # the caller publishes them (a rolled-back key is simply not found)
        else:
            transaction.on_commit(lambda: outbox_dispatch(keys=keys, limit=len(keys)), robust=True)
    return ids


_held: ContextVar[list[str] | None] = ContextVar("notifications_deliveries_held", default=None)


@contextmanager
def notifications_deliveries_held() -> Iterator[list[str]]:
    """Within: the delivery tasks of the mails queued in bulk are recorded but not published; the
    list it yields holds their outbox keys for notifications_deliveries_publish. The charge stage
    settles first and publishes the mails behind the card charges, so the gateway calls, the long
    pole of the night, start first. A process that dies before publishing leaves them pending in the
    task outbox for the sweeper."""
    keys: list[str] = []
    token = _held.set(keys)
    try:
        yield keys
    finally:
        _held.reset(token)


def notifications_deliveries_publish(*, keys: list[str]) -> None:
    """Publish held deliveries once the WAL holding their rows is on disk: the rows may have been
    committed asynchronously, and a mail must never go out for a commit a crash could still lose.
    A synchronous commit that writes (here: one that takes a transaction id) flushes all WAL before it."""
    if not keys:
        return
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO ON; SELECT txid_current()")
    outbox_dispatch(keys=keys, limit=len(keys))


def _insert_postgresql(mails: list[QueuedMail]) -> list[int]:
    # COPY into a session table, then one INSERT … ON CONFLICT that leaves a key already sent (or
    # queued) alone: binding seven arrays of parameters cost more Python than the rows themselves.
    # The caller holds the rows these keys are about, so no one else writes the same keys meanwhile.
    text = "".join(
        f"{n}\t{copy_field(m.key)}\t{copy_field(m.kind)}\t{NULL if m.customer_id is None else m.customer_id}"
        f"\t{copy_field(m.to_email)}\t{copy_field(m.ref)}\t{copy_field(json.dumps(m.render))}"
        f"\t{copy_field(json.dumps(list(m.attachments)))}\n"
        for n, m in enumerate(mails)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS notification_in (n int, key varchar(200), kind varchar(50), "
            "customer_id bigint, to_email varchar(254), ref varchar(50), render jsonb, attachments jsonb) "
            "ON COMMIT DELETE ROWS"
        )
    copy_text("notification_in", _COPY_COLUMNS, text)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH taken AS (DELETE FROM notification_in RETURNING *) "
            "INSERT INTO notifications_notification (key, kind, customer_id, to_email, ref, render, "
            "attachments, subject, body, status, error, created_at, retries) "
            "SELECT key, kind, customer_id, to_email, ref, render, attachments, '', '', %s, '', %s, 0 "
            "FROM taken ORDER BY n ON CONFLICT (key) DO NOTHING RETURNING id",
            [NotificationStatus.PENDING, timezone.now()],
        )
        return sorted(row[0] for row in cursor.fetchall())


_COPY_COLUMNS = ("n", "key", "kind", "customer_id", "to_email", "ref", "render", "attachments")


def _insert_orm(mails: list[QueuedMail]) -> list[int]:
    existing = set(Notification.objects.filter(key__in=[m.key for m in mails]).values_list("key", flat=True))
    fresh: dict[str, Notification] = {}
    for m in mails:
        if m.key not in existing and m.key not in fresh:
            fresh[m.key] = Notification(
                key=m.key,
                kind=m.kind,
                customer_id=m.customer_id,
                to_email=m.to_email,
                ref=m.ref,
                render=m.render,
                attachments=list(m.attachments),
            )
    created = Notification.objects.bulk_create(list(fresh.values()), batch_size=1000)
    return [n.pk for n in created]
