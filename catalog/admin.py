"""Admin for products and courses. The course schedule preview is added by subscriptions.admin
(it needs the shop's calendar, and catalog imports nothing above it)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.audit import AuditedAdminMixin

from .models import Course, CourseCycle, CourseItem, CoursePrice, DeliveryMethod, Product


@admin.register(Product)
class ProductAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "sku", "name", "price", "tax_rate", "stock", "is_preorder", "release_date", "addon_available", "is_active",
    )  # fmt: skip
    list_filter = ("is_active", "tax_rate", "is_preorder", "addon_available")
    search_fields = ("sku", "name")
    list_editable = ("addon_available", "is_active")
    ordering = ("sku",)


class CourseItemInline(admin.TabularInline):
    model = CourseItem
    extra = 0
    autocomplete_fields = ("product",)


class CoursePriceInline(admin.TabularInline):
    model = CoursePrice
    extra = 0
    autocomplete_fields = ("product",)


class CourseCycleInline(admin.TabularInline):
    model = CourseCycle
    extra = 0
    fields = ("unit", "interval", "day_of_month", "nth_week", "weekday", "is_default", "position")


@admin.register(Course)
class CourseAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "min_deliveries", "cycles_label", "subscription_count")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "items__product__name", "items__product__sku")
    inlines = (CourseItemInline, CoursePriceInline, CourseCycleInline)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("cycles")
            .annotate(subscription_total=Count("subscriptions", distinct=True))
        )

    @admin.display(description=_("選択可能な周期"))
    def cycles_label(self, obj: Course) -> str:
        return " / ".join(str(cycle) for cycle in obj.cycles.all())

    @admin.display(description=_("定期件数"), ordering="subscription_total")
    def subscription_count(self, obj: Course) -> int:
        return obj.subscription_total


# Pricing rules (billing.pricing reads them through billing.selectors.PricingBook).
from .models import BulkDiscount, GroupPrice, ProductSalePrice, QuantityTier  # noqa: E402


@admin.register(ProductSalePrice)
class ProductSalePriceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("product", "unit_price", "starts_on", "ends_on")
    list_select_related = ("product",)
    list_filter = ("starts_on",)
    search_fields = ("product__name", "product__sku")
    autocomplete_fields = ("product",)


@admin.register(QuantityTier)
class QuantityTierAdmin(admin.ModelAdmin):
    list_display = ("product", "min_quantity", "unit_price")
    list_select_related = ("product",)
    search_fields = ("product__name", "product__sku")
    autocomplete_fields = ("product",)


@admin.register(GroupPrice)
class GroupPriceAdmin(admin.ModelAdmin):
    list_display = ("group", "product", "unit_price")
    list_select_related = ("group", "product")
    list_filter = ("group",)
    search_fields = ("product__name", "product__sku")
    autocomplete_fields = ("product",)


@admin.register(BulkDiscount)
class BulkDiscountAdmin(admin.ModelAdmin):
    list_display = ("__str__", "course", "min_quantity", "kind", "value", "is_active")
    list_select_related = ("course",)
    list_filter = ("is_active", "kind")


@admin.register(DeliveryMethod)
class DeliveryMethodAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name", "code", "kind", "fee", "max_length_mm", "max_width_mm", "max_thickness_mm", "max_weight_g",
        "allows_time_slot", "allows_cod", "auto_assign", "is_default", "is_active",
    )  # fmt: skip
    list_editable = ("fee", "auto_assign", "is_active")
    ordering = ("sort_order", "id")
