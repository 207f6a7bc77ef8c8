"""Reads about payment methods and how to pay that several callers need (my page, its API, mails)."""

from __future__ import annotations

from core.payment_kinds import PaymentKind

from .models import PaymentMethod, PaymentPolicy


def payment_method_list(*, customer_id: int, active_only: bool = False) -> list[PaymentMethod]:
    """The customer's payment methods (only the usable ones with `active_only`), in the model's order."""
    methods = PaymentMethod.objects.filter(customer_id=customer_id)
    return list(methods.filter(is_active=True) if active_only else methods)


def offline_payment_guide(kind: str, policy: PaymentPolicy | None = None) -> str:
    """How to pay an order of an offline kind, as the shop wrote it: the bank account for a bank
    transfer, the steps for konbini; "" for other kinds or when the shop left it empty."""
    policy = policy or PaymentPolicy.current()
    if kind == PaymentKind.BANK_TRANSFER:
        return policy.bank_transfer_account.strip()
    if kind == PaymentKind.KONBINI:
        return policy.konbini_instructions.strip()
    return ""
