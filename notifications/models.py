"""A log that makes each notice idempotent: one row per key, written before the email goes out."""

from __future__ import annotations

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
