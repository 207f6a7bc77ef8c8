"""Admin for pricing: coupons with their use counts, the point ledger, shipping rules, the policy."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.audit import AuditedAdminMixin
from subscriptions.actors import Actor

from .models import (
    BillingPolicy,
    CodFee,
    Coupon,
    CouponRedemption,
    PointAccount,
    PointEntry,
    PrefectureShippingFee,
)
from .selectors import points_balance
from .services.points import points_adjust


class PointAdjustForm(forms.ModelForm):
    """Refuses in the form what the service would refuse, so the admin sees a message, not an error page."""

    class Meta:
        model = PointEntry
        fields = ("customer", "amount", "note")

    def clean(self) -> dict:
        data = super().clean()
        customer, amount = data.get("customer"), data.get("amount")
        if customer is None or amount is None:
            return data
        if amount == 0:
            self.add_error("amount", _("0以外のポイント数を入力してください。"))
        elif not customer.is_member:
            self.add_error("customer", _("ポイントは会員のお客様のみご利用いただけます。"))
        elif points_balance(customer) + amount < 0:
            self.add_error("amount", _("ポイント残高を超えて減らすことはできません。"))
        return data


@admin.register(Coupon)
class CouponAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "value",
        "applies_to",
        "valid_from",
        "valid_until",
        "redemption_count",
        "max_uses",
        "max_uses_per_customer",
        "is_active",
    )
    list_filter = ("is_active", "kind", "applies_to")
    search_fields = ("code", "name")

    def get_queryset(self, request):  # noqa: ANN001, ANN201
        return super().get_queryset(request).annotate(redemption_total=Count("redemptions"))

    @admin.display(description=_("利用数"), ordering="redemption_total")
    def redemption_count(self, obj: Coupon) -> int:
        return obj.redemption_total


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(admin.ModelAdmin):
    """Read-only: redemptions are written by order generation and removed by cancellation."""

    list_display = ("coupon", "order", "customer", "subscription", "sequence", "created_at")
    list_select_related = ("coupon", "order", "customer__user", "subscription__course")
    search_fields = ("coupon__code", "customer__name", "order__id")
    raw_id_fields = ("coupon", "order", "customer", "subscription")

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(PointAccount)
class PointAccountAdmin(admin.ModelAdmin):
    list_display = ("customer", "balance", "last_activity_on", "updated_at")
    list_select_related = ("customer__user",)
    search_fields = ("customer__name", "customer__user__email")
    readonly_fields = ("customer", "balance", "last_activity_on", "updated_at")

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(PointEntry)
class PointEntryAdmin(admin.ModelAdmin):
    """The ledger. Entries are never edited; adding one here is an adjustment (調整) by this admin."""

    list_display = ("created_at", "customer", "kind", "amount", "order", "expires_on", "note", "actor")
    list_filter = ("kind",)
    list_select_related = ("customer__user", "order", "actor")
    search_fields = ("customer__name", "customer__user__email", "note")
    raw_id_fields = ("customer",)
    form = PointAdjustForm

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def save_model(self, request, obj: PointEntry, form, change: bool) -> None:  # noqa: ANN001
        # Through the service: it locks the account, refuses guests and a negative balance.
        entry = points_adjust(
            customer_id=obj.customer_id, amount=obj.amount, note=obj.note, actor=Actor.admin(request.user)
        )
        obj.pk = entry.pk


@admin.register(BillingPolicy)
class BillingPolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "tax_rounding", "points_earn_rate_bp", "points_expiry", "shipping_base_fee")

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return not BillingPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(PrefectureShippingFee)
class PrefectureShippingFeeAdmin(admin.ModelAdmin):
    list_display = ("prefecture", "fee")


@admin.register(CodFee)
class CodFeeAdmin(admin.ModelAdmin):
    list_display = ("up_to_amount", "fee")
