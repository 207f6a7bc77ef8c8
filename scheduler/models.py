"""The nightly run's key: one row per business date, so a second beat or a redelivered task does
nothing twice, and admins can see what each night did."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NightlyRunStatus(models.TextChoices):
    STARTING = "starting", _("開始処理中")
    GENERATING = "generating", _("受注作成中")
    FINISHING = "finishing", _("後処理中")
    DONE = "done", _("完了")


class NightlyRun(models.Model):
    run_date = models.DateField(_("実行日"), unique=True)
    status = models.CharField(
        _("状態"), max_length=12, choices=NightlyRunStatus.choices, default=NightlyRunStatus.STARTING
    )
    # Generation is fanned out to this many lanes; each lane claims batches until nothing is due.
    lanes = models.PositiveSmallIntegerField(_("並列数"), default=1)
    # Lanes that found nothing more to do; the last one to report queues the later stages.
    lanes_done = models.JSONField(_("完了したレーン"), default=list, blank=True)
    # Summed over every batch, in the same transaction as the batch, so they are exact after retries.
    counters = models.JSONField(_("集計"), default=dict, blank=True)
    # Subscriptions whose order could not be planned (bad data); left for an admin, not retried tonight.
    failed_subscription_ids = models.JSONField(_("失敗した定期購入のID"), default=list, blank=True)
    started_at = models.DateTimeField(_("開始日時"), auto_now_add=True)
    finished_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("夜間バッチ実行")
        verbose_name_plural = _("夜間バッチ実行")
        ordering = ["-run_date"]

    def __str__(self) -> str:
        return f"{self.run_date} {self.get_status_display()}"
