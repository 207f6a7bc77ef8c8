"""Admin for what the shop enters for planning; the forecast and analytics pages link from here."""

from __future__ import annotations

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import IncomingStock, PlanningSettings, ProductSupply, Supplier


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "contact", "email", "phone")
    search_fields = ("name", "contact")


@admin.register(ProductSupply)
class ProductSupplyAdmin(admin.ModelAdmin):
    list_display = ("product", "supplier", "reorder_point", "days_of_cover", "lead_time_days", "order_unit")
    list_select_related = ("product", "supplier")
    list_filter = ("supplier",)
    search_fields = ("product__sku", "product__name")


@admin.register(IncomingStock)
class IncomingStockAdmin(admin.ModelAdmin):
    list_display = ("arrives_on", "product", "quantity", "note")
    list_select_related = ("product",)
    date_hierarchy = "arrives_on"
    search_fields = ("product__sku", "product__name")


@admin.register(PlanningSettings)
class PlanningSettingsAdmin(admin.ModelAdmin):
    """A singleton: the list redirects to the one row's change page (created with defaults)."""

    fieldsets = (
        (_("出荷キャパシティ"), {"fields": ("daily_shipping_capacity", "ship_days_before_delivery")}),
    )

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def changelist_view(self, request, extra_context=None):  # noqa: ANN001, ANN201
        settings = PlanningSettings.current()
        return redirect(reverse("admin:insights_planningsettings_change", args=[settings.pk]))
