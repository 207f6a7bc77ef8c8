"""Admin for customers, their addresses and groups."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from .models import Address, Customer, CustomerGroup, MatchRule
from .selectors import blacklist_matches, same_person_matches

FIELD_LABELS = {
    "name": _("氏名"),
    "phone": _("電話番号"),
    "address": _("郵便番号＋住所"),
    "email": _("メールアドレス"),
}


class RepeaterFilter(admin.SimpleListFilter):
    """リピーター: two or more orders; 初回: exactly one; 未購入: none."""

    title = _("リピーター")
    parameter_name = "repeater"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("repeater", _("リピーター")), ("first", _("初回のみ")), ("none", _("未購入"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        wanted = {
            "repeater": {"order_count__gte": 2},
            "first": {"order_count": 1},
            "none": {"order_count": 0},
        }
        return queryset.filter(**wanted[self.value()]) if self.value() in wanted else queryset


@admin.register(MatchRule)
class MatchRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "match_name", "match_phone", "match_address", "match_email", "min_fields")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not MatchRule.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: MatchRule | None = None) -> bool:
        return False


@admin.register(CustomerGroup)
class CustomerGroupAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0
    fields = (
        ("label", "is_default", "is_invalid"),
        ("recipient_name", "phone"),
        ("postal_code", "prefecture", "city"),
        ("line1", "line2"),
        "is_remote_island",
    )


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "name_kana",
        "email",
        "phone",
        "group",
        "is_member",
        "is_blacklisted",
        "repeater",
        "created_at",
    )
    list_display_links = ("id", "name")
    list_filter = (
        "is_blacklisted",
        RepeaterFilter,
        "is_member",
        "group",
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = (
        "name",
        "name_kana",
        "user__email",
        "phone",
        "addresses__phone",
        "addresses__postal_code",
    )
    list_select_related = ("user", "group")
    raw_id_fields = ("user",)
    readonly_fields = ("stripe_customer_id", "created_at", "repeater", "same_person")
    inlines = (AddressInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return super().get_queryset(request).annotate(order_count=Count("orders"))

    @admin.display(description=_("リピーター"), ordering="order_count")
    def repeater(self, obj: Customer) -> str:
        count = getattr(obj, "order_count", 0)
        if count >= 2:
            return _("リピーター（%(n)d回）") % {"n": count}
        return _("初回") if count == 1 else _("未購入")

    @admin.display(description=_("同一人物・ブラックリスト類似"))
    def same_person(self, obj: Customer) -> str:
        if obj.pk is None:
            return ""
        similar = blacklist_matches(customer_id=obj.pk)
        candidates = {k: v for k, v in same_person_matches(customer_id=obj.pk).items() if k not in similar}
        rows = [
            (
                reverse("admin:customers_customer_change", args=[pid]),
                _("ブラックリスト類似") if pid in similar else _("リピーター候補"),
                pid,
                str(_("、")).join(str(FIELD_LABELS[f]) for f in fields),
            )
            for pid, fields in {**candidates, **similar}.items()
        ]
        if not rows:
            return _("一致する顧客はいません。")
        return format_html_join("", '<a href="{}">{} #{}</a>（{}）<br>', rows)

    @admin.display(description=_("メールアドレス"), ordering="user__email")
    def email(self, obj: Customer) -> str:
        return obj.user.email


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "customer",
        "recipient_name",
        "postal_code",
        "prefecture",
        "city",
        "is_default",
        "is_invalid",
    )
    list_filter = ("is_invalid", "is_remote_island", "prefecture")
    search_fields = (
        "recipient_name",
        "postal_code",
        "city",
        "line1",
        "customer__name",
        "customer__user__email",
    )
    list_select_related = ("customer__user",)
    raw_id_fields = ("customer",)
