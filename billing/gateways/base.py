"""The payment gateway interface. Services talk to this, never to an SDK, so a gateway can be swapped
and every outcome arrives in one shape. No card number or CVC ever passes through here: cards are
tokenised in the browser (Stripe.js) and only the gateway's ids come back to us."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class GatewayError(Exception):
    """The gateway answered and refused (declined card, invalid request). The outcome is known."""

    def __init__(self, message: str, *, code: str = "", decline_code: str = "", payment_intent_id: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class GatewayUnavailable(Exception):
    """No answer (timeout, connection reset): the request may or may not have been carried out."""


class ChargeStatus:
    SUCCEEDED = "succeeded"  # captured (売上確定)
    AUTHORIZED = "authorized"  # requires_capture (与信済み)
    REQUIRES_ACTION = "requires_action"  # 3-D Secure
    FAILED = "failed"
    CANCELED = "canceled"
    PROCESSING = "processing"
    # Created but never confirmed: no money moved.
    NOT_CONFIRMED = "not_confirmed"


@dataclass(frozen=True, slots=True)
class ChargeResult:
    status: str  # a ChargeStatus value
    payment_intent_id: str = ""
    charge_id: str = ""
    amount: int = 0
    amount_captured: int = 0
    amount_refunded: int = 0
    error_code: str = ""
    decline_code: str = ""
    message: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CardDetails:
    """What we keep of a card: enough for a customer to recognise it, nothing to charge it with."""

    id: str
    customer_id: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True, slots=True)
class SetupIntentResult:
    id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class RefundResult:
    id: str
    amount: int
    status: str


class PaymentGateway(Protocol):
    def customer_create(self, *, email: str, name: str, reference: str) -> str: ...

    def setup_intent_create(self, *, customer_id: str) -> SetupIntentResult: ...

    def payment_method_retrieve(self, payment_method_id: str) -> CardDetails: ...

    def payment_method_attach(self, *, payment_method_id: str, customer_id: str) -> CardDetails: ...

    def payment_method_detach(self, payment_method_id: str) -> None: ...

    def payment_method_list(self, customer_id: str) -> list[CardDetails]: ...

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
    ) -> ChargeResult: ...

    def payment_intent_retrieve(self, payment_intent_id: str) -> ChargeResult: ...

    def payment_intent_client_secret(self, payment_intent_id: str) -> str: ...

    def payment_intents_find(self, *, customer_id: str, metadata: dict[str, str]) -> list[ChargeResult]: ...

    def capture(self, *, payment_intent_id: str, amount: int, idempotency_key: str) -> ChargeResult: ...

    def cancel(self, payment_intent_id: str) -> ChargeResult: ...

    def refund(self, *, payment_intent_id: str, amount: int, idempotency_key: str) -> RefundResult: ...
