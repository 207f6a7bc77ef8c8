"""Coupons on subscriptions: validate and explain a refusal in words a customer understands, then
record the choice; give a use back when its order is cancelled."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.errors import DomainError, NotFound
from core.formats import format_date
from subscriptions.actors import Actor
from subscriptions.bulk import subscription_restore_coupon
from subscriptions.models import Subscription
from subscriptions.schedule import delivery_number
from subscriptions.services import subscription_set_coupon

from ..models import Coupon, CouponAppliesTo, CouponRedemption
from ..pricing import coupon_covers
from ..selectors import shop_date, subscription_next_order_price


def coupon_refusal_message(
    code: str, coupon: Coupon | None = None, *, next_sequence: int | None = None
) -> str:
    """The customer-facing sentence for a refusal code (also for PricedOrder.coupon_refusal)."""
    if code == "coupon_expired" and coupon and coupon.valid_until:
        return _("このクーポンの有効期限（%(date)sまで）を過ぎています。") % {
            "date": format_date(shop_date(coupon.valid_until))
        }
    if code == "coupon_not_started" and coupon and coupon.valid_from:
        return _("このクーポンは%(date)sからご利用いただけます。") % {
            "date": format_date(shop_date(coupon.valid_from))
        }
    if code == "coupon_limit_reached" and coupon and coupon.max_uses_per_customer:
        return _("このクーポンはお一人様%(n)d回までです。すでに上限までご利用いただいています。") % {
            "n": coupon.max_uses_per_customer
        }
    if code == "coupon_min_subtotal" and coupon:
        return _("このクーポンは商品合計¥%(amount)s以上のご注文でご利用いただけます。") % {
            "amount": f"{coupon.min_subtotal:,}"
        }
    if code == "coupon_not_applicable" and coupon and coupon.applies_to == CouponAppliesTo.SEQUENCES:
        listed = pgettext("list of delivery numbers", "・").join(
            str(s) for s in sorted(int(s) for s in coupon.sequences)
        )
        if next_sequence:
            return _("このクーポンは%(listed)s回目のお届けが対象です（次回は%(next)d回目です）。") % {
                "listed": listed,
                "next": next_sequence,
            }
        return _("このクーポンは%(listed)s回目のお届けが対象です。") % {"listed": listed}
    messages = {
        "coupon_not_found": _("クーポンコードが見つかりません。入力内容をご確認ください。"),
        "coupon_expired": _("このクーポンは有効期限を過ぎています。"),
        "coupon_not_started": _("このクーポンはまだご利用いただけません。"),
        "coupon_used_up": _("このクーポンは利用上限に達したため、ご利用いただけません。"),
        "coupon_limit_reached": _("このクーポンはすでに上限までご利用いただいています。"),
        "coupon_min_subtotal": _("ご注文金額がこのクーポンの最低利用金額に達していません。"),
        "coupon_not_applicable": _("このクーポンは次回のお届けには使えません。"),
    }
    return messages.get(code, _("このクーポンはご利用いただけません。"))


def _refuse(code: str, coupon: Coupon | None = None, **kw: int) -> DomainError:
    return DomainError(code, coupon_refusal_message(code, coupon, **kw), field="code")


def coupon_check_for_subscription(*, coupon: Coupon, subscription: Subscription) -> None:
    """Raise the refusal a customer would see if `coupon` were applied to the subscription now."""
    if not coupon.is_active:
        raise _refuse("coupon_not_found")
    now = timezone.now()
    if coupon.valid_from is not None and now < coupon.valid_from:
        raise _refuse("coupon_not_started", coupon)
    if coupon.valid_until is not None and now > coupon.valid_until:
        raise _refuse("coupon_expired", coupon)
    counts = CouponRedemption.objects.filter(coupon=coupon).aggregate(
        total=Count("id"), mine=Count("id", filter=Q(customer_id=subscription.customer_id))
    )
    if coupon.max_uses is not None and counts["total"] >= coupon.max_uses:
        raise _refuse("coupon_used_up", coupon)
    if coupon.max_uses_per_customer is not None and counts["mine"] >= coupon.max_uses_per_customer:
        raise _refuse("coupon_limit_reached", coupon)
    next_sequence = delivery_number(subscription.cycle_count)
    sequences = {int(s) for s in coupon.sequences or ()}
    if not coupon_covers(applies_to=coupon.applies_to, sequences=sequences, delivery_number=next_sequence):
        raise _refuse("coupon_not_applicable", coupon, next_sequence=next_sequence)
    if coupon.min_subtotal:
        # Only the item subtotal is read: wrapping (a fee, not goods) cannot change it.
        preview = subscription_next_order_price(
            subscription=subscription, on=shop_date(now), gift_wrapping=False
        )
        if preview.items_subtotal < coupon.min_subtotal:
            raise _refuse("coupon_min_subtotal", coupon)


def coupon_apply_to_subscription(*, subscription_id: int, code: str, actor: Actor) -> Subscription:
    """Validate the coupon `code` for the subscription's next order, then attach it to the subscription."""
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_related("customer", "shipping_address", "payment_method")
            .filter(pk=subscription_id)
            .first()
        )
        if subscription is None or (actor.is_customer and subscription.customer.user_id != actor.user_id):
            raise NotFound("subscription_not_found", _("定期購入が見つかりません。"))
        coupon = Coupon.objects.filter(code__iexact=(code or "").strip()).first()
        if coupon is None:
            raise _refuse("coupon_not_found")
        coupon_check_for_subscription(coupon=coupon, subscription=subscription)
        return subscription_set_coupon(subscription_id=subscription_id, coupon_id=coupon.pk, actor=actor)


def coupon_remove_from_subscription(*, subscription_id: int, actor: Actor) -> Subscription:
    return subscription_set_coupon(subscription_id=subscription_id, coupon_id=None, actor=actor)


def coupon_release_for_order(*, order_id: int) -> bool:
    """Give the coupon use of a cancelled order back: its redemption no longer counts towards caps.

    A "next order only" coupon goes back onto the subscription if nothing replaced it meanwhile, so
    the customer's next order gets it. Returns whether there was a use to give back; idempotent.
    """
    with transaction.atomic():
        redemption = (
            CouponRedemption.objects.select_for_update()
            .select_related("coupon")
            .filter(order_id=order_id)
            .first()
        )
        if redemption is None:
            return False
        # Lock the coupon like record_benefits does, so counts seen under the lock stay true.
        Coupon.objects.select_for_update().filter(pk=redemption.coupon_id).first()
        redemption.delete()
        if redemption.coupon.applies_to == CouponAppliesTo.NEXT and redemption.subscription_id:
            subscription_restore_coupon(
                subscription_id=redemption.subscription_id, coupon_id=redemption.coupon_id, order_id=order_id
            )
        return True
