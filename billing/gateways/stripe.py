"""The Stripe adapter (official `stripe` SDK). Works against api.stripe.com and against localstripe
(STRIPE_API_BASE), whose gaps shape a few choices below; each is marked "localstripe:"."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import stripe
from django.conf import settings

from .base import (
    CardDetails,
    ChargeResult,
    ChargeStatus,
    GatewayError,
    GatewayUnavailable,
    RefundResult,
    SetupIntentResult,
)

# Seconds before a request counts as unanswered; the attempt is then UNKNOWN and reconciled later.
REQUEST_TIMEOUT = 30

_clients: dict[tuple[str, str], stripe.StripeClient] = {}
_clients_lock = threading.Lock()


def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    with _clients_lock:
        client = _clients.get((api_key, api_base))
        if client is None:
            client = stripe.StripeClient(
                api_key,
                base_addresses={"api": api_base} if api_base else None,
                # Never let the SDK retry on its own: a retried POST without a server that honours
                # idempotency keys (localstripe) would charge twice. Our reconciliation decides.
                max_network_retries=0,
                http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT),
            )
            _clients[(api_key, api_base)] = client
        return client


def _plain(obj: Any) -> Any:
    """SDK objects as plain dicts (StripeObject is not a mapping in recent SDKs)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _get(obj: Any, key: str, default: Any = None) -> Any:
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _card(pm: Any) -> CardDetails:
    pm = _plain(pm)
    card = _get(pm, "card", {})
    customer = _get(pm, "customer", "")
    return CardDetails(
        id=pm["id"],
        customer_id=customer if isinstance(customer, str) else _get(customer, "id", ""),
        brand=str(_get(card, "brand", "")),
        last4=str(_get(card, "last4", "")),
        exp_month=_get(card, "exp_month"),
        exp_year=_get(card, "exp_year"),
    )


def _charge_result(pi: Any) -> ChargeResult:
    pi = _plain(pi)
    status = pi["status"]
    latest = _get(pi, "latest_charge", "")
    # localstripe expands latest_charge into an object; Stripe returns its id.
    charge_id = latest if isinstance(latest, str) else _get(latest, "id", "")
    error = _get(pi, "last_payment_error", {}) or {}
    amount = int(pi["amount"])
    mapped = {
        "succeeded": ChargeStatus.SUCCEEDED,
        "requires_capture": ChargeStatus.AUTHORIZED,
        "requires_action": ChargeStatus.REQUIRES_ACTION,
        "canceled": ChargeStatus.CANCELED,
        "processing": ChargeStatus.PROCESSING,
        "requires_confirmation": ChargeStatus.NOT_CONFIRMED,
    }.get(status)
    if status == "requires_payment_method":
        mapped = ChargeStatus.FAILED if error else ChargeStatus.NOT_CONFIRMED
        if _get(error, "code") == "authentication_required":
            # Off-session charge that the bank wants authenticated: the customer can still complete it.
            mapped = ChargeStatus.REQUIRES_ACTION
    captured = 0
    if mapped == ChargeStatus.SUCCEEDED:
        # localstripe has no amount_received; a partial capture there refunds the difference.
        captured = int(_get(pi, "amount_received", amount))
    refunded = 0
    if not isinstance(latest, str) and latest:
        refunded = int(_get(latest, "amount_refunded", 0))
    return ChargeResult(
        status=mapped or ChargeStatus.PROCESSING,
        payment_intent_id=pi["id"],
        charge_id=charge_id,
        amount=amount,
        amount_captured=captured,
        amount_refunded=refunded,
        error_code=str(_get(error, "code", "")),
        decline_code=str(_get(error, "decline_code", "")),
        message=str(_get(error, "message", ""))[:500],
        metadata=dict(_get(pi, "metadata", {}) or {}),
    )


def _translate(exc: stripe.StripeError) -> Exception:
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)) or (
        isinstance(exc, stripe.APIError) and not isinstance(exc, stripe.CardError)
    ):
        # No (usable) answer: the request may have been carried out.
        return GatewayUnavailable(str(exc.user_message or exc))
    error = _plain(getattr(exc, "error", None))
    pi = _get(error, "payment_intent", None)
    return GatewayError(
        str(getattr(exc, "user_message", None) or exc),
        code=str(getattr(exc, "code", "") or ""),
        decline_code=str(_get(error, "decline_code", "")),
        payment_intent_id=(pi if isinstance(pi, str) else _get(pi, "id", "")) or "",
    )


class StripeGateway:
    def __init__(self, *, api_key: str, api_base: str = ""):
        if not api_key:
            raise GatewayError("Stripe is not configured (STRIPE_SECRET_KEY).", code="not_configured")
        self.client = _client(api_key, api_base)

    @classmethod
    def from_settings(cls) -> StripeGateway:
        return cls(api_key=settings.STRIPE_SECRET_KEY, api_base=settings.STRIPE_API_BASE)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    # Customers and cards -------------------------------------------------------------------------

    def customer_create(self, *, email: str, name: str, reference: str) -> str:
        customer = self._call(
            self.client.v1.customers.create,
            params={"email": email, "name": name, "metadata": {"customer_id": reference}},
            # Not `customer-<id>` alone: ids repeat across databases (a restored backup, staging, a second
            # shop on this account) and Stripe would hand back the first database's customer. The row
            # lock in billing.services.payment_methods makes one call per customer; the key covers the
            # SDK's own retries of that call.
            options={"idempotency_key": f"customer-{reference}-{uuid.uuid4().hex}"},
        )
        return customer["id"]

    def setup_intent_create(self, *, customer_id: str) -> SetupIntentResult:
        # customer_id "": a checkout whose customer does not exist yet; the card is attached to the
        # customer when the order is placed (payment_method_save).
        params = {"usage": "off_session", "payment_method_types": ["card"]}
        if customer_id:
            params["customer"] = customer_id
        intent = self._call(self.client.v1.setup_intents.create, params=params)
        return SetupIntentResult(id=intent["id"], client_secret=intent["client_secret"])

    def payment_method_retrieve(self, payment_method_id: str) -> CardDetails:
        return _card(self._call(self.client.v1.payment_methods.retrieve, payment_method_id))

    def payment_method_attach(self, *, payment_method_id: str, customer_id: str) -> CardDetails:
        pm = self._call(
            self.client.v1.payment_methods.attach, payment_method_id, params={"customer": customer_id}
        )
        return _card(pm)

    def payment_method_detach(self, payment_method_id: str) -> None:
        self._call(self.client.v1.payment_methods.detach, payment_method_id)

    def payment_method_list(self, customer_id: str) -> list[CardDetails]:
        page = self._call(
            self.client.v1.payment_methods.list,
            params={"customer": customer_id, "type": "card", "limit": 100},
        )
        return [_card(pm) for pm in page.auto_paging_iter()]

    # Charges -------------------------------------------------------------------------------------

    def charge(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: int,
        currency: str,
        capture_manually: bool,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> ChargeResult:
        """Off-session PaymentIntent, created and confirmed in one request. A refusal comes back as a
        FAILED (or REQUIRES_ACTION) result; only a missing answer raises GatewayUnavailable."""
        params = {
            "amount": amount,
            "currency": currency,
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "off_session": True,
            "capture_method": "manual" if capture_manually else "automatic",
            "metadata": metadata,
        }
        try:
            pi = self._call(
                self.client.v1.payment_intents.create,
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        except GatewayError as exc:
            status = (
                ChargeStatus.REQUIRES_ACTION if exc.code == "authentication_required" else ChargeStatus.FAILED
            )
            return ChargeResult(
                status=status,
                payment_intent_id=exc.payment_intent_id,
                amount=amount,
                error_code=exc.code or "gateway_error",
                decline_code=exc.decline_code,
                message=exc.message[:500],
                metadata=metadata,
            )
        return _charge_result(pi)

    def payment_intent_retrieve(self, payment_intent_id: str) -> ChargeResult:
        return _charge_result(self._call(self.client.v1.payment_intents.retrieve, payment_intent_id))

    def payment_intent_client_secret(self, payment_intent_id: str) -> str:
        return self._call(self.client.v1.payment_intents.retrieve, payment_intent_id)["client_secret"]

    def payment_intents_find(self, *, customer_id: str, metadata: dict[str, str]) -> list[ChargeResult]:
        """PaymentIntents whose metadata contains `metadata`, for reconciling an unknown attempt.

        Listing, not the Search API: search is eventually consistent (a PaymentIntent created seconds
        ago may be missing), which is exactly the case reconciliation exists for.
        localstripe: listing rejects the `customer` filter, so fall back to listing everything.
        """
        try:
            page = self._call(
                self.client.v1.payment_intents.list, params={"customer": customer_id, "limit": 100}
            )
        except GatewayError:
            page = self._call(self.client.v1.payment_intents.list, params={"limit": 100})
        found = []
        for pi in page.auto_paging_iter():
            pi = _plain(pi)
            pi_metadata = dict(_get(pi, "metadata", {}) or {})
            if all(pi_metadata.get(k) == v for k, v in metadata.items()):
                found.append(_charge_result(pi))
        return found

    def capture(self, *, payment_intent_id: str, amount: int, idempotency_key: str) -> ChargeResult:
        pi = self._call(
            self.client.v1.payment_intents.capture,
            payment_intent_id,
            params={"amount_to_capture": amount},
            options={"idempotency_key": idempotency_key},
        )
        return _charge_result(pi)

    def cancel(self, payment_intent_id: str) -> ChargeResult:
        return _charge_result(self._call(self.client.v1.payment_intents.cancel, payment_intent_id))

    def refund(self, *, payment_intent_id: str, amount: int, idempotency_key: str) -> RefundResult:
        refund = self._call(
            self.client.v1.refunds.create,
            params={"payment_intent": payment_intent_id, "amount": amount},
            options={"idempotency_key": idempotency_key},
        )
        return RefundResult(id=refund["id"], amount=int(refund["amount"]), status=str(refund["status"]))
