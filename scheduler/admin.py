"""Nightly runs in admin: what each night did, read-only (the schedule itself is under Periodic tasks)."""

from __future__ import annotations

from django.contrib import admin

from .models import NightlyRun


@admin.register(NightlyRun)
class NightlyRunAdmin(admin.ModelAdmin):
    list_display = ("run_date", "status", "lanes", "counters", "started_at", "finished_at")
    list_filter = ("status",)
    date_hierarchy = "run_date"
    readonly_fields = [f.name for f in NightlyRun._meta.fields]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False
