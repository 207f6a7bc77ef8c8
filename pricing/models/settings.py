"""The shop's pricing policy: tax rounding, points and shipping. One row (pk=1)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import SingletonModel


class TaxRounding(models.TextChoices):
    # Values match core.money.Rounding.
    FLOOR = "floor", _("切り捨て")
    HALF_UP = "half_up", _("四捨五入")
    CEIL = "ceil", _("切り上げ")


class PointsExpiry(models.TextChoices):
    NONE = "none", _("無期限")
    PER_ENTRY = "per_entry", _("付与から一定期間")
    INACTIVITY = "inactivity", _("最終利用から一定期間")


class BillingPolicy(SingletonModel):
    """Money rules of the shop. BillingPolicy.current() creates the row with defaults."""

    tax_rounding = models.CharField(
        _("消費税の端数処理"), max_length=8, choices=TaxRounding.choices, default=TaxRounding.FLOOR
    )
    # Basis points of the tax-inclusive item subtotal: 100 = 1 %. Integers, never a float rate.
    points_earn_rate_bp = models.PositiveIntegerField(
        _("ポイント付与率（0.01%単位）"), default=100, help_text=_("100 で商品小計（税込）の1%")
    )
    points_expiry = models.CharField(
        _("ポイント有効期限"), max_length=12, choices=PointsExpiry.choices, default=PointsExpiry.PER_ENTRY
    )
    # PER_ENTRY: each earn expires this many days after it is granted.
    points_valid_days = models.PositiveIntegerField(_("ポイント有効日数（付与から）"), default=365)
    # INACTIVITY: the whole balance expires after this many days without earning or using.
    points_inactive_days = models.PositiveIntegerField(_("ポイント失効日数（最終利用から）"), default=365)
    shipping_base_fee = models.PositiveIntegerField(_("基本送料（税込）"), default=0)
    # Goods after discounts at or above this amount ship free; empty: never free.
    shipping_free_from = models.PositiveIntegerField(_("送料無料になる金額（税込）"), null=True, blank=True)
    remote_island_surcharge = models.PositiveIntegerField(_("離島追加送料（税込）"), default=0)
    # Charged as its own line on an order sent gift-wrapped (ギフト包装), at the standard 10 % rate.
    gift_wrapping_fee = models.PositiveIntegerField(
        _("ギフト包装料（税込・税率10%）"),
        default=0,
        help_text=_("ギフト包装を選んだご注文に1件ごとに加算します。0なら無料です。"),
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        db_table = "billing_billingpolicy"  # the table it had in billing: moved in place
        verbose_name = _("料金設定")
        verbose_name_plural = _("料金設定")

    def __str__(self) -> str:
        return str(_("料金設定"))
