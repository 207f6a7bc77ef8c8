"""The importer's writes: a batch of planned subscriptions turned into rows, each table written by
the app that owns it, set-based (customers.bulk, billing.bulk, subscriptions.bulk: one COPY per
table on PostgreSQL), plus this app's own ImportedRecord.

The plans (resolve.Plan) were checked for the whole batch by the importer; here they only learn the
ids of what was created for them. A re-imported row that changed goes through
subscriptions.bulk.subscription_update_from_source, one row at a time.
"""

from __future__ import annotations

from datetime import datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from billing.bulk import payment_methods_bulk_create
from billing.models import PaymentKind
from core.copy import insert_rows
from customers.bulk import addresses_bulk_create, customers_bulk_create, customers_bulk_set_stripe_customer
from subscriptions.actors import Actor
from subscriptions.bulk import NewSubscription, subscription_update_from_source, subscriptions_bulk_create
from subscriptions.models import Subscription

from .models import ImportedRecord
from .resolve import Plan, address_key

IMPORTED_EVENT = "imported"


def shop_midnight(day) -> datetime | None:  # noqa: ANN001
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(settings.SHOP_TIMEZONE))


class _Row(SimpleNamespace):
    """What a plan needs of a row just written (pk and a few attributes): building 100,000 model
    instances costs more than writing them."""


def _new_customers(plans: list[Plan]) -> None:
    """Create the customers no earlier batch or row has; plans of the same e-mail share one."""
    by_email: dict[str, list[Plan]] = {}
    for plan in plans:
        if plan.customer is None:
            by_email.setdefault(plan.record.email.strip().lower(), []).append(plan)
    if not by_email:
        return
    rows = []
    for email, group in by_email.items():
        first = group[0].record
        rows.append(
            {
                "email": email,
                "name": first.name,
                "name_kana": first.name_kana,
                "phone": first.phone,
                "group_id": group[0].group.pk if group[0].group else None,
                "is_blacklisted": first.blacklisted,
                "stripe_customer_id": next(
                    (p.record.stripe_customer_id for p in group if p.card and p.card.card), ""
                ),
            }
        )
    for pk, row, group in zip(customers_bulk_create(customers=rows), rows, by_email.values(), strict=True):
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
                "postal_code": record.postal_code,
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
    ids = dict(zip(created, addresses_bulk_create(addresses=list(created.values())), strict=True))
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
                "brand": card.brand if card else "",
                "last4": card.last4 if card else "",
                "exp_month": card.exp_month if card else None,
                "exp_year": card.exp_year if card else None,
                "is_default": not has_default,
                "is_active": True,
            }
            plan.customer.known_methods.append(_Row(is_default=not has_default))
        waiting.append((plan, key))
    ids = dict(zip(created, payment_methods_bulk_create(methods=list(created.values())), strict=True))
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
        ids = subscriptions_bulk_create(
            subscriptions=[
                NewSubscription(
                    customer_id=plan.customer.pk,
                    fields={"source": f"import:{source}", **subscription_fields(plan)},
                    items=_merged(plan.products),
                    event_kind=IMPORTED_EVENT,
                    event_after={"source": source, "handle": plan.record.handle, "row": plan.record.row},
                    event_note=_card_note(plan),
                )
                for plan in plans
            ],
            actor=actor,
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


def _merged(products: list) -> list[tuple[int, int]]:
    """(product id, quantity) per SKU: the same SKU twice in a source (two line items) is one item
    with the quantities added."""
    merged: dict[int, int] = {}
    for product, quantity in products:
        merged[product.pk] = merged.get(product.pk, 0) + quantity
    return list(merged.items())


def _card_note(plan: Plan) -> str:
    """Why a card row has no payment method (the gateway did not verify it), for the timeline."""
    return plan.card.message if plan.card and plan.card.card is None else ""


def _set_stripe_customers(plans: list[Plan]) -> None:
    """An existing customer without a Stripe customer takes the one their verified card belongs to."""
    changed = {}
    for plan in plans:
        customer = plan.customer
        if plan.card and plan.card.card and not customer.stripe_customer_id and customer.pk not in changed:
            customer.stripe_customer_id = plan.record.stripe_customer_id
            changed[customer.pk] = customer.stripe_customer_id
    customers_bulk_set_stripe_customer(stripe_ids=changed)


UPDATED_EVENT = "import_updated"


def subscription_import_update(*, plan: Plan, source: str, actor: Actor) -> Subscription:
    """A source row that changed since its last import: the subscription takes the new values, and
    one timeline event records which fields changed, before and after."""
    with transaction.atomic():
        subscription = Subscription.objects.select_related("customer").get(pk=plan.imported.subscription_id)
        plan.customer = subscription.customer
        plan.customer.known_addresses = list(plan.customer.addresses.all())
        plan.customer.known_methods = list(plan.customer.payment_methods.filter(is_active=True))
        if plan.address is None or plan.address.customer_id != subscription.customer_id:
            plan.address = None
            _new_addresses([plan])
        if plan.payment_method is None or plan.payment_method.customer_id != subscription.customer_id:
            plan.payment_method = None
            _new_payment_methods([plan])
        subscription = subscription_update_from_source(
            subscription_id=subscription.pk,
            fields=subscription_fields(plan),
            items=_merged(plan.products),
            actor=actor,
            event_kind=UPDATED_EVENT,
            event_after={"source": source, "handle": plan.record.handle, "row": plan.record.row},
            event_note=_card_note(plan),
        )
        ImportedRecord.objects.filter(pk=plan.imported.pk).update(body_hash=plan.body_hash)
    return subscription
