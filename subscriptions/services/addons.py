"""ついで買い: one-off items on the subscription's next order only (add, change the quantity, remove).

A customer may change them while the next delivery is still changeable (its change deadline,
subscriptions.schedule.change_deadline_for, through require_before_deadline) and the shop allows
add-ons (ShopPolicy.allow_addons); staff are not bound by the deadline. Only active subscriptions
take add-ons, only products catalog.selectors.addon_offered() names, only as many as are in stock
now (the stock itself is taken when the nightly run creates the order). Once the order exists the
add-on is on it (SubscriptionAddon.order) and no longer changes. Each change writes one timeline
event whose before and after are the pending add-ons as {product id: quantity}.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from catalog.models import Product
from catalog.selectors import addon_offered
from core.errors import Conflict, DomainError, NotFound

from ..actors import Actor
from ..models import Subscription, SubscriptionAddon, SubscriptionStatus
from ._common import EventKind, require_status, write_event
from .details import MAX_QUANTITY, _locked_for_change

ADD, CHANGE, REMOVE = "addon-add", "addon-change", "addon-remove"


def _check_quantity(quantity: object) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(
            "invalid_quantity",
            _("数量は1〜%(max)d個でご指定ください。") % {"max": MAX_QUANTITY},
            field="quantity",
        )
    return quantity


def _locked(subscription_id: int, actor: Actor, action: str) -> Subscription:
    subscription = _locked_for_change(subscription_id, actor, action)
    # Not a paused or suspended one, for staff either: only an active subscription has a next order.
    require_status(subscription, {SubscriptionStatus.ACTIVE})
    return subscription


def _pending(subscription: Subscription) -> dict[int, SubscriptionAddon]:
    """The subscription's pending add-ons by product id (the row is locked: they cannot change)."""
    return {a.product_id: a for a in subscription.addons.filter(order__isnull=True).select_related("product")}


def _snapshot(pending: dict[int, SubscriptionAddon]) -> dict[str, dict[str, int]]:
    return {"addons": {str(pid): a.quantity for pid, a in sorted(pending.items())}}


def _offered(product_id: object, quantity: int) -> Product:
    """The product, if the shop offers it for add-on and has `quantity` in stock; else the refusal."""
    product = Product.objects.filter(pk=product_id).first() if isinstance(product_id, int) else None
    if product is None:
        raise NotFound("product_not_found", _("商品が見つかりません。"), field="product_id")
    tracked_out = product.stock is not None and product.stock <= 0
    if tracked_out or not Product.objects.filter(addon_offered(), pk=product.pk).exists():
        if tracked_out and product.addon_available and product.is_active:
            raise Conflict("out_of_stock", _("「%(name)s」は在庫切れです。") % {"name": product.name})
        raise DomainError(
            "product_not_offered",
            _("「%(name)s」はついで買いでご注文いただけません。") % {"name": product.name},
            field="product_id",
        )
    if product.stock is not None and product.stock < quantity:
        raise Conflict(
            "out_of_stock",
            _("「%(name)s」の在庫が不足しています（残り%(left)d個）。")
            % {"name": product.name, "left": product.stock},
            field="quantity",
        )
    return product


def _event(subscription: Subscription, actor: Actor, kind: str, before: dict, after: dict) -> None:
    write_event(subscription, actor=actor, kind=kind, before=before, after=after)
    subscription.save(update_fields=["updated_at"])


def subscription_add_addon(
    *, subscription_id: int, product_id: int, quantity: int, actor: Actor
) -> SubscriptionAddon:
    """Add `quantity` of a product to the next delivery only; a product already added gets the
    quantity added to it (at most MAX_QUANTITY in all)."""
    _check_quantity(quantity)
    with transaction.atomic():
        subscription = _locked(subscription_id, actor, ADD)
        pending = _pending(subscription)
        before = _snapshot(pending)
        addon = pending.get(product_id) if isinstance(product_id, int) else None
        total = quantity + (addon.quantity if addon else 0)
        if total > MAX_QUANTITY:
            raise DomainError(
                "invalid_quantity",
                _("同じ商品は合計%(max)d個までです（追加済み%(added)d個）。")
                % {"max": MAX_QUANTITY, "added": addon.quantity},
                field="quantity",
            )
        product = _offered(product_id, total)
        if addon is None:
            addon = SubscriptionAddon.objects.create(
                subscription=subscription, product=product, quantity=total
            )
        else:
            addon.quantity = total
            addon.save(update_fields=["quantity", "updated_at"])
        pending[product.pk] = addon
        _event(subscription, actor, EventKind.ADDON_ADDED, before, _snapshot(pending))
        return addon


def _pending_addon(subscription: Subscription, addon_id: object) -> SubscriptionAddon:
    addon = (
        subscription.addons.select_related("product").filter(pk=addon_id).first()
        if isinstance(addon_id, int)
        else None
    )
    if addon is None:
        raise NotFound("addon_not_found", _("ついで買いの商品が見つかりません。"), field="addon_id")
    if addon.order_id is not None:
        raise Conflict(
            "addon_on_order",
            _("「%(name)s」は次回の受注に含まれたため、変更できません。") % {"name": addon.product.name},
        )
    return addon


def subscription_change_addon(
    *, subscription_id: int, addon_id: int, quantity: int, actor: Actor
) -> SubscriptionAddon:
    """Set a pending add-on's quantity. More than before needs the product still offered and in stock."""
    _check_quantity(quantity)
    with transaction.atomic():
        subscription = _locked(subscription_id, actor, CHANGE)
        addon = _pending_addon(subscription, addon_id)
        pending = _pending(subscription)
        before = _snapshot(pending)
        if quantity > addon.quantity:
            _offered(addon.product_id, quantity)
        addon.quantity = quantity
        addon.save(update_fields=["quantity", "updated_at"])
        pending[addon.product_id] = addon
        _event(subscription, actor, EventKind.ADDON_CHANGED, before, _snapshot(pending))
        return addon


def subscription_remove_addon(*, subscription_id: int, addon_id: int, actor: Actor) -> Subscription:
    """Take a pending add-on off the next delivery."""
    with transaction.atomic():
        subscription = _locked(subscription_id, actor, REMOVE)
        addon = _pending_addon(subscription, addon_id)
        pending = _pending(subscription)
        before = _snapshot(pending)
        addon.delete()
        pending.pop(addon.product_id, None)
        _event(subscription, actor, EventKind.ADDON_REMOVED, before, _snapshot(pending))
        return subscription


def drop_pending_addons(subscription: Subscription, *, actor: Actor, note: str) -> None:
    """Pausing or cancelling: the next delivery the add-ons were for will not come, so they go too
    (one event). Call with the subscription row locked."""
    pending = _pending(subscription)
    if not pending:
        return
    before = _snapshot(pending)
    SubscriptionAddon.objects.filter(pk__in=[a.pk for a in pending.values()]).delete()
    write_event(
        subscription,
        actor=actor,
        kind=EventKind.ADDON_REMOVED,
        before=before,
        after={"addons": {}},
        note=note,
    )
