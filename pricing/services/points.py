"""Points: earn on completion, use at generation (pricing.bulk.benefits_bulk_record), revert on
cancel, admin adjustments and expiry.

Every writer locks the customer's PointAccount row first and appends ledger entries; the account's
balance is the running sum of the ledger and a CHECK constraint keeps it from going negative.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from core.errors import DomainError, NotFound
from core.money import basis_points_of
from customers.models import Customer
from subscriptions.actors import Actor
from subscriptions.selectors import today_in_shop

from ..models import BillingPolicy, PointAccount, PointEntry, PointKind, PointsExpiry
from ..selectors import points_balance  # noqa: F401 - re-exported: the members-only balance

CREDIT_KINDS = (PointKind.EARN, PointKind.ADJUST)


def lock_account(customer_id: int) -> PointAccount:
    """The customer's account row, created if missing, locked until the transaction ends."""
    PointAccount.objects.bulk_create([PointAccount(customer_id=customer_id)], ignore_conflicts=True)
    return PointAccount.objects.select_for_update().get(customer_id=customer_id)


def _expiry(policy: BillingPolicy, today: date) -> date | None:
    if policy.points_expiry == PointsExpiry.PER_ENTRY:
        return today + timedelta(days=policy.points_valid_days)
    return None


def _append(
    account: PointAccount, entry: PointEntry, today: date | None, *, activity: bool = True
) -> PointEntry:
    entry.save()
    account.balance += entry.amount
    fields = ["balance", "updated_at"]
    if activity and today is not None:
        account.last_activity_on = today
        fields.append("last_activity_on")
    account.save(update_fields=fields)
    return entry


def points_earn_for_order(*, order, today: date | None = None) -> PointEntry | None:  # noqa: ANN001
    """Grant the order's points (policy rate of the tax-inclusive item subtotal) once it completes.

    `order` is the completed orders.Order (its customer, number and item subtotal are read; pricing
    sits below orders, so it is handed the row rather than looking it up).
    Members only; idempotent: an order earns at most once (a unique constraint backs this up).
    """
    today = today or today_in_shop()
    with transaction.atomic():
        if not order.customer.is_member:
            return None
        policy = BillingPolicy.current()
        amount = basis_points_of(order.items_subtotal, policy.points_earn_rate_bp)
        if amount <= 0:
            return None
        account = lock_account(order.customer_id)
        existing = PointEntry.objects.filter(order=order, kind=PointKind.EARN).first()
        if existing is not None:
            return existing
        entry = PointEntry(
            customer_id=order.customer_id,
            kind=PointKind.EARN,
            amount=amount,
            order=order,
            expires_on=_expiry(policy, today),
            note=_("受注 %(number)s のご購入ポイント") % {"number": order.number},
        )
        return _append(account, entry, today)


def points_revert_for_order(*, order_id: int, actor: Actor | None = None) -> list[PointEntry]:
    """Undo what an order did to points when it is cancelled: the points it used come back and the
    points it earned are taken back (no further than the balance: points already spent stay spent).
    Idempotent: each entry is reverted at most once."""
    with transaction.atomic():
        # The order's own entries name its customer; an order with none has nothing to give back.
        first = PointEntry.objects.filter(order_id=order_id).only("customer_id").first()
        if first is None:
            return []
        account = lock_account(first.customer_id)
        pending = list(
            PointEntry.objects.filter(
                order_id=order_id, kind__in=(PointKind.USE, PointKind.EARN), reverted_by__isnull=True
            )
        )
        written = []
        # Give back the used points first so an earn revert can take from them.
        for entry in sorted(pending, key=lambda e: e.kind != PointKind.USE):
            amount = -entry.amount if entry.kind == PointKind.USE else -min(entry.amount, account.balance)
            if amount == 0:
                continue
            revert = PointEntry(
                customer_id=first.customer_id,
                kind=PointKind.REVERT,
                amount=amount,
                order_id=order_id,
                reverts=entry,
                actor_id=getattr(actor, "user_id", None),
                note=_("受注 %(number)s のキャンセル") % {"number": f"{order_id:08d}"},
            )
            written.append(_append(account, revert, None, activity=False))
        return written


def points_adjust(
    *, customer_id: int, amount: int, note: str, actor: Actor, today: date | None = None
) -> PointEntry:
    """An admin's correction: positive grants (with the policy's expiry), negative takes back."""
    if not isinstance(amount, int) or amount == 0:
        raise DomainError(
            "invalid_points_amount", _("調整ポイント数を0以外の整数で指定してください。"), field="amount"
        )
    today = today or today_in_shop()
    with transaction.atomic():
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise NotFound("customer_not_found", _("顧客が見つかりません。"))
        if not customer.is_member:
            raise DomainError("points_members_only", _("ポイントは会員のお客様のみご利用いただけます。"))
        account = lock_account(customer_id)
        if account.balance + amount < 0:
            raise DomainError(
                "points_insufficient",
                _("ポイント残高（%(balance)dpt）を超えて減らすことはできません。")
                % {"balance": account.balance},
                field="amount",
            )
        entry = PointEntry(
            customer_id=customer_id,
            kind=PointKind.ADJUST,
            amount=amount,
            expires_on=_expiry(BillingPolicy.current(), today) if amount > 0 else None,
            note=note,
            actor_id=actor.user_id,
        )
        return _append(account, entry, today)


def _per_entry_due(today: date) -> dict[int, int]:
    """Points to expire per customer, first-in first-out: credits past their date that the
    customer's uses, deductions and earlier expiries have not already consumed."""
    expired_credit = Q(kind__in=CREDIT_KINDS, amount__gt=0, expires_on__lt=today)
    expired_credit_revert = Q(
        kind=PointKind.REVERT, reverts__kind=PointKind.EARN, reverts__expires_on__lt=today
    )
    debit = Q(kind__in=(PointKind.USE, PointKind.EXPIRE, PointKind.ADJUST), amount__lt=0)
    use_revert = Q(kind=PointKind.REVERT, reverts__kind=PointKind.USE)
    customers = PointEntry.objects.filter(kind__in=CREDIT_KINDS, expires_on__lt=today).values("customer_id")
    rows = (
        PointEntry.objects.filter(customer_id__in=customers, customer__point_account__balance__gt=0)
        .values("customer_id")
        .annotate(
            credit=Sum("amount", filter=expired_credit, default=0),
            credit_revert=Sum("amount", filter=expired_credit_revert, default=0),
            debit=Sum("amount", filter=debit, default=0),
            debit_revert=Sum("amount", filter=use_revert, default=0),
        )
    )
    due = {}
    for row in rows:
        amount = (row["credit"] + row["credit_revert"]) - (-row["debit"] - row["debit_revert"])
        if amount > 0:
            due[row["customer_id"]] = amount
    return due


def points_expire(*, today: date) -> int:
    """Expire points by the shop policy; returns how many customers lost points. Safe to re-run."""
    policy = BillingPolicy.current()
    with transaction.atomic():
        if policy.points_expiry == PointsExpiry.PER_ENTRY:
            due = _per_entry_due(today)
            note = _("有効期限切れ")
        elif policy.points_expiry == PointsExpiry.INACTIVITY:
            cutoff = today - timedelta(days=policy.points_inactive_days)
            due = dict(
                PointAccount.objects.filter(balance__gt=0, last_activity_on__lte=cutoff).values_list(
                    "customer_id", "balance"
                )
            )
            note = _("%(days)d日間ご利用がなかったため失効") % {"days": policy.points_inactive_days}
        else:
            return 0
        if not due:
            return 0
        accounts = list(
            PointAccount.objects.select_for_update()
            .filter(customer_id__in=due, balance__gt=0)
            .order_by("customer_id")
        )
        entries = []
        for account in accounts:
            amount = min(due[account.customer_id], account.balance)
            account.balance -= amount
            entries.append(
                PointEntry(customer_id=account.customer_id, kind=PointKind.EXPIRE, amount=-amount, note=note)
            )
        PointEntry.objects.bulk_create(entries)
        PointAccount.objects.bulk_update(accounts, ["balance"])
        return len(entries)


def stage_expire_points(run_date: date) -> dict[str, int]:
    """The nightly pipeline stage (scheduler.pipeline.AFTER_GENERATION): expiry as of the run date."""
    return {"points_expired": points_expire(today=run_date)}
