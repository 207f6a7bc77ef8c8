"""A log that makes each notice idempotent: one row per key, written before the email goes out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("送信待ち")
    SENT = "sent", _("送信済み")
    FAILED = "failed", _("送信失敗")


class Notification(models.Model):
    # e.g. "reminder:sub=12:seq=4" — the unique key is what makes a notice go out once.
    key = models.CharField(_("通知キー"), max_length=200, unique=True)
    kind = models.CharField(_("種別"), max_length=50, db_index=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("顧客"),
    )
    to_email = models.EmailField(_("宛先"))
    subject = models.CharField(_("件名"), max_length=200)
    body = models.TextField(_("本文"))
    status = models.CharField(
        _("状態"), max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    error = models.TextField(_("エラー"), blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    # What the mail is about, e.g. "order:42" — how an order's page lists its mails (no FK: orders
    # sits above notifications).
    ref = models.CharField(_("関連"), max_length=50, blank=True, db_index=True)
    # Retries after the first try (notification_retry_failed); the first send is not counted.
    retries = models.PositiveSmallIntegerField(_("再送試行回数"), default=0)
    # Files to attach, by reference (notifications.attachments): [{"kind": "invoice", "args": {...}}].
    # Rendered when the mail is sent, so a retry or a resend attaches the same document again.
    attachments = models.JSONField(_("添付ファイル"), default=list, blank=True)
    # How to write the mail when it is sent (notifications.rendering), for rows written in bulk
    # with an empty subject and body: {"kind": ..., "args": {...}}. Filled in at send, kept after.
    render = models.JSONField(_("本文の生成元"), default=dict, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-id"]
        # The outbox backlog (monitoring, and whatever sweeps pending mail) reads only pending rows.
        indexes = [
            models.Index(
                fields=["created_at"], condition=models.Q(status="pending"), name="notification_pending_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to_email}"


# The task outbox (redis helper): work handed to Celery, recorded first -----------------------------


class OutboxTaskStatus(models.TextChoices):
    PENDING = "pending", _("送信待ち")
    SENDING = "sending", _("送信中")
    DISPATCHED = "dispatched", _("送信済み")


class OutboxTask(models.Model):
    """A Celery task written in the transaction of the change that causes it, and handed to the broker
    after commit (notifications.outbox). When the broker is down the row stays pending and the sweeper
    sends it later; the unique key keeps one row per piece of work, so nothing is queued twice."""

    # e.g. "billing.charge_order:order=12:2027-01-25" — one row per piece of work, never reused.
    key = models.CharField(_("キー"), max_length=200, unique=True)
    task = models.CharField(_("タスク名"), max_length=100)
    args = models.JSONField(_("引数"), default=list)
    status = models.CharField(
        _("状態"), max_length=10, choices=OutboxTaskStatus.choices, default=OutboxTaskStatus.PENDING
    )
    tries = models.PositiveIntegerField(_("送信試行回数"), default=0)
    last_error = models.TextField(_("最後のエラー"), blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    # When the row last moved (claimed for sending, sent, put back): a "sending" row older than the
    # sweeper's grace belongs to a process that died and is sent again.
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    dispatched_at = models.DateTimeField(_("送信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("タスク送信待ち")
        verbose_name_plural = _("タスク送信待ち")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], condition=~models.Q(status="dispatched"), name="outboxtask_undispatched_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.args} {self.status}"


# --- Mails the shop writes (back office) -----------------------------------------------------------


class MailEvent(models.TextChoices):
    """What a shop-written mail is about: an order status reached, or a payment event."""

    RECEIVED = "received", _("受注受付（サンクスメール）")
    ON_HOLD = "on_hold", _("保留（要対応）")
    AWAITING_PAYMENT = "awaiting_payment", _("入金待ち")
    PAYMENT_CONFIRMED = "payment_confirmed", _("入金確認")
    READY = "ready", _("出荷準備中")
    SHIPPED = "shipped", _("発送完了")
    COMPLETED = "completed", _("完了")
    CANCELLED = "cancelled", _("キャンセル")
    RETURNED = "returned", _("返品")
    REFUNDED = "refunded", _("返金")


class MailLanguage(models.TextChoices):
    JA = "ja", _("日本語")
    EN = "en", _("英語")


class MailTemplate(models.Model):
    """One mail per (event, language); its subject and body hold {named} placeholders.

    The placeholders a body may use are notifications.mail_templates.PLACEHOLDERS; an unknown one is a
    form error in admin, never a mail that shows braces to the customer.
    """

    event = models.CharField(_("送信タイミング"), max_length=30, choices=MailEvent.choices)
    language = models.CharField(_("言語"), max_length=8, choices=MailLanguage.choices, default="ja")
    enabled = models.BooleanField(_("送信する"), default=True)
    subject = models.CharField(_("件名"), max_length=200)
    body = models.TextField(_("本文"))
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("メールテンプレート")
        verbose_name_plural = _("メールテンプレート")
        ordering = ["event", "language"]
        constraints = [
            models.UniqueConstraint(fields=["event", "language"], name="mailtemplate_event_language_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} ({self.language})"


class MailCampaign(models.Model):
    """A shop template sent to a customer segment (セグメント配信) once. Each recipient's outbox row is
    keyed by the campaign and the customer, so a customer gets it once however often sending is
    retried; the token from the confirmation form makes a double submit the same campaign."""

    token = models.CharField(_("送信トークン"), max_length=64, unique=True)
    segment = models.CharField(_("セグメント"), max_length=40)
    segment_label = models.CharField(_("セグメント名"), max_length=200)
    event = models.CharField(_("メールテンプレート"), max_length=30, choices=MailEvent.choices)
    recipients = models.PositiveIntegerField(_("送信数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("送信者"),
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    finished_at = models.DateTimeField(_("送信完了日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("セグメント配信")
        verbose_name_plural = _("セグメント配信")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.segment_label} / {self.get_event_display()}"
