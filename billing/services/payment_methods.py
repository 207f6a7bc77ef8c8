"""Stored payment methods: save a card through a SetupIntent, list, make default, detach.

The card number and CVC go from the customer's browser to Stripe (Stripe Elements); we receive a
PaymentMethod id and keep only brand, last 4 digits and expiry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from billing.gateways import CardDetails, GatewayError, GatewayUnavailable, get_gateway
from billing.models import PaymentKind, PaymentMethod
from core.errors import Conflict, DomainError, NotFound
from customers.models import Customer
from subscriptions.actors import Actor
from subscriptions.models import Subscription, SubscriptionStatus
from subscriptions.services import subscription_change_payment_method

# Subscriptions that will still be charged: a card they use cannot simply disappear.
LIVE_SUBSCRIPTION = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED, SubscriptionStatus.SUSPENDED)


def _gateway_call(fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    try:
        return fn(*args, **kwargs)
    except GatewayUnavailable as exc:
        raise DomainError(
            "gateway_unavailable",
            _("決済サービスに接続できませんでした。時間をおいて再度お試しください。"),
            status=503,
        ) from exc
    except GatewayError as exc:
        if exc.code in (
            "card_declined",
            "expired_card",
            "incorrect_cvc",
            "processing_error",
            "incorrect_number",
        ):
            raise DomainError(
                "card_declined", _("このカードはご利用いただけません。別のカードをお試しください。")
            ) from exc
        raise DomainError("gateway_error", _("カードを登録できませんでした。")) from exc


def stripe_customer_id(customer: Customer) -> str:
    """The customer's Stripe customer, created on first need (row lock: created once)."""
    if customer.stripe_customer_id:
        return customer.stripe_customer_id
    with transaction.atomic():
        locked = Customer.objects.select_for_update().select_related("user").get(pk=customer.pk)
        if not locked.stripe_customer_id:
            locked.stripe_customer_id = _gateway_call(
                get_gateway().customer_create,
                email=locked.user.email,
                name=locked.name,
                reference=str(locked.pk),
            )
            locked.save(update_fields=["stripe_customer_id"])
    customer.stripe_customer_id = locked.stripe_customer_id
    return customer.stripe_customer_id


def payment_method_setup_intent(*, customer: Customer) -> dict[str, str]:
    """Start saving a card: the browser confirms this SetupIntent with Stripe.js."""
    intent = _gateway_call(get_gateway().setup_intent_create, customer_id=stripe_customer_id(customer))
    return {
        "setup_intent_id": intent.id,
        "client_secret": intent.client_secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }


def payment_method_save(*, customer: Customer, stripe_payment_method_id: str) -> PaymentMethod:
    """Keep a card the browser has confirmed. Idempotent: saving the same card twice is one row."""
    if not stripe_payment_method_id.startswith("pm_"):
        raise DomainError(
            "invalid_payment_method", _("カード情報が正しくありません。"), field="stripe_payment_method_id"
        )
    gateway = get_gateway()
    cus = stripe_customer_id(customer)
    card = _gateway_call(gateway.payment_method_retrieve, stripe_payment_method_id)
    if card.customer_id and card.customer_id != cus:
        raise NotFound("payment_method_not_found", _("お支払い方法が見つかりません。"))
    if not card.customer_id:
        # Stripe attaches the card when the SetupIntent succeeds; localstripe does not, so we do.
        card = _gateway_call(
            gateway.payment_method_attach, payment_method_id=stripe_payment_method_id, customer_id=cus
        )
    return payment_method_store_card(customer=customer, card=card)


def payment_method_store_card(*, customer: Customer, card: CardDetails) -> PaymentMethod:
    fields = {
        "kind": PaymentKind.CARD,
        "brand": card.brand[:20],
        "last4": card.last4[:4],
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "is_active": True,
    }
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        try:
            with transaction.atomic():
                method, _created = PaymentMethod.objects.update_or_create(
                    customer=customer, stripe_payment_method_id=card.id, defaults=fields
                )
        except IntegrityError:
            method = PaymentMethod.objects.get(customer=customer, stripe_payment_method_id=card.id)
        has_default = (
            customer.payment_methods.filter(is_active=True, is_default=True).exclude(pk=method.pk).exists()
        )
        if not has_default and not method.is_default:
            method.is_default = True
            method.save(update_fields=["is_default"])
        return method


def _owned(customer: Customer, payment_method_id: int) -> PaymentMethod:
    method = (
        PaymentMethod.objects.select_for_update()
        .filter(pk=payment_method_id, customer=customer, is_active=True)
        .first()
    )
    if method is None:
        raise NotFound("payment_method_not_found", _("お支払い方法が見つかりません。"))
    return method


def payment_method_set_default(*, customer: Customer, payment_method_id: int) -> PaymentMethod:
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        method = _owned(customer, payment_method_id)
        customer.payment_methods.filter(is_default=True).exclude(pk=method.pk).update(is_default=False)
        if not method.is_default:
            method.is_default = True
            method.save(update_fields=["is_default"])
        return method


def payment_method_detach(*, customer: Customer, payment_method_id: int) -> None:
    """Remove a card. Refused while a subscription still to be charged uses it and it is the only
    card; otherwise those subscriptions move to the customer's other (default) card."""
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        method = _owned(customer, payment_method_id)
        others = customer.payment_methods.filter(is_active=True, kind=PaymentKind.CARD).exclude(pk=method.pk)
        users = list(
            Subscription.objects.filter(payment_method=method, status__in=LIVE_SUBSCRIPTION).values_list(
                "pk", flat=True
            )
        )
        replacement = others.order_by("-is_default", "-id").first()
        if users and replacement is None:
            raise Conflict(
                "payment_method_in_use",
                _("定期購入のお支払いに使われているため削除できません。先に別のカードを登録してください。"),
            )
        for subscription_id in users:
            subscription_change_payment_method(
                subscription_id=subscription_id,
                payment_method_id=replacement.pk,
                actor=Actor.customer(customer.user),
            )
        if method.stripe_payment_method_id:
            _gateway_call(get_gateway().payment_method_detach, method.stripe_payment_method_id)
        payment_method_deactivate(method=method)


def payment_method_deactivate(*, method: PaymentMethod) -> None:
    """Keep the row for history (orders point at it) but never charge or offer it again."""
    was_default = method.is_default
    method.is_active = False
    method.is_default = False
    method.save(update_fields=["is_active", "is_default"])
    if was_default:
        successor = method.customer.payment_methods.filter(is_active=True).order_by("-id").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])


def payment_method_list(customer: Customer) -> QuerySet[PaymentMethod]:
    """The customer's active methods, default first (a selector: my page and API)."""
    return customer.payment_methods.filter(is_active=True).order_by("-is_default", "-id")


def payment_method_setup_intent_for_checkout() -> dict[str, str]:
    """A SetupIntent for a checkout whose customer may not exist yet: the browser confirms the card
    with Stripe.js; placing the order attaches it to the new customer (payment_method_save)."""
    intent = _gateway_call(get_gateway().setup_intent_create, customer_id="")
    return {
        "setup_intent_id": intent.id,
        "client_secret": intent.client_secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }


def payment_method_offline(*, customer: Customer, kind: str) -> PaymentMethod:
    """The customer's bank-transfer, konbini or cash-on-delivery method, made on first use (one
    active row per kind, so a second checkout reuses it)."""
    if kind not in (PaymentKind.BANK_TRANSFER, PaymentKind.KONBINI, PaymentKind.COD):
        raise DomainError("invalid_payment_kind", _("お支払い方法が正しくありません。"), field="payment_kind")
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        method = PaymentMethod.objects.filter(customer=customer, kind=kind, is_active=True).first()
        if method is None:
            has_default = customer.payment_methods.filter(is_active=True, is_default=True).exists()
            method = PaymentMethod.objects.create(customer=customer, kind=kind, is_default=not has_default)
        return method


def payment_method_owned(*, customer: Customer, payment_method_id: int) -> PaymentMethod:
    """One of the customer's active methods (a saved card chosen at checkout); NotFound otherwise."""
    method = PaymentMethod.objects.filter(pk=payment_method_id, customer=customer, is_active=True).first()
    if method is None:
        raise NotFound("payment_method_not_found", _("お支払い方法が見つかりません。"))
    return method
