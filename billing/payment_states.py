"""The order's payment status machine (決済状態), kept apart from the order status pipeline.

Only billing.services.payments changes Order.payment_status, through payment_set_status, which
checks this table. A same-status move is a no-op there and never needs to be listed.
"""

from __future__ import annotations

from orders.models import PaymentStatus as P

PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    P.UNPAID: frozenset({P.PROCESSING, P.AWAITING_OFFLINE, P.NOT_REQUIRED, P.CANCELLED}),
    # PROCESSING → UNPAID: reconciliation found that the gateway never saw the attempt.
    P.PROCESSING: frozenset({P.PAID, P.AUTHORIZED, P.FAILED, P.ACTION_REQUIRED, P.UNPAID, P.CANCELLED}),
    P.FAILED: frozenset({P.PROCESSING, P.AWAITING_OFFLINE, P.CANCELLED, P.PAID, P.AUTHORIZED}),
    # The customer completes 3-D Secure (→ PAID/AUTHORIZED), fails it, or the order is retried/cancelled.
    P.ACTION_REQUIRED: frozenset({P.PROCESSING, P.PAID, P.AUTHORIZED, P.FAILED, P.CANCELLED}),
    # 与信済み → captured at shipment (PAID), voided (CANCELLED) or renewed (PROCESSING again).
    P.AUTHORIZED: frozenset({P.PAID, P.CANCELLED, P.PROCESSING}),
    P.AWAITING_OFFLINE: frozenset({P.PAID, P.CANCELLED}),
    P.PAID: frozenset({P.REFUNDED, P.PARTIALLY_REFUNDED}),
    P.PARTIALLY_REFUNDED: frozenset({P.REFUNDED}),
    P.REFUNDED: frozenset(),
    P.NOT_REQUIRED: frozenset(),
    P.CANCELLED: frozenset(),
}

# Nothing more to charge: the charging service leaves these orders alone.
SETTLED = frozenset({P.PAID, P.AUTHORIZED, P.REFUNDED, P.PARTIALLY_REFUNDED, P.NOT_REQUIRED, P.CANCELLED})


def payment_transition_allowed(current: str, target: str) -> bool:
    return current == target or target in PAYMENT_TRANSITIONS.get(current, frozenset())
