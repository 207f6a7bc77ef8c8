"""Set-based writes of imported subscriptions: a batch of customers, addresses, payment methods,
subscriptions, their items and timeline events in one bulk insert per table.

These are the bulk versions of customers.services.customer_create / address_create,
billing.services.payment_methods, and subscriptions.services.subscription_create; they belong in
each owning app's bulk.py and are kept together here, in this one module, until those exist. They
write rows the way those services do (unusable password and an allauth e-mail row for a new
customer, one default address and payment method, a "created" style timeline event), without the
checks the importer has already made for the whole batch.
"""

from __future__ import annotations

import json
from datetime import datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from billing.models import PaymentKind, PaymentMethod
from customers.models import Address, Customer
from customers.services import normalise_postal_code
from subscriptions.actors import Actor
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionItem

from .models import ImportedRecord
from .resolve import Plan, address_key

IMPORTED_EVENT = "imported"


def shop_midnight(day) -> datetime | None:  # noqa: ANN001
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(settings.SHOP_TIMEZONE))


class _Row(SimpleNamespace):
    """A row written by insert_rows, standing in for a model instance where plans need one (pk and a
    few attributes): building 100,000 model instances costs more than writing them."""


def _column_defaults(model) -> list[tuple[str, str, object]]:  # noqa: ANN001
    """(attname, column, default) of every concrete column but the primary key; JSON encoded."""
    columns = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        default = f.get_default() if f.has_default() else (None if f.null else "")
        if isinstance(f, JSONField):
            default = json.dumps(default)
        columns.append((f.attname, f.column, default))
    return columns


def _json_attnames(model) -> frozenset[str]:  # noqa: ANN001
    return frozenset(f.attname for f in model._meta.concrete_fields if isinstance(f, JSONField))


def insert_rows(model, rows: list[dict]) -> list[int]:  # noqa: ANN001
    """Insert `rows` (attname → value; the rest takes the field's default, auto_now fields now) and
    return their new ids in order. PostgreSQL: ids reserved from the sequence, then one COPY.
    Elsewhere (the SQLite demo): one INSERT … RETURNING per row."""
    if not rows:
        return []
    now = timezone.now()
    columns = _column_defaults(model)
    jsons = _json_attnames(model)
    auto_now = {
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    values = []
    for row in rows:
        out = []
        for attname, _column, default in columns:
            if attname in row:
                value = row[attname]
                out.append(json.dumps(value, ensure_ascii=False) if attname in jsons else value)
            else:
                out.append(now if attname in auto_now else default)
        values.append(out)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for _a, c, _d in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, len(values)],
            )
            ids = [r[0] for r in cursor.fetchall()]
            with cursor.cursor.copy(f"COPY {table} (id, {names}) FROM STDIN") as copy:
                for pk, out in zip(ids, values, strict=True):
                    copy.write_row((pk, *out))
            return ids
        marks = ", ".join(["%s"] * len(columns))
        ids = []
        for out in values:
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id", out)
            ids.append(cursor.fetchone()[0])
        return ids


def _new_customers(plans: list[Plan]) -> None:
    """Create the customers no earlier batch or row has; plans of the same e-mail share one."""
    by_email: dict[str, list[Plan]] = {}
    for plan in plans:
        if plan.customer is None:
            by_email.setdefault(plan.record.email.strip().lower(), []).append(plan)
    if not by_email:
        return
    user_ids = insert_rows(
        get_user_model(), [{"username": e, "email": e, "password": "!", "is_active": True} for e in by_email]
    )
    insert_rows(
        EmailAddress,
        [
            {"user_id": u, "email": e, "verified": False, "primary": True}
            for u, e in zip(user_ids, by_email, strict=True)
        ],
    )
    rows = []
    for user_id, group in zip(user_ids, by_email.values(), strict=True):
        first = group[0].record
        rows.append(
            {
                "user_id": user_id,
                "name": first.name,
                "name_kana": first.name_kana,
                "phone": first.phone,
                "group_id": group[0].group.pk if group[0].group else None,
                "is_member": True,
                "is_blacklisted": first.blacklisted,
                "stripe_customer_id": next(
                    (p.record.stripe_customer_id for p in group if p.card and p.card.card), ""
                ),
            }
        )
    for pk, row, group in zip(insert_rows(Customer, rows), rows, by_email.values(), strict=True):
        customer = _Row(
            pk=pk, stripe_customer_id=row["stripe_customer_id"], known_addresses=[], known_methods=[]
        )
        for plan in group:
            plan.customer = customer


def _new_addresses(plans: list[Plan]) -> None:
    created: dict[tuple, dict] = {}
    waiting: list[tuple[Plan, tuple]] = []
    for plan in plans:
        if plan.address is not None:
            continue
        record = plan.record
        key = (plan.customer.pk, *address_key(record))
        if key not in created:
            has_default = any(a.is_default for a in plan.customer.known_addresses)
            created[key] = {
                "customer_id": plan.customer.pk,
                "recipient_name": record.recipient_name or record.name,
                "postal_code": normalise_postal_code(record.postal_code),
                "prefecture": record.prefecture,
                "city": record.city,
                "line1": record.line1,
                "line2": record.line2,
                "phone": record.address_phone,
                "is_remote_island": record.remote_island,
                "is_invalid": record.address_invalid,
                "is_default": not has_default,
            }
            plan.customer.known_addresses.append(_Row(is_default=not has_default))
        waiting.append((plan, key))
    ids = dict(zip(created, insert_rows(Address, list(created.values())), strict=True))
    for plan, key in waiting:
        plan.address = _Row(pk=ids[key], customer_id=plan.customer.pk)


def _new_payment_methods(plans: list[Plan]) -> None:
    created: dict[tuple, dict] = {}
    waiting: list[tuple[Plan, tuple]] = []
    for plan in plans:
        record = plan.record
        if plan.payment_method is not None or not record.payment_kind:
            continue
        card = plan.card.card if plan.card else None
        if record.payment_kind == PaymentKind.CARD and card is None:
            continue  # not verified: no method, the subscription needs attention
        key = (plan.customer.pk, record.payment_kind, card.id if card else "")
        if key not in created:
            has_default = any(m.is_default for m in plan.customer.known_methods)
            created[key] = {
                "customer_id": plan.customer.pk,
                "kind": record.payment_kind,
                "stripe_payment_method_id": card.id if card else "",
                "brand": card.brand[:20] if card else "",
                "last4": card.last4[:4] if card else "",
                "exp_month": card.exp_month if card else None,
                "exp_year": card.exp_year if card else None,
                "is_default": not has_default,
                "is_active": True,
            }
            plan.customer.known_methods.append(_Row(is_default=not has_default))
        waiting.append((plan, key))
    ids = dict(zip(created, insert_rows(PaymentMethod, list(created.values())), strict=True))
    for plan, key in waiting:
        plan.payment_method = _Row(pk=ids[key], customer_id=plan.customer.pk)


def subscription_fields(plan: Plan) -> dict:
    """The Subscription columns (attnames) an import sets, create and update alike."""
    record, schedule = plan.record, plan.schedule
    cycle = schedule.cycle
    return {
        "course_id": plan.course.pk,
        "status": record.status,
        "cycle_unit": cycle.unit,
        "cycle_interval": cycle.interval,
        "cycle_day_of_month": cycle.day_of_month,
        "cycle_nth_week": cycle.nth_week,
        "cycle_weekday": cycle.weekday,
        "anchor_date": schedule.anchor_date,
        "anchor_sequence": schedule.anchor_sequence,
        "skipped_sequences": list(schedule.skipped),
        "next_sequence": schedule.next.sequence,
        "next_delivery_date": schedule.next.delivery_date,
        "next_creation_date": schedule.next.creation_date,
        "delivery_time_slot": record.time_slot,
        "shipping_address_id": plan.address.pk if plan.address else None,
        "payment_method_id": plan.payment_method.pk if plan.payment_method else None,
        "orders_created": record.orders_created
        if record.orders_created is not None
        else record.delivery_count,
        "cycle_count": record.delivery_count,
        "needs_attention": plan.attention,
        "points_reservation": record.points_reservation,
        "points_reservation_amount": record.points_reservation_amount,
        "paused_until": record.paused_until if record.status == "paused" else None,
        "cancelled_at": shop_midnight(record.cancelled_on) if record.status == "cancelled" else None,
        "cancel_reason": record.cancel_reason if record.status == "cancelled" else "",
        "suspended_reason": record.suspended_reason if record.status == "suspended" else "",
        "remarks": record.remarks,
    }


def subscriptions_bulk_import(*, plans: list[Plan], source: str, actor: Actor) -> list[int]:
    """Create the subscriptions of `plans` (all CREATE) with whatever they need, in one transaction.
    Returns the new subscription ids."""
    with transaction.atomic():
        _new_customers(plans)
        _new_addresses(plans)
        _new_payment_methods(plans)
        _set_stripe_customers(plans)
        ids = insert_rows(
            Subscription,
            [
                {"customer_id": plan.customer.pk, "source": f"import:{source}", **subscription_fields(plan)}
                for plan in plans
            ],
        )
        insert_rows(
            SubscriptionItem,
            [
                {"subscription_id": pk, "product_id": product.pk, "quantity": quantity}
                for pk, plan in zip(ids, plans, strict=True)
                for product, quantity in _merged(plan.products)
            ],
        )
        insert_rows(
            SubscriptionEvent,
            [
                {
                    "subscription_id": pk,
                    "actor_kind": actor.kind,
                    "actor_id": actor.user_id,
                    "kind": IMPORTED_EVENT,
                    "before": {},
                    "after": {"source": source, "handle": plan.record.handle, "row": plan.record.row},
                    "note": plan.card.message if plan.card and plan.card.card is None else "",
                }
                for pk, plan in zip(ids, plans, strict=True)
            ],
        )
        insert_rows(
            ImportedRecord,
            [
                {
                    "source": source,
                    "handle": plan.record.handle,
                    "subscription_id": pk,
                    "body_hash": plan.body_hash,
                }
                for pk, plan in zip(ids, plans, strict=True)
            ],
        )
    return ids


def _merged(products: list) -> list:
    """The same SKU twice in a source (two line items) is one item with the quantities added."""
    merged: dict[int, list] = {}
    for product, quantity in products:
        if product.pk in merged:
            merged[product.pk][1] += quantity
        else:
            merged[product.pk] = [product, quantity]
    return [tuple(pair) for pair in merged.values()]


def _set_stripe_customers(plans: list[Plan]) -> None:
    """An existing customer without a Stripe customer takes the one their verified card belongs to."""
    changed = {}
    for plan in plans:
        customer = plan.customer
        if plan.card and plan.card.card and not customer.stripe_customer_id and customer.pk not in changed:
            customer.stripe_customer_id = plan.record.stripe_customer_id
            changed[customer.pk] = customer.stripe_customer_id
    for pk, stripe_id in changed.items():
        Customer.objects.filter(pk=pk, stripe_customer_id="").update(stripe_customer_id=stripe_id)


UPDATED_EVENT = "import_updated"


def _comparable(value):  # noqa: ANN001, ANN202
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def subscription_import_update(*, plan: Plan, source: str, actor: Actor) -> Subscription:
    """A source row that changed since its last import: the subscription takes the new values, and
    one timeline event records which fields changed, before and after."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=plan.imported.subscription_id)
        plan.customer = subscription.customer
        plan.customer.known_addresses = list(plan.customer.addresses.all())
        plan.customer.known_methods = list(plan.customer.payment_methods.filter(is_active=True))
        if plan.address is None or plan.address.customer_id != subscription.customer_id:
            plan.address = None
            _new_addresses([plan])
        if plan.payment_method is None or plan.payment_method.customer_id != subscription.customer_id:
            plan.payment_method = None
            _new_payment_methods([plan])
        fields = subscription_fields(plan)
        before, after = {}, {}
        for name, value in fields.items():
            old = getattr(subscription, name)
            if _comparable(old) != _comparable(value):
                before[name], after[name] = _comparable(old), _comparable(value)
                setattr(subscription, name, value)
        old_items = sorted(subscription.items.values_list("product_id", "quantity"))
        new_items = sorted((p.pk, q) for p, q in _merged(plan.products))
        if old_items != new_items:
            before["items"], after["items"] = old_items, new_items
            subscription.items.all().delete()
            SubscriptionItem.objects.bulk_create(
                SubscriptionItem(subscription=subscription, product_id=pid, quantity=q)
                for pid, q in new_items
            )
        if before:
            subscription.save(update_fields=[*fields, "updated_at"])
        SubscriptionEvent.objects.create(
            subscription=subscription,
            actor_kind=actor.kind,
            actor_id=actor.user_id,
            kind=UPDATED_EVENT,
            before=before,
            after={**after, "source": source, "handle": plan.record.handle, "row": plan.record.row},
            note=plan.card.message if plan.card and plan.card.card is None else "",
        )
        ImportedRecord.objects.filter(pk=plan.imported.pk).update(body_hash=plan.body_hash)
    return subscription
