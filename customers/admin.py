"""Admin for customers, their addresses and groups."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Address, Customer, CustomerGroup


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
        "created_at",
    )
    list_display_links = ("id", "name")
    list_filter = ("is_blacklisted", "is_member", "group", ("created_at", admin.DateFieldListFilter))
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
    readonly_fields = ("stripe_customer_id", "created_at")
    inlines = (AddressInline,)

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
