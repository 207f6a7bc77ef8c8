"""手動受注: a one-off order without a subscription, taken by staff on the phone or by fax.

The checkout's path (storefront.services), without the subscription: one_off_quote checks every
choice and prices the order with pricing's price_order at the products' one-off prices (list price
lowered by the sale, tier and group prices; bulk discounts for every course; shipping, COD fee and
coupon as for any order), and checks the stock, so a shortfall is a refusal in words before anything
is written. one_off_place writes it once per key, in one transaction, through the owning apps'
services: customers (a new guest and the address, as checkout makes them), billing (the payment
method), orders (order_create_one_off takes the stock again, under lock), pricing (the coupon use).
After commit the order is charged or left awaiting payment, and the shop's order rules run, as for
a checkout's first order. Kept apart from services.py, which is at the size limit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from billing.models import PaymentKind
from billing.services.payments import payment_charge_order
from catalog.bulk import stock_short_of
from catalog.models import Product
from core.errors import Conflict, NotFound
from customers.models import Customer
from orders.mails import order_mail_received
from orders.models import Order
from orders.rules.bulk import order_rules_apply
from orders.services import order_create_one_off
from pricing.bulk import benefits_bulk_record
from pricing.models import Coupon
from pricing.pricing import PricedOrder
from pricing.selectors import PricingBook, PricingCatalog
from pricing.services.coupons import coupon_refusal_message
from subscriptions.models import AttentionReason, PointsReservation, ShopPolicy, Subscription, TimeSlot
from subscriptions.selectors import first_creation_date, today_in_shop

from . import terms
from .first_dates import first_delivery_range
from .models import Checkout, CheckoutChannel
from .services import PAYMENT_KINDS, _address, _coupon, _customer, _error, _payment_method, _where

MAX_LINES = 10
MAX_LINE_QUANTITY = 99


@dataclass(frozen=True)
class OneOffInput:
    """What staff took down. The customer, address and payment fields are the checkout's."""

    items: tuple[tuple[int, int], ...]  # (product id, quantity)
    delivery_date: date | None = None
    time_slot: str = ""
    # A new customer (a guest; ignored when the order is for an existing customer).
    email: str = ""
    name: str = ""
    name_kana: str = ""
    phone: str = ""
    # The delivery address: a saved one, or a new one (prefecture and city from the postal code).
    address_id: int | None = None
    recipient_name: str = ""
    postal_code: str = ""
    city: str = ""
    line1: str = ""
    line2: str = ""
    payment_kind: str = PaymentKind.COD
    payment_method_id: int | None = None  # a saved card (staff never take card numbers)
    coupon_code: str = ""
    remarks: str = ""  # staff's note: the order's history shows it
    # Read by the checkout helpers; a one-off order never sets them.
    password: str = ""
    password_hash: str = ""
    stripe_payment_method_id: str = ""

    def request_hash(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class OneOffQuote:
    items: list[tuple[int, int]]
    delivery_date: date
    earliest: date
    latest: date
    time_slot: str
    payment_kind: str
    prefecture: str
    city: str
    remote_island: bool
    coupon: Coupon | None
    priced: PricedOrder


def _items(raw: tuple[tuple[int, int], ...]) -> tuple[list[tuple[int, int]], dict[int, Product]]:
    """The lines merged by product, checked: known, on sale, a sane quantity, in stock now."""
    merged: dict[int, int] = {}
    for product_id, quantity in raw:
        if not isinstance(quantity, int) or not 1 <= quantity <= MAX_LINE_QUANTITY:
            raise _error(
                "invalid_quantity",
                _("数量は1〜%(max)dでご指定ください。") % {"max": MAX_LINE_QUANTITY},
                "items",
            )
        merged[product_id] = merged.get(product_id, 0) + quantity
    if not merged:
        raise _error("no_items", _("商品を1つ以上ご指定ください。"), "items")
    if len(merged) > MAX_LINES:
        raise _error("too_many_items", _("商品は%(max)d種類までです。") % {"max": MAX_LINES}, "items")
    products = Product.objects.in_bulk(list(merged))
    if len(products) != len(merged):
        raise NotFound("product_not_found", _("商品が見つかりません。"), field="items")
    inactive = [p.name for p in products.values() if not p.is_active]
    if inactive:
        raise _error(
            "product_inactive",
            _("販売中ではない商品です: %(names)s") % {"names": "、".join(inactive)},
            "items",
        )
    stock = {pid: p.stock for pid, p in products.items() if p.stock is not None}
    short = stock_short_of(stock, merged.items())
    if short:
        raise Conflict(
            "stock_short",
            _("在庫が不足しています: %(lines)s")
            % {
                "lines": "、".join(
                    _("%(name)s（在庫%(left)d個・ご注文%(wanted)d個）")
                    % {"name": products[pid].name, "left": max(0, stock[pid]), "wanted": merged[pid]}
                    for pid in short
                )
            },
            field="items",
        )
    return list(merged.items()), products


def _delivery(data: OneOffInput, policy: ShopPolicy, today: date) -> tuple[date, date, date]:
    calendar = policy.business_calendar()
    earliest, latest = first_delivery_range(
        first_creation=first_creation_date(policy, today), today=today, calendar=calendar,
        lead_days=policy.lead_days, window_days=policy.date_change_max_days,
    )  # fmt: skip
    chosen = data.delivery_date or earliest
    if chosen < today:  # staff may promise any later date (a customer's own wish), never a past one
        raise _error(
            "date_unavailable",
            _("お届け日には%(earliest)s以降の日付をご指定ください。")
            % {"earliest": terms.format_date(today)},
            "delivery_date",
        )
    return chosen, earliest, latest


def one_off_quote(
    *, data: OneOffInput, customer: Customer | None = None, today: date | None = None
) -> OneOffQuote:
    """Check every choice and price the order as it will be created. Raises DomainError (a 4xx with a
    code, a message and the field) for the first bad choice, the stock shortfall included."""
    today = today or today_in_shop()
    items, _products = _items(data.items)
    policy = ShopPolicy.current()
    delivery, earliest, latest = _delivery(data, policy, today)
    if data.time_slot not in TimeSlot.values:
        raise _error("invalid_time_slot", _("お届け時間帯が正しくありません。"), "time_slot")
    if data.payment_kind not in PAYMENT_KINDS:
        raise _error("invalid_payment_kind", _("お支払い方法が正しくありません。"), "payment_kind")
    prefecture, city, remote = _where(data, customer)
    coupon = _coupon(data.coupon_code)
    group_id = customer.group_id if customer else None
    # No course: PricingCatalog prices each product at its one-off price.
    draft = Subscription(customer_id=customer.pk if customer else None, coupon=coupon,
                         points_reservation=PointsReservation.NONE)  # fmt: skip
    catalog = PricingCatalog.for_batch(
        on=today, product_filter=Q(pk__in=[pid for pid, _q in items]), course_ids=set(),
        group_ids={group_id} if group_id else set(),
    )  # fmt: skip
    book = PricingBook.load(
        subscriptions=[draft], on=today, catalog=catalog, customers={draft.customer_id: (group_id, False)}
    )
    priced = book.price_subscription_order(
        subscription=draft, items=items, price_sequence=1, payment_kind=data.payment_kind,
        address_prefecture=prefecture, remote_island=remote, gift_wrapping=False,
    )  # fmt: skip
    if priced.coupon_refusal:
        raise _error(
            priced.coupon_refusal, coupon_refusal_message(priced.coupon_refusal, coupon), "coupon_code"
        )
    return OneOffQuote(
        items=items, delivery_date=delivery, earliest=earliest, latest=latest, time_slot=data.time_slot,
        payment_kind=data.payment_kind, prefecture=prefecture, city=city, remote_island=remote, coupon=coupon,
        priced=priced,
    )  # fmt: skip


@dataclass(frozen=True)
class OneOffResult:
    checkout: Checkout
    order: Order
    replayed: bool = False


def one_off_place(
    *,
    data: OneOffInput,
    key: str,
    staff_user: object,
    customer: Customer | None = None,
    today: date | None = None,
) -> OneOffResult:
    """Create the one-off order once per `key` (a double submit replays; another body is 409), with
    `staff_user` on its history; then charge it or leave it awaiting payment, and run the rules."""
    key = (key or "").strip()
    if not 8 <= len(key) <= 100:
        raise _error(
            "idempotency_key_invalid", _("冪等キー（Idempotency-Key）は8〜100文字で指定してください。")
        )
    request_hash = data.request_hash()
    today = today or today_in_shop()
    with transaction.atomic():
        try:
            with transaction.atomic():
                checkout = Checkout.objects.create(
                    key=key, channel=CheckoutChannel.ONE_OFF, request_hash=request_hash, staff=staff_user
                )
        except IntegrityError:
            result = _replay(key, request_hash)
        else:
            result = _place(checkout, data, customer, staff_user, today)
    if not result.replayed:
        payment_charge_order(order_id=result.order.pk, today=today)
        order_rules_apply(order_ids=[result.order.pk], actor_user=staff_user)
        result.order.refresh_from_db()
    return result


def _replay(key: str, request_hash: str) -> OneOffResult:
    checkout = Checkout.objects.select_related("order").get(key=key)
    if checkout.request_hash != request_hash or checkout.order_id is None:
        raise Conflict("idempotency_key_reused", _("この冪等キーは別の内容のお申し込みに使われています。"))
    return OneOffResult(checkout, checkout.order, replayed=True)


def _place(
    checkout: Checkout, data: OneOffInput, customer: Customer | None, staff_user: object, today: date
) -> OneOffResult:
    # A refusal below rolls everything back, a new customer included.
    customer = _customer(data, customer)
    quote = one_off_quote(data=data, customer=customer, today=today)
    address = _address(data, customer, quote)
    method = _payment_method(data, customer)
    holds = [AttentionReason.BLACKLISTED.value] if customer.is_blacklisted else []
    order = order_create_one_off(
        customer=customer, address=address, payment_method=method, delivery_date=quote.delivery_date,
        time_slot=quote.time_slot, creation_date=today, priced=quote.priced, hold_reasons=holds,
        actor_user=staff_user, note=data.remarks[:1000] or _ONE_OFF_NOTE,
    )  # fmt: skip
    if quote.priced.coupon_id is not None:
        benefits_bulk_record(
            orders=[(order.pk, customer.pk, None, None, quote.priced.coupon_id, 0)], on=today
        )
    checkout.customer = customer
    checkout.order = order
    checkout.save(update_fields=["customer", "order"])
    order_mail_received(order=order)
    return OneOffResult(checkout, order)


# The order history's note when staff wrote none (the shop's language, like the nightly run's notes).
_ONE_OFF_NOTE = "手動受注（単品）"
