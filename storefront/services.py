"""The checkout: one service for the web form, the headless API and staff phone orders.

checkout_quote prices a checkout without writing anything (the final-confirmation screen shows it);
checkout_place writes it, in one transaction, through the owning apps' services: customers (the
customer and the address), billing (the payment method), subscriptions (the subscription and its
schedule advance), orders (the first order, taking its stock), pricing (coupon and point use). After
commit the first order is charged or left awaiting payment as the shop's payment policy says.

Idempotent by key: the Checkout row is the first write, so a repeat with the same key waits for the
first to commit and then returns its result (the same body) or refuses (another body: 409).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.models import PaymentKind, PaymentMethod
from billing.services.payment_methods import (
    payment_method_offline,
    payment_method_owned,
    payment_method_save,
)
from billing.services.payments import payment_charge_order
from catalog.models import Course, CourseCycle
from core.errors import Conflict, DomainError, NotFound
from customers.islands import is_remote_island
from customers.models import Address, Customer
from customers.postal import postal_lookup
from customers.services import address_create, customer_create, customer_set_language
from notifications.services import notification_send
from orders.mails import order_mail_received
from orders.models import Order
from orders.rules.bulk import order_rules_apply
from orders.services import order_create_for_subscription
from pricing.bulk import benefits_bulk_record
from pricing.delivery_display import DeliveryShown, delivery_shown
from pricing.models import Coupon, CouponAppliesTo
from pricing.pricing import PricedOrder
from pricing.selectors import PricingBook, coupon_terms, points_balance
from pricing.services.coupons import coupon_refusal_message
from subscriptions.actors import Actor
from subscriptions.cycles import Cycle, delivery_date
from subscriptions.models import AttentionReason, PointsReservation, ShopPolicy, Subscription, TimeSlot
from subscriptions.selectors import (
    course_cycle_to_cycle,
    first_creation_date,
    today_in_shop,
    upcoming_deliveries,
)
from subscriptions.services import subscription_create, subscription_record_order

from . import terms
from .confirmation import confirmation_sections, terms_version
from .first_dates import first_delivery_choices, first_delivery_range
from .models import Checkout, CheckoutChannel, FinalConfirmation

MAX_QUANTITY = 10
PAYMENT_KINDS = (PaymentKind.CARD, PaymentKind.BANK_TRANSFER, PaymentKind.KONBINI, PaymentKind.COD)


@dataclass(frozen=True)
class CheckoutInput:
    """What a customer (or staff on the phone) chose. Strings as typed; checked by checkout_quote."""

    course_code: str
    quantity: int = 1
    cycle_id: int | None = None
    first_delivery_date: date | None = None
    time_slot: str = ""
    # A new customer (ignored when the checkout has a signed-in customer).
    email: str = ""
    name: str = ""
    name_kana: str = ""
    phone: str = ""
    password: str = ""
    password_hash: str = ""  # the web form keeps only this between its two steps
    # The delivery address: a saved one, or a new one (prefecture and city from the postal code).
    address_id: int | None = None
    recipient_name: str = ""
    postal_code: str = ""
    city: str = ""
    line1: str = ""
    line2: str = ""
    # Payment: a kind, and for cards a saved method or a new Stripe PaymentMethod (pm_…).
    payment_kind: str = PaymentKind.CARD
    payment_method_id: int | None = None
    stripe_payment_method_id: str = ""
    coupon_code: str = ""
    points: int = 0
    # 流入元: the landing page's UTM parameters and referrer.
    source: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    remarks: str = ""
    # The terms_version of the confirmation screen the customer saw; placing refuses a changed quote.
    confirmed_version: str = ""

    def request_hash(self) -> str:
        data = asdict(self)
        data.pop("password")  # never kept, not even hashed
        data.pop("password_hash")  # salted: differs on each form post
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Quote:
    course: Course
    cycle: Cycle
    cycle_row: CourseCycle
    quantity: int
    items: list[tuple[int, int]]
    first_delivery_date: date
    first_creation_date: date
    second_delivery_date: date
    second_creation_date: date
    earliest: date
    latest: date
    time_slot: str
    payment_kind: str
    prefecture: str
    city: str
    remote_island: bool
    coupon: Coupon | None
    points: int
    first: PricedOrder
    later: PricedOrder
    min_total: int | None
    course_version: str
    terms_version: str = ""
    sections: list[dict] = field(default_factory=list)
    delivery: DeliveryShown | None = None  # the method every delivery gets, and why not a cheaper one

    @property
    def date_choices(self) -> list[date]:
        return first_delivery_choices(earliest=self.earliest, latest=self.latest)


def _error(code: str, message: str, field: str | None = None, status: int = 400) -> DomainError:
    return DomainError(code, message, field=field, status=status)


def _course(code: str, *, staff: bool) -> Course:
    course = Course.objects.filter(code=code).prefetch_related("items__product", "cycles").first()
    if course is None or (not course.is_active and not staff):
        raise NotFound("course_not_found", _("コースが見つかりません。"))
    if not list(course.items.all()):
        raise _error("no_items", _("このコースには商品がありません。"))
    return course


def _cycle(course: Course, cycle_id: int | None) -> CourseCycle:
    cycles = list(course.cycles.all())
    if not cycles:
        raise _error("no_cycles", _("このコースにはお届け周期が設定されていません。"))
    if cycle_id is None:
        return next((c for c in cycles if c.is_default), cycles[0])
    chosen = next((c for c in cycles if c.pk == cycle_id), None)
    if chosen is None:
        raise _error("cycle_not_allowed", _("このコースではお選びの周期はご利用いただけません。"), "cycle_id")
    return chosen


def _where(data: CheckoutInput, customer: Customer | None) -> tuple[str, str, bool]:
    """(prefecture, city, remote island) of the delivery address."""
    if data.address_id is not None:
        address = _owned_address(data.address_id, customer)
        return address.prefecture, address.city, address.is_remote_island
    area = postal_lookup(data.postal_code)
    if area is None:
        raise _error(
            "postal_code_unknown",
            _("郵便番号「%(code)s」は見つかりません。7桁の郵便番号をご確認ください。")
            % {"code": data.postal_code},
            "postal_code",
        )
    # 離島 as address_create will mark the new address: the quote charges the surcharge the orders will.
    remote = is_remote_island(prefecture=area.prefecture, city=area.city, town=area.town)
    return area.prefecture, data.city.strip() or area.city + area.town, remote


def _owned_address(address_id: int, customer: Customer | None) -> Address:
    address = Address.objects.filter(pk=address_id, customer=customer).first() if customer else None
    if address is None:
        raise NotFound("address_not_found", _("お届け先が見つかりません。"), field="address_id")
    return address


def _coupon(code: str) -> Coupon | None:
    code = code.strip()
    if not code:
        return None
    coupon = Coupon.objects.filter(code__iexact=code).first()
    if coupon is None or not coupon.is_active:
        raise _error("coupon_not_found", coupon_refusal_message("coupon_not_found"), "coupon_code")
    return coupon


def _first_date(
    data: CheckoutInput, *, staff: bool, today: date, policy: ShopPolicy
) -> tuple[date, date, date]:
    """(first delivery date, earliest, latest): the chosen date checked against the shop's window
    (staff may place any date from today on, e.g. a phone order for a later month)."""
    earliest, latest = first_delivery_range(
        first_creation=first_creation_date(policy, today), today=today, calendar=policy.business_calendar(),
        lead_days=policy.lead_days, window_days=policy.date_change_max_days,
    )  # fmt: skip
    first_date = data.first_delivery_date or earliest
    if not earliest <= first_date <= latest and not (staff and first_date >= today):
        raise _error(
            "date_unavailable",
            _("初回お届け日は%(earliest)s〜%(latest)sの間でお選びください。")
            % {"earliest": terms.format_date(earliest), "latest": terms.format_date(latest)},
            "first_delivery_date",
        )
    return first_date, earliest, latest


def _check_choices(data: CheckoutInput) -> None:
    """Quantity, time slot and payment kind are among the offered ones."""
    if not 1 <= data.quantity <= MAX_QUANTITY:
        raise _error(
            "invalid_quantity", _("数量は1〜%(max)dでお選びください。") % {"max": MAX_QUANTITY}, "quantity"
        )
    if data.time_slot not in TimeSlot.values:
        raise _error("invalid_time_slot", _("お届け時間帯が正しくありません。"), "time_slot")
    if data.payment_kind not in PAYMENT_KINDS:
        raise _error("invalid_payment_kind", _("お支払い方法が正しくありません。"), "payment_kind")


def _check_points(points: int, customer: Customer | None) -> None:
    """Points are for signed-in members, up to their balance."""
    if points < 0:
        raise _error("invalid_points", _("ポイントは0以上で入力してください。"), "points")
    if points and (customer is None or not customer.is_member):
        raise _error(
            "points_members_only", _("ポイントは会員の方がログインしてご利用いただけます。"), "points"
        )
    if points and points > points_balance(customer):
        raise _error(
            "points_insufficient",
            _("ポイント残高（%(balance)s pt）を超えています。")
            % {"balance": f"{points_balance(customer):,}"},
            "points",
        )


def _price_first_and_later(
    *, data: CheckoutInput, customer: Customer | None, course: Course, coupon: Coupon | None,
    items: list[tuple[int, int]], prefecture: str, remote: bool, today: date,
) -> tuple[PricingBook, PricedOrder, PricedOrder]:  # fmt: skip
    """The first order and each later one, priced by the nightly run's book: the first with the
    points and the coupon, later ones without points and with the coupon only if it outlives the
    first. A coupon that never applies is refused; one for later deliveries only (2回目〜) is fine."""
    draft = Subscription(
        customer_id=customer.pk if customer else None,
        course=course,
        coupon=coupon,
        points_reservation=PointsReservation.AMOUNT if data.points else PointsReservation.NONE,
        points_reservation_amount=data.points,
        delivery_time_slot=data.time_slot,
    )
    book = PricingBook.load(subscriptions=[draft], on=today)
    first = book.price_subscription_order(
        subscription=draft, items=items, price_sequence=1, payment_kind=data.payment_kind,
        address_prefecture=prefecture, remote_island=remote, gift_wrapping=False,
    )  # fmt: skip
    later_coupon = coupon_terms(coupon) if coupon and coupon.applies_to != CouponAppliesTo.NEXT else None
    later = book.catalog.price(
        items=items, course_id=course.pk, group_id=customer.group_id if customer else None,
        sequence=2, payment_kind=data.payment_kind, prefecture=prefecture, remote_island=remote,
        coupon=later_coupon, points_requested=0, time_slot=bool(data.time_slot), gift_wrapping=False,
    )  # fmt: skip
    refusal = first.coupon_refusal
    if refusal and (refusal != "coupon_not_applicable" or later.coupon_id is None):
        raise _error(refusal, coupon_refusal_message(refusal, coupon), "coupon_code")
    return book, first, later


def checkout_quote(
    *, data: CheckoutInput, customer: Customer | None = None, staff: bool = False, today: date | None = None
) -> Quote:
    """Check every choice and price the first and later deliveries exactly as the nightly run will.

    Raises DomainError (a 4xx with a code, a message and the field) for the first bad choice.
    """
    today = today or today_in_shop()
    course = _course(data.course_code, staff=staff)
    cycle_row = _cycle(course, data.cycle_id)
    _check_choices(data)
    policy = ShopPolicy.current()
    first_date, earliest, latest = _first_date(data, staff=staff, today=today, policy=policy)
    prefecture, city, remote = _where(data, customer)
    coupon = _coupon(data.coupon_code)
    _check_points(data.points, customer)
    cycle = course_cycle_to_cycle(cycle_row)
    items = [(item.product_id, item.quantity * data.quantity) for item in course.items.all()]
    book, first, later = _price_first_and_later(
        data=data, customer=customer, course=course, coupon=coupon, items=items,
        prefecture=prefecture, remote=remote, today=today,
    )  # fmt: skip
    calendar = policy.business_calendar()
    second = delivery_date(cycle, anchor_date=first_date, anchor_sequence=1, sequence=2)
    quote = Quote(
        course=course,
        cycle=cycle,
        cycle_row=cycle_row,
        quantity=data.quantity,
        items=items,
        first_delivery_date=first_date,
        first_creation_date=max(today, calendar.creation_date(first_date, policy.lead_days)),
        second_delivery_date=second,
        second_creation_date=calendar.creation_date(second, policy.lead_days),
        earliest=earliest,
        latest=latest,
        time_slot=data.time_slot,
        payment_kind=data.payment_kind,
        prefecture=prefecture,
        city=city,
        remote_island=remote,
        coupon=coupon,
        points=first.points_used,
        first=first,
        later=later,
        min_total=terms.minimum_total(course.min_deliveries, first.total, later.total),
        course_version=terms.course_version(course, book.catalog),
    )
    quote.delivery = delivery_shown(
        catalog=book.catalog, priced=first, prefecture=prefecture, remote_island=remote
    )
    quote.terms_version = terms_version(quote)
    quote.sections = confirmation_sections(quote, policy)
    return quote


@dataclass(frozen=True)
class CheckoutResult:
    checkout: Checkout
    subscription: Subscription
    order: Order
    replayed: bool = False


def _replay(key: str, request_hash: str) -> CheckoutResult:
    checkout = Checkout.objects.select_related("subscription", "order").get(key=key)
    if checkout.request_hash != request_hash:
        raise Conflict(
            "idempotency_key_reused",
            _("この冪等キーは別の内容のお申し込みに使われています。"),
        )
    return CheckoutResult(checkout, checkout.subscription, checkout.order, replayed=True)


def _customer(data: CheckoutInput, customer: Customer | None) -> Customer:
    if customer is not None:
        return customer
    if not data.email.strip():
        raise _error("email_required", _("メールアドレスを入力してください。"), "email")
    # With a password the customer is a member (my page, points); without one, a guest.
    created = customer_create(
        email=data.email, name=data.name, name_kana=data.name_kana, phone=data.phone,
        password=data.password or None, password_hash=data.password_hash or None,
        is_member=bool(data.password or data.password_hash),
    )  # fmt: skip
    language = translation.get_language() or ""
    if customer_set_language(user_id=created.user_id, language=language):
        created.language = language
    return created


def _address(data: CheckoutInput, customer: Customer, quote: Quote) -> Address:
    if data.address_id is not None:
        return _owned_address(data.address_id, customer)
    return address_create(
        customer=customer, recipient_name=data.recipient_name or customer.name, postal_code=data.postal_code,
        prefecture=quote.prefecture, city=quote.city, line1=data.line1, line2=data.line2,
        phone=data.phone or customer.phone,
    )  # fmt: skip


def _payment_method(data: CheckoutInput, customer: Customer) -> PaymentMethod:
    if data.payment_kind != PaymentKind.CARD:
        return payment_method_offline(customer=customer, kind=data.payment_kind)
    if data.payment_method_id is not None:
        method = payment_method_owned(customer=customer, payment_method_id=data.payment_method_id)
        if method.kind != PaymentKind.CARD:
            raise _error(
                "invalid_payment_method", _("クレジットカードをお選びください。"), "payment_method_id"
            )
        return method
    if not data.stripe_payment_method_id:
        raise _error("card_required", _("カード情報を入力してください。"), "stripe_payment_method_id")
    return payment_method_save(customer=customer, stripe_payment_method_id=data.stripe_payment_method_id)


def checkout_place(
    *,
    data: CheckoutInput,
    key: str,
    channel: str = CheckoutChannel.WEB,
    customer: Customer | None = None,
    staff_user: object = None,
    today: date | None = None,
) -> CheckoutResult:
    """Place the checkout once per `key`: customer (if new), address, payment method, subscription
    and its first order in one transaction, then the first charge (or the offline payment's
    instructions) after commit. A repeat of the key returns the first result; another body is 409."""
    key = (key or "").strip()
    if not 8 <= len(key) <= 100:
        raise _error(
            "idempotency_key_invalid", _("冪等キー（Idempotency-Key）は8〜100文字で指定してください。")
        )
    request_hash = data.request_hash()
    today = today or today_in_shop()
    staff = staff_user is not None
    actor = Actor.admin(staff_user) if staff else Actor.system()
    with transaction.atomic():
        try:
            with transaction.atomic():
                checkout = Checkout.objects.create(
                    key=key, channel=channel, request_hash=request_hash, staff=staff_user if staff else None
                )
        except IntegrityError:
            result = _replay(key, request_hash)
        else:
            result = _place(checkout, data, customer, actor, staff=staff, today=today)
    if not result.replayed:
        # Outside the transaction: the gateway call must not hold row locks, and a failed charge
        # leaves the order as the nightly run's would be (payment failed, dunning retries).
        payment_charge_order(order_id=result.order.pk, today=today)
        # The shop's order rules, as the nightly stage runs them: after the charge, so they see
        # its outcome (and 出荷待ち never skips a charge); the night then finds the order done.
        order_rules_apply(order_ids=[result.order.pk], actor_user=staff_user)
        result.order.refresh_from_db()
        result.subscription.refresh_from_db()
    return result


def _place(
    checkout: Checkout,
    data: CheckoutInput,
    customer: Customer | None,
    actor: Actor,
    *,
    staff: bool,
    today: date,
) -> CheckoutResult:
    # A refusal anywhere below rolls the whole transaction back, the new customer included, so the
    # quote is made once, with the customer (points, saved rows) it is for.
    customer = _customer(data, customer)
    if not staff:
        actor = Actor.customer(customer.user)
    quote = checkout_quote(data=data, customer=customer, staff=staff, today=today)
    if data.confirmed_version and data.confirmed_version != quote.terms_version:
        raise Conflict(
            "terms_changed",
            _("お申し込み内容（価格・お届け日など）が変わりました。もう一度ご確認ください。"),
        )
    address = _address(data, customer, quote)
    method = _payment_method(data, customer)
    subscription = subscription_create(
        customer=customer, course=quote.course, cycle=quote.cycle, first_delivery_date=quote.first_delivery_date,
        items=[(item.product, item.quantity * quote.quantity) for item in quote.course.items.all()],
        time_slot=quote.time_slot, address=address, payment_method=method, actor=actor,
        source=data.source[:100], coupon=quote.coupon if quote.later.coupon_id else None, remarks=data.remarks,
        utm={"source": data.utm_source[:100], "medium": data.utm_medium[:100], "campaign": data.utm_campaign[:100]},
    )  # fmt: skip
    holds = [AttentionReason.BLACKLISTED.value] if customer.is_blacklisted else []
    order = order_create_for_subscription(
        subscription=subscription, sequence=1, delivery_date=quote.first_delivery_date,
        creation_date=today, priced=quote.first, hold_reasons=holds,
        actor_user=actor.user if staff else None,
    )  # fmt: skip
    if quote.first.coupon_id is not None or quote.first.points_used:
        benefits_bulk_record(
            orders=[
                (order.pk, customer.pk, subscription.pk, 1, quote.first.coupon_id, quote.first.points_used)
            ],
            on=today,
        )
    subscription_record_order(
        subscription_id=subscription.pk, sequence=1, delivery_date=quote.first_delivery_date,
        order_id=order.pk, actor=actor,
    )  # fmt: skip
    checkout.customer = customer
    checkout.subscription = subscription
    checkout.order = order
    checkout.save(update_fields=["customer", "subscription", "order"])
    FinalConfirmation.objects.create(
        subscription=subscription,
        checkout=checkout,
        course=quote.course,
        course_version=quote.course_version,
        language=translation.get_language() or "ja",
        shown={"terms_version": quote.terms_version, "sections": quote.sections},
        button_label=_(terms.BUTTON_LABEL),
        confirmed_at=timezone.now(),
    )
    order_mail_received(order=order)
    _mail_terms(customer, subscription, quote)
    return CheckoutResult(checkout, subscription, order)


def _mail_terms(customer: Customer, subscription: Subscription, quote: Quote) -> None:
    """The terms mail beside the shop's サンクスメール: what was confirmed (amounts, payment, how to
    cancel) and the deliveries ahead, in the customer's language, through the outbox."""
    subscription.refresh_from_db(fields=["next_sequence", "next_delivery_date", "next_creation_date"])
    notification_send(
        key=f"checkout-terms:{subscription.pk}",
        kind="checkout_terms",
        to_email=customer.user.email,
        customer=customer,
        context={
            "customer_name": customer.name,
            "course_name": quote.course.name,
            "subscription_id": subscription.pk,
            "sections": quote.sections,
            "upcoming": [
                {"sequence": 1, "delivery_date": quote.first_delivery_date},
                *(
                    {"sequence": r.sequence, "delivery_date": r.delivery_date}
                    for r in upcoming_deliveries(subscription, 3)
                ),
            ],
        },
    )
