"""Which source row became which subscription: what makes an import idempotent."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceFormat(models.TextChoices):
    NATIVE = "native", _("標準CSV")
    SHOPIFY = "shopify", _("Shopify Subscriptions")
    WOOCOMMERCE = "woocommerce", _("WooCommerce Subscriptions")


class ImportedRecord(models.Model):
    """One subscription brought in from a source platform, keyed by the source's handle or id.

    A second import of the same handle with the same body hash is skipped; with another hash the
    subscription is updated (with a timeline event) and the hash replaced.
    """

    source = models.CharField(_("移行元"), max_length=16, choices=SourceFormat.choices)
    handle = models.CharField(_("移行元の番号"), max_length=255)
    subscription = models.OneToOneField(
        "subscriptions.Subscription", on_delete=models.CASCADE, related_name="imported_record"
    )
    # sha256 of the normalised source record (migration.record.SourceSubscription.body_hash).
    body_hash = models.CharField(max_length=64)
    imported_at = models.DateTimeField(_("取り込み日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("移行した定期購入")
        verbose_name_plural = _("移行した定期購入")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["source", "handle"], name="imported_record_unique")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.handle}"
