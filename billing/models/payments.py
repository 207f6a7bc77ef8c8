"""Stored payment methods. No card number or CVC is ever stored: only the gateway's reference."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.payment_kinds import PaymentKind


class PaymentMethod(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="payment_methods", verbose_name=_("顧客")
    )
    kind = models.CharField(_("種別"), max_length=16, choices=PaymentKind.choices)
    # Cards: the Stripe PaymentMethod id (pm_…) and what a customer needs to recognise the card.
    stripe_payment_method_id = models.CharField(
        _("Stripe支払方法ID"), max_length=64, blank=True, db_index=True
    )
    brand = models.CharField(_("ブランド"), max_length=20, blank=True)
    last4 = models.CharField(_("下4桁"), max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(_("有効期限（月）"), null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(_("有効期限（年）"), null=True, blank=True)
    is_default = models.BooleanField(_("既定"), default=False)
    # Detached methods stay for history but can no longer be charged or chosen.
    is_active = models.BooleanField(_("有効"), default=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("支払方法")
        verbose_name_plural = _("支払方法")
        ordering = ["-is_default", "-id"]
        constraints = [
            # Saving the same Stripe card twice (API call and setup_intent.succeeded webhook) is one row.
            models.UniqueConstraint(
                fields=["customer", "stripe_payment_method_id"],
                condition=~models.Q(stripe_payment_method_id=""),
                name="payment_method_customer_stripe_unique",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == PaymentKind.CARD:
            return f"{self.brand or 'card'} •••• {self.last4}"
        return self.get_kind_display()


class PaymentAttemptStatus(models.TextChoices):
    PENDING = "pending", _("処理中")
    SUCCEEDED = "succeeded", _("成功")
    FAILED = "failed", _("失敗")
    REQUIRES_ACTION = "requires_action", _("本人認証待ち")
    # Manual capture: 与信済み, captured at shipment (then SUCCEEDED).
    AUTHORIZED = "authorized", _("与信済み")
    # The gateway did not answer (timeout): reconciled with the gateway before any new attempt.
    UNKNOWN = "unknown", _("結果不明")
    CANCELED = "canceled", _("取消")


# Attempt statuses that may still turn into a charge; at most one per order at a time.
OPEN_ATTEMPT_STATUSES = (
    PaymentAttemptStatus.PENDING,
    PaymentAttemptStatus.UNKNOWN,
    PaymentAttemptStatus.REQUIRES_ACTION,
)


class CaptureMethod(models.TextChoices):
    AUTOMATIC = "automatic", _("即時売上")
    MANUAL = "manual", _("与信のみ（出荷時に売上確定）")


class PaymentAttempt(models.Model):
    """One call to the gateway to charge an order. Written (and committed) before the call, so a
    worker that dies mid-call leaves a row that the next run reconciles instead of charging again."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="payment_attempts", verbose_name=_("受注")
    )
    # 1, 2, 3 … per order; the idempotency key is derived from it and never changes.
    number = models.PositiveIntegerField(_("試行回数"))
    idempotency_key = models.CharField(_("冪等キー"), max_length=80, unique=True)
    payment_method = models.ForeignKey(
        PaymentMethod,
        on_delete=models.SET_NULL,
        related_name="attempts",
        null=True,
        blank=True,
        verbose_name=_("支払方法"),
    )
    amount = models.PositiveIntegerField(_("金額"))  # minor units of `currency` (yen)
    currency = models.CharField(_("通貨"), max_length=3, default="jpy")
    capture_method = models.CharField(
        _("売上確定の方式"), max_length=10, choices=CaptureMethod.choices, default=CaptureMethod.AUTOMATIC
    )
    status = models.CharField(
        _("状態"), max_length=16, choices=PaymentAttemptStatus.choices, default=PaymentAttemptStatus.PENDING
    )
    # Stored as soon as the gateway tells us; the reconciliation key when we do not know it yet is
    # the idempotency key, also sent as PaymentIntent metadata.
    gateway_payment_intent_id = models.CharField(
        _("決済ID（PaymentIntent）"), max_length=64, blank=True, db_index=True
    )
    gateway_charge_id = models.CharField(_("課金ID（Charge）"), max_length=64, blank=True)
    error_code = models.CharField(_("エラーコード"), max_length=64, blank=True)
    decline_code = models.CharField(_("拒否理由コード"), max_length=64, blank=True)
    error_message = models.CharField(_("エラーメッセージ"), max_length=500, blank=True)
    # Manual capture: when the authorisation (与信) was given and how much was captured (売上確定).
    authorized_at = models.DateTimeField(_("与信日時"), null=True, blank=True)
    captured_amount = models.PositiveIntegerField(_("売上確定額（円）"), default=0)
    refunded_amount = models.PositiveIntegerField(_("返金額（円）"), default=0)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("決済試行")
        verbose_name_plural = _("決済試行")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="payment_attempt_order_number_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "authorized_at"], name="payment_attempt_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.status}"


class PaymentRefund(models.Model):
    """A refund (返金) of a succeeded attempt, full or partial."""

    attempt = models.ForeignKey(
        PaymentAttempt, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("決済")
    )
    number = models.PositiveIntegerField(_("返金番号"))
    idempotency_key = models.CharField(_("冪等キー"), max_length=80, unique=True)
    amount = models.PositiveIntegerField(_("返金額"))
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    gateway_refund_id = models.CharField(_("返金ID（Refund）"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("返金")
        verbose_name_plural = _("返金")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ¥{self.amount:,}"


class WebhookEvent(models.Model):
    """A Stripe event received once: the unique event id makes a redelivery a no-op."""

    event_id = models.CharField(_("イベントID"), max_length=100, unique=True)
    type = models.CharField(_("イベント種別"), max_length=100, db_index=True)
    # The object's id only, never the payload: payloads can carry billing details we do not keep.
    object_id = models.CharField(_("対象オブジェクトID"), max_length=100, blank=True)
    received_at = models.DateTimeField(_("受信日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("Webhookイベント")
        verbose_name_plural = _("Webhookイベント")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
