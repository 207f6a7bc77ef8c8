"""Pricing's writes in bulk: the coupon redemptions and point uses of the orders a nightly batch
created (the one-order paths, checkout and tests, call the same function with one row)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from core.errors import Conflict
from subscriptions.bulk import subscriptions_bulk_drop_coupon

from .models import Coupon, CouponAppliesTo, CouponRedemption, PointAccount, PointEntry, PointKind

# (order id, customer id, subscription id, sequence, coupon id or None, points used)
BenefitRow = tuple[int, int, int | None, int | None, int | None, int]


def benefits_bulk_record(*, orders: list[BenefitRow], on: date) -> None:
    """Write the coupon redemptions and point uses of created orders, in the caller's transaction.

    Re-checks caps and balances under row locks, so a caller that priced outside a transaction
    gets a Conflict instead of an overdrawn balance or a coupon used past its cap.
    """
    with transaction.atomic():
        _record_redemptions([row for row in orders if row[4] is not None])
        _record_point_uses([row for row in orders if row[5] > 0], on)


def _record_redemptions(rows: list[BenefitRow]) -> None:
    if not rows:
        return
    coupon_ids = sorted({row[4] for row in rows})
    coupons = Coupon.objects.select_for_update(of=("self",)).in_bulk(coupon_ids)
    totals = dict(
        CouponRedemption.objects.filter(coupon_id__in=coupon_ids)
        .values("coupon_id")
        .annotate(n=Count("id"))
        .values_list("coupon_id", "n")
    )
    per_customer: dict[tuple[int, int], int] = defaultdict(int)
    for coupon_id, customer_id, n in (
        CouponRedemption.objects.filter(coupon_id__in=coupon_ids, customer_id__in={row[1] for row in rows})
        .values("coupon_id", "customer_id")
        .annotate(n=Count("id"))
        .values_list("coupon_id", "customer_id", "n")
    ):
        per_customer[(coupon_id, customer_id)] = n
    for _order_id, customer_id, _sub_id, _seq, coupon_id, _points in rows:
        coupon = coupons[coupon_id]
        totals[coupon_id] = totals.get(coupon_id, 0) + 1
        per_customer[(coupon_id, customer_id)] += 1
        if coupon.max_uses is not None and totals[coupon_id] > coupon.max_uses:
            raise Conflict("coupon_used_up", _("このクーポンは利用上限に達しました。"))
        if (
            coupon.max_uses_per_customer is not None
            and per_customer[(coupon_id, customer_id)] > coupon.max_uses_per_customer
        ):
            raise Conflict("coupon_limit_reached", "このクーポンはご利用回数の上限に達しています。")
    CouponRedemption.objects.bulk_create(
        CouponRedemption(order_id=o, customer_id=c, subscription_id=s, sequence=q, coupon_id=k)
        for o, c, s, q, k, _p in rows
    )
    # A "next order only" coupon is spent once it has been redeemed: later orders go without it.
    next_only = {cid for cid, coupon in coupons.items() if coupon.applies_to == CouponAppliesTo.NEXT}
    subscriptions_bulk_drop_coupon(
        spent=[(s, k, o) for o, _c, s, _q, k, _p in rows if k in next_only and s is not None]
    )


def _record_point_uses(rows: list[BenefitRow], on: date) -> None:
    if not rows:
        return
    customer_ids = sorted({row[1] for row in rows})
    accounts = {
        a.customer_id: a
        for a in PointAccount.objects.select_for_update()
        .filter(customer_id__in=customer_ids)
        .order_by("customer_id")
    }
    for _order_id, customer_id, _sub, _seq, _coupon, points in rows:
        account = accounts.get(customer_id)
        if account is None or account.balance < points:
            raise Conflict("points_insufficient", _("ポイント残高が不足しています。"))
        account.balance -= points
        account.last_activity_on = on
    PointEntry.objects.bulk_create(
        PointEntry(customer_id=c, kind=PointKind.USE, amount=-p, order_id=o) for o, c, _s, _q, _k, p in rows
    )
    PointAccount.objects.bulk_update(accounts.values(), ["balance", "last_activity_on"])
