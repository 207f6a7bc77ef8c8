"""Every write to an order after it was created: the status pipeline, releasing a hold, cancelling.

One entry point changes status (`order_set_status`): it locks the row, checks ORDER_TRANSITIONS,
saves with update_fields and writes an OrderEvent. Moves that carry more than a status (a hold
released takes stock that was short; a cancellation puts stock back and gives the subscription's
定期回数 back) go through their own services, and order_set_status routes those moves to them so
no caller can skip the side effects.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.bulk import StockShort, stock_give_back, stock_take
from catalog.models import Product
from core.errors import Conflict, NotFound
from customers.matching import PersonKeys
from customers.models import Customer
from customers.selectors import blacklist_index, customers_keys
from subscriptions.actors import Actor
from subscriptions.models import AttentionReason
from subscriptions.services import subscription_give_back_cycle

from .carriers import DEFAULT_CARRIERS
from .mails import order_mail_on_move
from .models import ORDER_TRANSITIONS, Carrier, Order, OrderEvent, OrderLine, OrderStatus
from .signals import order_status_changed

_TIMESTAMP_ON = {
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.COMPLETED: "completed_at",
    OrderStatus.CANCELLED: "cancelled_at",
}


def _lock_order(order_id: int) -> Order:
    order = Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first()
    if order is None:
        raise NotFound("order_not_found", _("受注が見つかりません。"))
    return order


def _require_transition(order: Order, status: str) -> None:
    if status not in OrderStatus.values:
        raise Conflict("invalid_status", _("不明な受注状態です: %(status)s") % {"status": status})
    if status not in ORDER_TRANSITIONS[order.status]:
        raise Conflict(
            "invalid_transition",
            _("受注状態を「%(old)s」から「%(new)s」に変更することはできません。")
            % {"old": order.get_status_display(), "new": OrderStatus(status).label},
        )


def _move(
    order: Order,
    status: str,
    *,
    actor_user: Any,
    note: str,
    kind: str,
    extra_fields: tuple = (),
    before_extra: dict | None = None,
    notify: bool = True,
) -> None:
    """Set the status (and its timestamp), save with update_fields and write the event. Row locked."""
    before = order.status
    order.status = status
    fields = ["status", "updated_at", *extra_fields]
    stamp = _TIMESTAMP_ON.get(status)
    if stamp:
        setattr(order, stamp, timezone.now())
        fields.append(stamp)
    order.save(update_fields=fields)
    event = OrderEvent.objects.create(
        order=order,
        actor=actor_user,
        kind=kind,
        before={"status": before, **(before_extra or {})},
        after={"status": status},
        note=note,
    )
    # The shop's mail for the status reached: written in this transaction, sent after commit.
    # notify=False: the caller mails the customer about this move itself (dunning's final notice).
    if notify:
        order_mail_on_move(order=order, order_event=event)
    order_status_changed.send(sender=Order, order=order, before=before, after=status, actor_user=actor_user)


def order_set_status(
    *, order_id: int, status: str, actor_user: Any = None, note: str = "", notify: bool = True
) -> Order:
    """Move an order along the status pipeline (ORDER_TRANSITIONS); Conflict for a forbidden move.

    The shop's mail for the new status (orders.mails) is queued unless notify=False.
    """
    with transaction.atomic():
        order = _lock_order(order_id)
        _require_transition(order, status)
        if status == OrderStatus.CANCELLED:
            return order_cancel(order_id=order_id, actor_user=actor_user, note=note, notify=notify)
        if order.status == OrderStatus.ON_HOLD and status == OrderStatus.NEW:
            return order_release_hold(order_id=order_id, actor_user=actor_user, note=note)
        _move(order, status, actor_user=actor_user, note=note, kind="status_changed", notify=notify)
        return order


def _stock_was_taken(order: Order) -> bool:
    # Generation takes no stock for an order it holds because stock was short; releasing takes it.
    return AttentionReason.STOCK_SHORT not in order.hold_reasons


def _quantities(order: Order) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for product_id, quantity in order.lines.values_list("product_id", "quantity"):
        wanted[product_id] = wanted.get(product_id, 0) + quantity
    return wanted


def order_release_hold(*, order_id: int, actor_user: Any = None, note: str = "") -> Order:
    """An admin releases a held order (保留解除): it becomes new, so charging and shipping pick it up.

    An order held for a stock shortfall takes its stock now; still short, the hold stays (Conflict).
    """
    with transaction.atomic():
        order = _lock_order(order_id)
        if order.status != OrderStatus.ON_HOLD:
            raise Conflict("not_on_hold", _("この受注は保留中ではありません。"))
        if not _stock_was_taken(order):
            _take_stock(_quantities(order))
        reasons = list(order.hold_reasons)
        order.hold_reasons = []
        _move(
            order,
            OrderStatus.NEW,
            actor_user=actor_user,
            note=note,
            kind="hold_released",
            extra_fields=("hold_reasons",),
            before_extra={"hold_reasons": reasons},
        )
        return order


# Statuses an order can still be held from (nothing has left the warehouse).
HOLDABLE = (OrderStatus.NEW, OrderStatus.AWAITING_PAYMENT, OrderStatus.READY, OrderStatus.ON_HOLD)


def order_hold(*, order_id: int, reason: str, actor_user: Any = None, note: str = "") -> bool:
    """Hold an order (要対応) for a reason, adding it to a held order's reasons; False when the order
    has already shipped or ended, or already carries the reason."""
    if reason not in AttentionReason.values:
        raise Conflict("invalid_reason", _("不明な保留理由です: %(reason)s") % {"reason": reason})
    with transaction.atomic():
        order = _lock_order(order_id)
        if order.status not in HOLDABLE or reason in order.hold_reasons:
            return False
        before = list(order.hold_reasons)
        order.hold_reasons = [*before, reason]
        if order.status == OrderStatus.ON_HOLD:
            order.save(update_fields=["hold_reasons", "updated_at"])
            OrderEvent.objects.create(
                order=order,
                actor=actor_user,
                kind="hold_reason_added",
                before={"hold_reasons": before},
                after={"hold_reasons": order.hold_reasons},
                note=note,
            )
            return True
        _move(
            order,
            OrderStatus.ON_HOLD,
            actor_user=actor_user,
            note=note,
            kind="held",
            extra_fields=("hold_reasons",),
            before_extra={"hold_reasons": before},
        )
        return True


def orders_hold_similar_to_blacklist(*, order_ids: list[int], actor_user: Any = None) -> list[int]:
    """Hold the open orders whose customer agrees with a blacklisted one on two or more keys.

    What staff run after blacklisting someone (their other accounts' open orders), and what an order
    made outside the nightly run gets checked with. The blacklist and the orders' customers are read
    in a fixed number of queries, matched in memory; only the orders to hold are then written, each
    through order_hold. Returns the ids held."""
    index = blacklist_index()
    if not index:
        return []
    orders = list(
        Order.objects.filter(pk__in=order_ids, status__in=HOLDABLE)
        .exclude(customer__is_blacklisted=True)
        .values_list("id", "customer_id", "ship_name", "ship_phone", "ship_postal_code", "ship_line1")
    )
    keys = customers_keys(Customer.objects.filter(id__in={row[1] for row in orders}))
    held = []
    for order_id, customer_id, name, phone, postal_code, line1 in orders:
        shipped_to = PersonKeys.of(name=name, phone=phone, postal_code=postal_code, address_line=line1)
        records = [*keys.get(customer_id, []), shipped_to]
        if index.matches(records, exclude=customer_id) and order_hold(
            order_id=order_id, reason=AttentionReason.SIMILAR_TO_BLACKLISTED, actor_user=actor_user
        ):
            held.append(order_id)
    return held


def _take_stock(wanted: dict[int, int]) -> None:
    try:
        stock_take(quantities=wanted)
    except StockShort as short:
        names = Product.objects.filter(id__in=short.product_ids).order_by("id").values_list("name", flat=True)
        raise Conflict(
            "stock_short", _("在庫が不足しています: %(names)s") % {"names": "、".join(names)}
        ) from None


def order_cancel(*, order_id: int, actor_user: Any = None, note: str = "", notify: bool = True) -> Order:
    """Cancel an order: stock taken for it goes back and a child order gives its 定期回数 back.

    orders_created (定期内受注数) stays: it counts orders ever created.
    """
    with transaction.atomic():
        order = _lock_order(order_id)
        _require_transition(order, OrderStatus.CANCELLED)
        if order.subscription_id is not None:
            # Subscription before products: the nightly batch locks in that order, so a cancel and a
            # batch on the same subscription wait for each other instead of deadlocking.
            actor = Actor.admin(actor_user) if actor_user is not None else Actor.system()
            subscription_give_back_cycle(
                subscription_id=order.subscription_id, sequence=order.sequence, actor=actor
            )
        if _stock_was_taken(order):
            stock_give_back(quantities=_quantities(order))
        _move(order, OrderStatus.CANCELLED, actor_user=actor_user, note=note, kind="cancelled", notify=notify)
        return order


def order_set_shipping(
    *,
    order_id: int,
    carrier_id: int | None,
    tracking_number: str,
    shipped_on: date | None,
    actor_user: Any = None,
    note: str = "",
) -> dict[str, tuple[Any, Any]]:
    """Record carrier, tracking number (配送伝票番号) and shipping date; returns what changed.

    Nothing changed → nothing written (no event), so a repeated import is a no-op.
    """
    with transaction.atomic():
        order = _lock_order(order_id)
        if carrier_id is not None and not Carrier.objects.filter(pk=carrier_id).exists():
            raise NotFound("carrier_not_found", _("配送業者が見つかりません。"))
        wanted = {
            "carrier_id": carrier_id,
            "tracking_number": tracking_number.strip(),
            "shipped_on": shipped_on,
        }
        changed = {
            name: (getattr(order, name), value)
            for name, value in wanted.items()
            if getattr(order, name) != value
        }
        if not changed:
            return {}
        for name, (_old, value) in changed.items():
            setattr(order, name, value)
        order.save(update_fields=[*changed, "updated_at"])
        OrderEvent.objects.create(
            order=order,
            actor=actor_user,
            kind="shipping_updated",
            before={name: _jsonable(old) for name, (old, _new) in changed.items()},
            after={name: _jsonable(new) for name, (_old, new) in changed.items()},
            note=note,
        )
        return changed


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def carriers_install_defaults() -> int:
    """Create the default carriers (orders.carriers) that are missing; returns how many were made."""
    made = 0
    for code, name, pattern, position in DEFAULT_CARRIERS:
        _carrier, created = Carrier.objects.get_or_create(
            code=code, defaults={"name": name, "tracking_url_pattern": pattern, "sort_order": position}
        )
        made += created
    return made


def order_create_for_subscription(
    *,
    subscription: Any,
    sequence: int,
    delivery_date: date,
    creation_date: date,
    priced: Any,
    hold_reasons: list[str] | None = None,
    actor_user: Any = None,
    note: str = "",
) -> Order:
    """One child order made outside the nightly run (a checkout's first order, a phone order), with
    the lines and totals of `priced` (a pricing.pricing.PricedOrder from the same PricingBook the
    nightly run prices with) and the stock taken in the caller's transaction.

    Conflict "stock_short" when a tracked product has too little stock: nothing is written (the
    caller's transaction rolls back). The unique (subscription, sequence) constraint makes a second
    order for the same delivery impossible.
    """
    return _order_create(
        customer_id=subscription.customer_id, subscription=subscription, sequence=sequence,
        address=subscription.shipping_address, method=subscription.payment_method, delivery_date=delivery_date,
        time_slot=subscription.delivery_time_slot, creation_date=creation_date, priced=priced,
        hold_reasons=hold_reasons, actor_user=actor_user, note=note,
    )  # fmt: skip


def order_create_one_off(
    *,
    customer: Any,
    address: Any,
    payment_method: Any,
    delivery_date: date,
    time_slot: str,
    creation_date: date,
    priced: Any,
    hold_reasons: list[str] | None = None,
    actor_user: Any = None,
    note: str = "",
) -> Order:
    """A one-off order (手動受注: a phone or fax order for a single purchase), without a subscription:
    the lines and totals of `priced` (price_order at the products' one-off prices), the stock taken
    in the caller's transaction (Conflict "stock_short" otherwise), `actor_user` on its history."""
    return _order_create(
        customer_id=customer.pk, subscription=None, sequence=None, address=address, method=payment_method,
        delivery_date=delivery_date, time_slot=time_slot, creation_date=creation_date, priced=priced,
        hold_reasons=hold_reasons, actor_user=actor_user, note=note,
    )  # fmt: skip


def _order_create(
    *,
    customer_id: int,
    subscription: Any,
    sequence: int | None,
    address: Any,
    method: Any,
    delivery_date: date,
    time_slot: str,
    creation_date: date,
    priced: Any,
    hold_reasons: list[str] | None,
    actor_user: Any,
    note: str,
) -> Order:
    reasons = sorted(set(hold_reasons or ()))
    with transaction.atomic():
        order = Order.objects.create(
            customer_id=customer_id,
            subscription=subscription,
            sequence=sequence,
            status=OrderStatus.ON_HOLD if reasons else OrderStatus.NEW,
            hold_reasons=reasons,
            creation_date=creation_date,
            delivery_date=delivery_date,
            delivery_time_slot=time_slot,
            ship_name=address.recipient_name if address else "",
            ship_postal_code=address.postal_code if address else "",
            ship_prefecture=address.prefecture if address else "",
            ship_city=address.city if address else "",
            ship_line1=address.line1 if address else "",
            ship_line2=address.line2 if address else "",
            ship_phone=address.phone if address else "",
            ship_remote_island=bool(address and address.is_remote_island),
            payment_method=method,
            payment_kind=method.kind if method else "",
            **priced.order_fields(),
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                product_id=line.product_id,
                sku=line.sku,
                product_name=line.product_name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                line_total=line.line_total,
            )
            for line in priced.lines
        )
        OrderEvent.objects.create(
            order=order,
            actor=actor_user,
            kind="created",
            before={},
            after={"status": order.status, "sequence": sequence, "total": order.total},
            note=note,
        )
        if AttentionReason.STOCK_SHORT not in reasons:
            # Last, so the product rows stay locked only until the caller commits.
            wanted: dict[int, int] = {}
            for line in priced.lines:
                wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
            _take_stock(wanted)
        return order
