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

from datetime import datetime, time
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from billing.models import PaymentKind, PaymentMethod
from customers.models import Address, Customer
from customers.services import normalise_postal_code
from subscriptions.actors import Actor
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionItem

from .models import ImportedRecord
from .record import SourceSubscription
from .resolve import Plan, address_key

IMPORTED_EVENT = "imported"


def shop_midnight(day) -> datetime | None:  # noqa: ANN001
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(settings.SHOP_TIMEZONE))


def _new_customers(plans: list[Plan]) -> None:
    """Create the customers no earlier batch or row has; plans of the same e-mail share one."""
    by_email: dict[str, list[Plan]] = {}
    for plan in plans:
        if plan.customer is None:
            by_email.setdefault(plan.record.email.strip().lower(), []).append(plan)
    if not by_email:
        return
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=email, email=email, password="!") for email in by_email]
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=False, primary=True) for user in users]
    )
    customers = []
    for user, group in zip(users, by_email.values(), strict=True):
        first = group[0].record
        card = next((p.record.stripe_customer_id for p in group if p.card and p.card.card), "")
        customers.append(
            Customer(
                user=user,
                name=first.name,
                name_kana=first.name_kana,
                phone=first.phone,
                group=group[0].group,
                is_blacklisted=first.blacklisted,
                stripe_customer_id=card,
            )
        )
    Customer.objects.bulk_create(customers)
    for customer, group in zip(customers, by_email.values(), strict=True):
        customer.known_addresses, customer.known_methods = [], []
        for plan in group:
            plan.customer = customer


def _address(record: SourceSubscription, customer: Customer, is_default: bool) -> Address:
    return Address(
        customer=customer,
        recipient_name=record.recipient_name or record.name,
        postal_code=normalise_postal_code(record.postal_code),
        prefecture=record.prefecture,
        city=record.city,
        line1=record.line1,
        line2=record.line2,
        phone=record.address_phone,
        is_remote_island=record.remote_island,
        is_invalid=record.address_invalid,
        is_default=is_default,
    )


def _new_addresses(plans: list[Plan]) -> None:
    created: dict[tuple, Address] = {}
    for plan in plans:
        if plan.address is not None:
            continue
        key = (plan.customer.pk, *address_key(plan.record))
        address = created.get(key)
        if address is None:
            has_default = any(a.is_default for a in plan.customer.known_addresses)
            address = created[key] = _address(plan.record, plan.customer, not has_default)
            plan.customer.known_addresses.append(address)
        plan.address = address
    Address.objects.bulk_create(created.values())


def _new_payment_methods(plans: list[Plan]) -> None:
    created: dict[tuple, PaymentMethod] = {}
    for plan in plans:
        record = plan.record
        if plan.payment_method is not None or not record.payment_kind:
            continue
        card = plan.card.card if plan.card else None
        if record.payment_kind == PaymentKind.CARD and card is None:
            continue  # not verified: no method, the subscription needs attention
        key = (plan.customer.pk, record.payment_kind, card.id if card else "")
        method = created.get(key)
        if method is None:
            has_default = any(m.is_default for m in plan.customer.known_methods)
            method = created[key] = PaymentMethod(
                customer=plan.customer,
                kind=record.payment_kind,
                stripe_payment_method_id=card.id if card else "",
                brand=card.brand[:20] if card else "",
                last4=card.last4[:4] if card else "",
                exp_month=card.exp_month if card else None,
                exp_year=card.exp_year if card else None,
                is_default=not has_default,
            )
            plan.customer.known_methods.append(method)
        plan.payment_method = method
    PaymentMethod.objects.bulk_create(created.values())


def subscription_fields(plan: Plan) -> dict:
    """The Subscription columns an import sets (create and update alike)."""
    record, schedule = plan.record, plan.schedule
    cycle = schedule.cycle
    return {
        "course": plan.course,
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
        "shipping_address": plan.address,
        "payment_method": plan.payment_method,
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


def subscriptions_bulk_import(*, plans: list[Plan], source: str, actor: Actor) -> list[Subscription]:
    """Create the subscriptions of `plans` (all CREATE) with whatever they need, in one transaction."""
    with transaction.atomic():
        _new_customers(plans)
        _new_addresses(plans)
        _new_payment_methods(plans)
        _set_stripe_customers(plans)
        subscriptions = Subscription.objects.bulk_create(
            [
                Subscription(customer=plan.customer, source=f"import:{source}", **subscription_fields(plan))
                for plan in plans
            ]
        )
        SubscriptionItem.objects.bulk_create(
            [
                SubscriptionItem(subscription=s, product=product, quantity=quantity)
                for s, plan in zip(subscriptions, plans, strict=True)
                for product, quantity in _merged(plan.products)
            ]
        )
        SubscriptionEvent.objects.bulk_create(
            [
                SubscriptionEvent(
                    subscription=s,
                    actor_kind=actor.kind,
                    actor_id=actor.user_id,
                    kind=IMPORTED_EVENT,
                    after={"source": source, "handle": plan.record.handle, "row": plan.record.row},
                    note=plan.card.message if plan.card and plan.card.card is None else "",
                )
                for s, plan in zip(subscriptions, plans, strict=True)
            ]
        )
        ImportedRecord.objects.bulk_create(
            [
                ImportedRecord(
                    source=source, handle=plan.record.handle, subscription=s, body_hash=plan.body_hash
                )
                for s, plan in zip(subscriptions, plans, strict=True)
            ]
        )
    return subscriptions


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
            changed[customer.pk] = customer
    if changed:
        Customer.objects.bulk_update(changed.values(), ["stripe_customer_id"])


UPDATED_EVENT = "import_updated"


def _comparable(value):  # noqa: ANN001, ANN202
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (datetime,)) or hasattr(value, "isoformat"):
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
                key = f"{name}_id" if hasattr(value, "pk") or hasattr(old, "pk") else name
                before[key], after[key] = _comparable(old), _comparable(value)
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
