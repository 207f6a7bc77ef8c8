"""Payment policy and dunning (督促): how failed card payments are retried and how offline payments are
chased until their deadline."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import SingletonModel

from .payments import CaptureMethod


class FinalAction(models.TextChoices):
    """What happens when every retry has failed (or the decline is hard)."""

    SUSPEND = "suspend", _("定期を停止する")
    CANCEL = "cancel", _("定期を解約する")
    SKIP = "skip", _("今回の受注をキャンセルして定期は継続する")


class PaymentPolicy(SingletonModel):
    """The shop's payment rules. One row (pk=1); PaymentPolicy.current() creates it with defaults."""

    # AUTOMATIC: 即時売上 when the order is created. MANUAL: 与信 at creation, 売上確定 at shipment.
    capture_method = models.CharField(
        _("売上確定のタイミング"),
        max_length=10,
        choices=CaptureMethod.choices,
        default=CaptureMethod.AUTOMATIC,
    )
    # Stripe card authorisations lapse after 7 days; renew those this old that are not shipped yet.
    authorization_renew_after_days = models.PositiveSmallIntegerField(_("与信の再取得（日後）"), default=6)
    final_action = models.CharField(
        _("督促の最終処理"), max_length=10, choices=FinalAction.choices, default=FinalAction.SUSPEND
    )
    email_on_first_failure = models.BooleanField(_("初回の決済失敗をメールで通知"), default=True)
    # Bank transfer and konbini: the order is cancelled when nothing arrived by the deadline.
    offline_deadline_days = models.PositiveSmallIntegerField(_("お支払期限（受注から何日）"), default=7)
    offline_reminder_days_before = models.PositiveSmallIntegerField(
        _("お支払期限の何日前に再通知"), default=2
    )
    # Printed in the payment instructions and reminders of each offline kind: without them a
    # customer cannot pay (振込先: bank, branch, account type and number, holder in kana).
    bank_transfer_account = models.TextField(
        _("振込先"),
        blank=True,
        help_text=_("銀行振込のご案内メールに載せる振込先（銀行名・支店名・口座種別・口座番号・口座名義）。"),
    )
    konbini_instructions = models.TextField(
        _("コンビニ払いのお支払い方法"),
        blank=True,
        help_text=_(
            "コンビニ払いのご案内メールに載せるお支払いの手順（払込票の届き方、使えるコンビニなど）。"
        ),
    )
    # How long the link to complete 3-D Secure stays valid.
    authentication_link_days = models.PositiveSmallIntegerField(_("本人認証リンクの有効日数"), default=7)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("決済設定")
        verbose_name_plural = _("決済設定")

    def __str__(self) -> str:
        return str(_("決済設定"))


class DunningRule(models.Model):
    """Retry number `retry` happens `days_after_failure` days after the first failure. Seeded with
    1, 3, 5, 7 days; `email_before` warns the customer when this retry is scheduled (default: the last)."""

    retry = models.PositiveSmallIntegerField(_("再決済の回"), unique=True)
    days_after_failure = models.PositiveSmallIntegerField(_("初回失敗からの日数"))
    email_before = models.BooleanField(_("再決済前にメール"), default=False)

    class Meta:
        verbose_name = _("督促ルール")
        verbose_name_plural = _("督促ルール")
        ordering = ["retry"]

    def __str__(self) -> str:
        return f"{self.retry}: +{self.days_after_failure}d"


class DunningReason(models.TextChoices):
    CARD_FAILED = "card_failed", _("カード決済失敗")
    REQUIRES_ACTION = "requires_action", _("本人認証待ち")
    AWAITING_OFFLINE = "awaiting_offline", _("入金待ち")


class DunningStatus(models.TextChoices):
    OPEN = "open", _("対応中")
    RESOLVED = "resolved", _("解決")
    # Retries exhausted or a hard decline; the shop's final action has been applied.
    EXHAUSTED = "exhausted", _("最終処理済み")


class DunningCase(models.Model):
    """What we are chasing for one order: a failed card (retry schedule), a 3-D Secure
    authentication, or an offline payment (deadline). One row per order."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="dunning", verbose_name=_("受注")
    )
    reason = models.CharField(_("理由"), max_length=20, choices=DunningReason.choices)
    status = models.CharField(
        _("状態"), max_length=10, choices=DunningStatus.choices, default=DunningStatus.OPEN
    )
    first_failed_on = models.DateField(_("初回失敗日"), null=True, blank=True)
    # Card failures so far; the next DunningRule is rule number `failures`.
    failures = models.PositiveSmallIntegerField(_("失敗回数"), default=0)
    next_retry_on = models.DateField(_("次回再決済日"), null=True, blank=True)
    hard_decline = models.BooleanField(_("再試行不可の拒否"), default=False)
    last_error_code = models.CharField(_("最後のエラーコード"), max_length=64, blank=True)
    # Offline payments: the payment deadline (お支払期限) and when the reminder went out.
    deadline = models.DateField(_("お支払期限"), null=True, blank=True)
    reminded_on = models.DateField(_("再通知日"), null=True, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("督促")
        verbose_name_plural = _("督促")
        ordering = ["-id"]
        indexes = [
            # The nightly dunning stage: open cases whose retry day or deadline has come.
            models.Index(fields=["status", "next_retry_on"], name="dunning_retry_idx"),
            models.Index(fields=["status", "deadline"], name="dunning_deadline_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.reason} {self.status}"
