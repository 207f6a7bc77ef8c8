"""What the shop enters for planning: suppliers, reorder rules per product, incoming stock, capacity.

Kept in insights (not catalog) on purpose: these rows only feed the forecast and the purchase list,
nothing in the order flow reads them, and catalog is being restructured by others.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import SingletonModel


class Supplier(models.Model):
    name = models.CharField(_("仕入先名"), max_length=200, unique=True)
    contact = models.CharField(_("担当者"), max_length=100, blank=True)
    email = models.EmailField(_("メールアドレス"), blank=True)
    phone = models.CharField(_("電話番号"), max_length=20, blank=True)
    note = models.TextField(_("メモ"), blank=True)

    class Meta:
        verbose_name = _("仕入先")
        verbose_name_plural = _("仕入先")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductSupply(models.Model):
    """How one product is reordered (発注基準): from whom, when, in which unit."""

    product = models.OneToOneField("catalog.Product", on_delete=models.CASCADE, related_name="supply")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="products")
    # Units: order when projected stock would fall below this. Empty: use days_of_cover instead.
    reorder_point = models.PositiveIntegerField(_("発注点（個）"), null=True, blank=True)
    # Days of forecast demand to keep in stock (used when reorder_point is empty, and as the
    # amount an order covers).
    days_of_cover = models.PositiveSmallIntegerField(_("在庫日数（日）"), null=True, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(_("リードタイム（日）"), default=7)
    order_unit = models.PositiveIntegerField(_("発注単位（個）"), default=1)

    class Meta:
        verbose_name = _("発注基準")
        verbose_name_plural = _("発注基準")
        ordering = ["product__sku"]
        constraints = [
            models.CheckConstraint(condition=models.Q(order_unit__gte=1), name="supply_order_unit_ge_1"),
            models.CheckConstraint(
                condition=models.Q(reorder_point__isnull=False) | models.Q(days_of_cover__isnull=False),
                name="supply_has_reorder_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} / {self.supplier}"


class IncomingStock(models.Model):
    """Stock the shop has ordered and expects (入荷予定); added to the projection on its date."""

    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="incoming_stock")
    quantity = models.PositiveIntegerField(_("数量"))
    arrives_on = models.DateField(_("入荷予定日"))
    note = models.CharField(_("メモ"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("入荷予定")
        verbose_name_plural = _("入荷予定")
        ordering = ["arrives_on", "id"]
        indexes = [models.Index(fields=["arrives_on"], name="incoming_arrives_idx")]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="incoming_qty_ge_1")]

    def __str__(self) -> str:
        return f"{self.product} +{self.quantity} ({self.arrives_on})"


class PlanningSettings(SingletonModel):
    """One row: the warehouse's daily shipping capacity set against the forecast."""

    # Parcels the warehouse can ship per open day. Empty: not checked.
    daily_shipping_capacity = models.PositiveIntegerField(_("1日の出荷可能件数"), null=True, blank=True)
    # A parcel ships this many business days before its delivery date (the shop calendar's open days).
    ship_days_before_delivery = models.PositiveSmallIntegerField(
        _("出荷日（お届け日の何営業日前）"), default=1
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("出荷キャパシティ設定")
        verbose_name_plural = _("出荷キャパシティ設定")

    def __str__(self) -> str:
        return str(_("出荷キャパシティ設定"))
