"""Coupons: fixed or percent off, with a window, caps and which deliveries they apply to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class DiscountKind(models.TextChoices):
    FIXED = "fixed", _("定額")
    PERCENT = "percent", _("定率")


class CouponAppliesTo(models.TextChoices):
    NEXT = "next", _("次回のみ")
    ALL = "all", _("毎回")
    SEQUENCES = "sequences", _("指定した回")


class Coupon(models.Model):
    code = models.CharField(_("クーポンコード"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(
        _("割引種別"), max_length=8, choices=DiscountKind.choices, default=DiscountKind.FIXED
    )
    # FIXED: yen off the tax-inclusive item subtotal. PERCENT: whole percent (1-100).
    value = models.PositiveIntegerField(_("割引額・割引率"))
    valid_from = models.DateTimeField(_("有効期間（開始）"), null=True, blank=True)
    valid_until = models.DateTimeField(_("有効期間（終了）"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("総利用上限"), null=True, blank=True)
    max_uses_per_customer = models.PositiveIntegerField(_("お一人様の利用上限"), null=True, blank=True)
    applies_to = models.CharField(
        _("適用する回"), max_length=10, choices=CouponAppliesTo.choices, default=CouponAppliesTo.NEXT
    )
    # For SEQUENCES: the subscription sequences it applies to, e.g. [2, 3, 4].
    sequences = models.JSONField(_("適用回"), default=list, blank=True)
    min_subtotal = models.PositiveIntegerField(_("最低購入金額"), default=0)
    is_active = models.BooleanField(_("有効"), default=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        db_table = "billing_coupon"  # the table it had in billing: moved in place
        verbose_name = _("クーポン")
        verbose_name_plural = _("クーポン")

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class CouponRedemption(models.Model):
    """One use of a coupon by one order. Deleted when the order is cancelled: the use is given back."""

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("クーポン")
    )
    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="coupon_redemption", verbose_name=_("受注")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="coupon_redemptions",
        verbose_name=_("顧客"),
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        on_delete=models.SET_NULL,
        related_name="coupon_redemptions",
        null=True,
        blank=True,
        verbose_name=_("定期購入"),
    )
    sequence = models.PositiveIntegerField(_("定期回数"), null=True, blank=True)
    created_at = models.DateTimeField(_("利用日時"), auto_now_add=True)

    class Meta:
        db_table = "billing_couponredemption"  # the table it had in billing: moved in place
        verbose_name = _("クーポン利用")
        verbose_name_plural = _("クーポン利用")
        ordering = ["-id"]
        indexes = [models.Index(fields=["coupon", "customer"], name="coupon_redemption_cust_idx")]

    def __str__(self) -> str:
        return gettext("%(coupon)s → 受注 %(order)s") % {"coupon": self.coupon_id, "order": self.order_id}
