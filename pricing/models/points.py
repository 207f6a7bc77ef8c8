"""Points: an append-only ledger per customer; the balance is derived from it.

PointAccount holds the running balance as a cache of the ledger sum and, more importantly, is the
row every writer locks (select_for_update) before appending, so two orders can never spend the
same points; its CHECK constraint makes a negative balance impossible even if code is wrong.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PointKind(models.TextChoices):
    EARN = "earn", _("付与")
    USE = "use", _("利用")
    EXPIRE = "expire", _("失効")
    ADJUST = "adjust", _("調整")
    REVERT = "revert", _("取消")


class PointAccount(models.Model):
    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="point_account", verbose_name=_("顧客")
    )
    # Always equals the sum of the customer's ledger entries; written only under this row's lock.
    balance = models.IntegerField(_("ポイント残高"), default=0)
    # The last earn or use (for expiry after N days without activity), a business date.
    last_activity_on = models.DateField(_("最終利用日"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        db_table = "billing_pointaccount"  # the table it had in billing: moved in place
        verbose_name = _("ポイント口座")
        verbose_name_plural = _("ポイント口座")
        constraints = [models.CheckConstraint(condition=models.Q(balance__gte=0), name="point_balance_ge_0")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.balance}pt"


class PointEntry(models.Model):
    """One movement of points. Never modified or deleted; a mistake is corrected by a new entry."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="point_entries", verbose_name=_("顧客")
    )
    kind = models.CharField(_("種別"), max_length=8, choices=PointKind.choices)
    # Signed: positive adds to the balance, negative takes from it.
    amount = models.IntegerField(_("ポイント"))
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="point_entries",
        null=True,
        blank=True,
        verbose_name=_("受注"),
    )
    # REVERT entries point at the entry they undo; at most one revert per entry.
    reverts = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        related_name="reverted_by",
        null=True,
        blank=True,
        verbose_name=_("取り消し対象"),
    )
    # Credits only (earn, positive adjust): the business date after which the points are gone.
    expires_on = models.DateField(_("有効期限"), null=True, blank=True)
    note = models.CharField(_("メモ"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("実行者"),
    )
    created_at = models.DateTimeField(_("日時"), auto_now_add=True)

    class Meta:
        db_table = "billing_pointentry"  # the table it had in billing: moved in place
        verbose_name = _("ポイント履歴")
        verbose_name_plural = _("ポイント履歴")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["customer", "-id"], name="point_entry_customer_idx"),
            models.Index(
                fields=["expires_on"], name="point_entry_expiry_idx", condition=models.Q(kind="earn")
            ),
        ]
        constraints = [
            # An order earns once and spends once, whatever retries happen.
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(kind="earn"), name="point_earn_once"
            ),
            models.UniqueConstraint(fields=["order"], condition=models.Q(kind="use"), name="point_use_once"),
            models.CheckConstraint(condition=~models.Q(amount=0), name="point_entry_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+}pt"
