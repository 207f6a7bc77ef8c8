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
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

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


_COLUMNS = ("key", "kind", "customer_id", "to_email", "ref", "render", "attachments")


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
        transaction.on_commit(lambda: outbox_dispatch(keys=keys, limit=len(keys)), robust=True)
    return ids


def _insert_postgresql(mails: list[QueuedMail]) -> list[int]:
    # One statement for the batch; ON CONFLICT leaves a key already sent (or queued) alone. The
    # caller holds the rows these keys are about, so no one else writes the same keys meanwhile.
    columns = {name: [getattr(m, name) for m in mails] for name in _COLUMNS}
    for name in ("render", "attachments"):
        columns[name] = [json.dumps(value, ensure_ascii=False) for value in columns[name]]
    status_and_time = [NotificationStatus.PENDING, timezone.now()]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_notification (key, kind, customer_id, to_email, ref, render, "
            "attachments, subject, body, status, error, created_at, retries) "
            "SELECT k, kd, c, e, r, rd::jsonb, a::jsonb, '', '', %s, '', %s, 0 "
            "FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::varchar[], %s::varchar[], "
            "%s::text[], %s::text[]) WITH ORDINALITY AS m(k, kd, c, e, r, rd, a, n) ORDER BY n "
            "ON CONFLICT (key) DO NOTHING RETURNING id",
            [*status_and_time, *columns.values()],
        )
        return sorted(row[0] for row in cursor.fetchall())


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
