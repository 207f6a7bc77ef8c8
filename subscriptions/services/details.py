"""Services that change what the next deliveries carry: time slot, items, address, payment, points, coupon."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from catalog.models import Product
from core.errors import DomainError, NotFound
from customers.models import Address

from ..actions import ACTION_PERMISSIONS
from ..actors import Actor
from ..models import PointsReservation, ShopPolicy, Subscription, SubscriptionItem, TimeSlot
from ..selectors import today_in_shop
from ._common import (
    OPEN_STATUSES,
    EventKind,
    lock_subscription,
    require_before_deadline,
    require_customer_action,
    require_permission,
    require_status,
    save_with_event,
    snapshot,
    write_event,
)

MAX_QUANTITY = 99


def _locked_for_change(
    subscription_id: int, actor: Actor, action: str, *, deadline: bool = True
) -> Subscription:
    policy = ShopPolicy.current()
    subscription = lock_subscription(subscription_id, actor)
    require_status(subscription, OPEN_STATUSES)
    require_customer_action(subscription, actor, action)
    require_permission(actor, policy, ACTION_PERMISSIONS[action])
    if deadline:
        require_before_deadline(subscription, actor, policy, today_in_shop())
    return subscription


def subscription_change_time_slot(*, subscription_id: int, time_slot: str, actor: Actor) -> Subscription:
    if time_slot not in TimeSlot.values:
        raise DomainError("invalid_time_slot", _("お届け時間帯が正しくありません。"), field="time_slot")
    with transaction.atomic():
        subscription = _locked_for_change(subscription_id, actor, "time-slot")
        before = snapshot(subscription, ["delivery_time_slot"])
        subscription.delivery_time_slot = time_slot
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.TIME_SLOT_CHANGED,
            fields=["delivery_time_slot"],
            before=before,
        )


def subscription_change_items(
    *, subscription_id: int, quantities: dict[int, int], actor: Actor
) -> Subscription:
    """Set item quantities by product id: 1..99 sets (adding the product if new), 0 removes it.

    Customers may only add products of their course; at least one item must remain.
    """
    for qty in quantities.values():
        if not isinstance(qty, int) or isinstance(qty, bool) or not 0 <= qty <= MAX_QUANTITY:
            raise DomainError(
                "invalid_quantity",
                _("数量は1〜%(max)d個でご指定ください。") % {"max": MAX_QUANTITY},
                field="quantities",
            )
    with transaction.atomic():
        subscription = _locked_for_change(subscription_id, actor, "quantities")
        current = {item.product_id: item for item in subscription.items.all()}
        before = {str(pid): item.quantity for pid, item in sorted(current.items())}
        new_ids = {pid for pid, qty in quantities.items() if qty > 0 and pid not in current}
        _check_new_products(subscription, new_ids, actor)
        result = {pid: item.quantity for pid, item in current.items()}
        for pid, qty in quantities.items():
            if qty == 0:
                result.pop(pid, None)
            else:
                result[pid] = qty
        if not result:
            raise DomainError(
                "no_items",
                _("すべての商品を削除することはできません。解約をご希望の場合は解約手続きをお願いします。"),
            )
        _apply_items(subscription, current, result)
        after = {str(pid): qty for pid, qty in sorted(result.items())}
        write_event(
            subscription,
            actor=actor,
            kind=EventKind.ITEMS_CHANGED,
            before={"items": before},
            after={"items": after},
        )
        subscription.save(update_fields=["updated_at"])
        return subscription


def _check_new_products(subscription: Subscription, product_ids: set[int], actor: Actor) -> None:
    if not product_ids:
        return
    products = Product.objects.filter(pk__in=product_ids, is_active=True)
    if actor.is_customer:
        products = products.filter(course_items__course=subscription.course)
    if products.count() != len(product_ids):
        raise DomainError("product_not_allowed", _("お選びの商品は追加できません。"), field="quantities")


def _apply_items(
    subscription: Subscription, current: dict[int, SubscriptionItem], result: dict[int, int]
) -> None:
    SubscriptionItem.objects.filter(subscription=subscription).exclude(product_id__in=result).delete()
    changed = []
    for pid, qty in result.items():
        item = current.get(pid)
        if item is None:
            SubscriptionItem.objects.create(subscription=subscription, product_id=pid, quantity=qty)
        elif item.quantity != qty:
            item.quantity = qty
            changed.append(item)
    SubscriptionItem.objects.bulk_update(changed, ["quantity"])


def subscription_change_address(*, subscription_id: int, address_id: int, actor: Actor) -> Subscription:
    with transaction.atomic():
        subscription = _locked_for_change(subscription_id, actor, "address")
        address = Address.objects.filter(pk=address_id, customer_id=subscription.customer_id).first()
        if address is None:  # another customer's address is simply not there
            raise NotFound("address_not_found", _("お届け先が見つかりません。"), field="address_id")
        if address.is_invalid:
            raise DomainError("invalid_address", _("このお届け先は住所不備のためご利用いただけません。"))
        before = snapshot(subscription, ["shipping_address_id"])
        subscription.shipping_address = address
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.ADDRESS_CHANGED,
            fields=["shipping_address"],
            before=before,
        )


def subscription_change_payment_method(
    *, subscription_id: int, payment_method_id: int, actor: Actor
) -> Subscription:
    """Choose another of the customer's active payment methods (no deadline: a failed card must be
    replaceable at any time; billing clears the payment_failed attention and retries)."""
    with transaction.atomic():
        subscription = _locked_for_change(subscription_id, actor, "payment-method", deadline=False)
        # Through the relation, not an import: billing sits above subscriptions in the layering.
        method = subscription.customer.payment_methods.filter(pk=payment_method_id, is_active=True).first()
        if method is None:
            raise NotFound(
                "payment_method_not_found", _("お支払い方法が見つかりません。"), field="payment_method_id"
            )
        before = snapshot(subscription, ["payment_method_id"])
        subscription.payment_method = method
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.PAYMENT_METHOD_CHANGED,
            fields=["payment_method"],
            before=before,
        )


# The column is a 4-byte integer; no shop gives out this many points.
MAX_POINTS_RESERVATION = 99_999_999


def subscription_set_points_reservation(
    *, subscription_id: int, mode: str, amount: int = 0, actor: Actor
) -> Subscription:
    """Reserve points for the coming orders: none, all, or a fixed amount (applied when each is created)."""
    if mode not in PointsReservation.values:
        raise DomainError("invalid_points_mode", _("ポイントの利用方法が正しくありません。"), field="mode")
    if mode == PointsReservation.AMOUNT and (
        not isinstance(amount, int) or not 1 <= amount <= MAX_POINTS_RESERVATION
    ):
        raise DomainError(
            "invalid_points_amount",
            _("利用ポイント数は1〜%(max)sの範囲でご指定ください。") % {"max": f"{MAX_POINTS_RESERVATION:,}"},
            field="amount",
        )
    with transaction.atomic():
        subscription = _locked_for_change(subscription_id, actor, "points")
        before = snapshot(subscription, ["points_reservation", "points_reservation_amount"])
        subscription.points_reservation = mode
        subscription.points_reservation_amount = amount if mode == PointsReservation.AMOUNT else 0
        return save_with_event(
            subscription,
            actor=actor,
            kind=EventKind.POINTS_RESERVATION_CHANGED,
            fields=["points_reservation", "points_reservation_amount"],
            before=before,
        )


def subscription_set_coupon(*, subscription_id: int, coupon_id: int | None, actor: Actor) -> Subscription:
    """Record the chosen coupon (None removes it). Billing validates the coupon before calling this."""
    with transaction.atomic():
        subscription = _locked_for_change(
            subscription_id, actor, "coupon-remove" if coupon_id is None else "coupon-apply"
        )
        coupon = None
        if coupon_id is not None:
            coupon_model = Subscription._meta.get_field("coupon").related_model  # billing.Coupon
            coupon = coupon_model.objects.filter(pk=coupon_id).first()
            if coupon is None:
                raise NotFound("coupon_not_found", _("クーポンが見つかりません。"), field="coupon_id")
        before = snapshot(subscription, ["coupon_id"])
        subscription.coupon = coupon
        return save_with_event(
            subscription, actor=actor, kind=EventKind.COUPON_CHANGED, fields=["coupon"], before=before
        )
