"""The audit trail and the sign-in failures, read-only in the admin."""

from __future__ import annotations

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from .models import AdminChange, LoginFailure


@admin.register(AdminChange)
class AdminChangeAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "content_type", "object_label", "changed_fields")
    list_filter = ("action", "content_type")
    search_fields = ("actor_label", "object_label", "object_id")
    date_hierarchy = "at"
    list_select_related = ("content_type",)
    readonly_fields = ("at", "actor_label", "action", "content_type", "object_id", "object_label", "diff")
    exclude = ("actor", "changes")

    @admin.display(description=_("変更した項目"))
    def changed_fields(self, obj: AdminChange) -> str:
        return ", ".join(obj.changes)

    @admin.display(description=_("変更内容（前 → 後）"))
    def diff(self, obj: AdminChange) -> str:
        return format_html_join(
            "",
            "<div><code>{}</code>: {} → {}</div>",
            (
                (
                    name,
                    json.dumps(v["before"], ensure_ascii=False),
                    json.dumps(v["after"], ensure_ascii=False),
                )
                for name, v in obj.changes.items()
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ("at", "scope", "key")
    list_filter = ("scope",)
    search_fields = ("key",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
