"""Resolving a batch of source subscriptions against the database: products by SKU, courses by code,
customer groups, existing customers and earlier imports — a fixed number of queries per batch.

Produces a Plan per subscription (create, update or skip, with everything the write needs) or the
problems that keep it out. Reads only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from billing.models import PaymentKind, PaymentMethod
from catalog.models import Course, Product
from customers.models import Address, Customer, CustomerGroup
from customers.services import normalise_postal_code
from subscriptions.models import AttentionReason, ShopPolicy
from subscriptions.selectors import course_allows_cycle

from .cards import CardCheck, cards_verify
from .checks import record_cycle
from .models import ImportedRecord
from .record import WARNING, Problem, SourceSubscription
from .schedule import ImportedSchedule, OffSchedule, import_schedule

CREATE, UPDATE, SKIP = "create", "update", "skip"


@dataclass
class Plan:
    record: SourceSubscription
    action: str
    body_hash: str
    course: Course | None = None
    products: list[tuple[Product, int]] = field(default_factory=list)
    schedule: ImportedSchedule | None = None
    group: CustomerGroup | None = None
    customer: Customer | None = None  # an existing customer with this e-mail
    address: Address | None = None  # an existing, identical address
    payment_method: PaymentMethod | None = None  # an existing method of the same kind / card
    card: CardCheck | None = None
    imported: ImportedRecord | None = None

    @property
    def attention(self) -> list[str]:
        reasons = list(dict.fromkeys(self.record.needs_attention))
        if self.card is not None and self.card.card is None and AttentionReason.PAYMENT_FAILED not in reasons:
            reasons.append(AttentionReason.PAYMENT_FAILED)
        return reasons


def address_key(record: SourceSubscription) -> tuple:
    return (
        record.recipient_name or record.name,
        normalise_postal_code(record.postal_code),
        record.prefecture,
        record.city,
        record.line1,
        record.line2,
        record.address_phone,
        record.remote_island,
        record.address_invalid,
    )


def _stored_address_key(address: Address) -> tuple:
    return (
        address.recipient_name,
        address.postal_code,
        address.prefecture,
        address.city,
        address.line1,
        address.line2,
        address.phone,
        address.is_remote_island,
        address.is_invalid,
    )


class BatchLookup:
    """Everything a batch refers to, loaded at once."""

    def __init__(self, records: list[SourceSubscription], imported: dict[str, ImportedRecord]):
        self.imported = imported
        skus = {sku for r in records for sku, _q in r.items}
        self.products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
        self.courses = {
            c.code: c
            for c in Course.objects.filter(code__in={r.course_code for r in records}).prefetch_related(
                "cycles"
            )
        }
        self.groups = {
            g.code: g
            for g in CustomerGroup.objects.filter(code__in={r.customer_group for r in records} - {""})
        }
        emails = {r.email.strip().lower() for r in records}
        self.customers = {
            c.user.email.lower(): c
            for c in Customer.objects.filter(user__username__in=emails)
            .select_related("user")
            .prefetch_related(
                Prefetch("addresses", to_attr="known_addresses"),
                Prefetch(
                    "payment_methods", PaymentMethod.objects.filter(is_active=True), to_attr="known_methods"
                ),
            )
        }
        policy = ShopPolicy.current()
        self.calendar = policy.business_calendar()
        self.lead_days = policy.lead_days


def plan_batch(
    records: list[SourceSubscription], *, source: str, columns: dict[str, str], problems: list[Problem]
) -> list[Plan]:
    """Plans for the records that can be written; a record with an error gets none."""
    imported = {
        i.handle: i
        for i in ImportedRecord.objects.filter(source=source, handle__in={r.handle for r in records}).only(
            "pk", "handle", "body_hash", "subscription_id"
        )
    }
    plans = []
    changed = []
    for record in records:  # unchanged since the last import: nothing else to look up
        known = imported.get(record.handle)
        if known is not None and known.body_hash == record.body_hash():
            plans.append(Plan(record, SKIP, known.body_hash, imported=known))
        else:
            changed.append(record)
    if not changed:
        return plans
    lookup = BatchLookup(changed, imported)
    for record in changed:
        found: list[Problem] = []
        plan = _plan(record, lookup, columns, found)
        problems.extend(found)
        if plan is not None:
            plans.append(plan)
    _verify_cards(plans, columns, problems)
    return plans


def _problem(
    record: SourceSubscription, columns: dict[str, str], field_name: str, value: str, message: str
) -> Problem:
    return Problem(record.row, columns.get(field_name, field_name), value, message, handle=record.handle)


def _plan(
    record: SourceSubscription, lookup: BatchLookup, columns: dict[str, str], found: list[Problem]
) -> Plan | None:
    body_hash = record.body_hash()
    imported = lookup.imported.get(record.handle)
    if imported is not None and imported.body_hash == body_hash:
        return Plan(record, SKIP, body_hash, imported=imported)
    plan = Plan(record, UPDATE if imported else CREATE, body_hash, imported=imported)
    for sku, quantity in record.items:
        product = lookup.products.get(sku)
        if product is None:
            found.append(
                _problem(
                    record, columns, "items", sku, _("SKU「%(sku)s」の商品がありません。") % {"sku": sku}
                )
            )
        else:
            plan.products.append((product, quantity))
    plan.course = lookup.courses.get(record.course_code)
    if plan.course is None:
        found.append(
            _problem(
                record, columns, "course_code", record.course_code,
                _("コースコード「%(code)s」の定期コースがありません。") % {"code": record.course_code},
            )
        )  # fmt: skip
    if record.customer_group:
        plan.group = lookup.groups.get(record.customer_group)
        if plan.group is None:
            found.append(
                _problem(
                    record,
                    columns,
                    "customer_group",
                    record.customer_group,
                    _("この顧客グループはありません。"),
                )
            )
    _plan_schedule(plan, lookup, columns, found)
    if found:
        return None
    _match_customer(plan, lookup)
    return plan


def _plan_schedule(plan: Plan, lookup: BatchLookup, columns: dict[str, str], found: list[Problem]) -> None:
    record = plan.record
    cycle = record_cycle(record)
    if cycle is None or record.next_delivery_date is None:
        return  # already reported by record_problems
    try:
        plan.schedule = import_schedule(
            cycle,
            next_delivery=record.next_delivery_date,
            next_sequence=record.sequence,
            skipped_dates=record.skipped_dates,
            calendar=lookup.calendar,
            lead_days=lookup.lead_days,
        )
    except OffSchedule as exc:
        found.append(
            _problem(
                record, columns, "skipped_dates", exc.day.isoformat(),
                _("スキップ日%(day)sはこの周期のお届け日ではありません。") % {"day": exc.day.isoformat()},
            )
        )  # fmt: skip
        return
    if plan.course is not None and not course_allows_cycle(plan.course, plan.schedule.cycle):
        found.append(
            _problem(record, columns, "cycle_unit", record.cycle_unit, _("このコースでは選べない周期です。"))
        )


def _match_customer(plan: Plan, lookup: BatchLookup) -> None:
    record = plan.record
    customer = lookup.customers.get(record.email.strip().lower())
    if customer is None:
        return
    plan.customer = customer
    key = address_key(record)
    plan.address = next((a for a in customer.known_addresses if _stored_address_key(a) == key), None)
    for method in customer.known_methods:
        if method.kind != record.payment_kind:
            continue
        if (
            method.kind != PaymentKind.CARD
            or method.stripe_payment_method_id == record.stripe_payment_method_id
        ):
            plan.payment_method = method
            break


def _verify_cards(plans: list[Plan], columns: dict[str, str], problems: list[Problem]) -> None:
    pending = [
        p
        for p in plans
        if p.action != SKIP and p.record.payment_kind == PaymentKind.CARD and p.payment_method is None
    ]
    checks = cards_verify({(p.record.stripe_customer_id, p.record.stripe_payment_method_id) for p in pending})
    by_pair = defaultdict(list)
    for plan in pending:
        by_pair[(plan.record.stripe_customer_id, plan.record.stripe_payment_method_id)].append(plan)
    for pair, check in checks.items():
        for plan in by_pair[pair]:
            plan.card = check
            if check.card is None:
                problems.append(
                    Problem(
                        plan.record.row,
                        columns.get("stripe_payment_method_id", "stripe_payment_method_id"),
                        pair[1],
                        check.message + _("定期購入は支払方法なし・要対応（決済エラー）として取り込みます。"),
                        WARNING,
                        plan.record.handle,
                    )
                )
