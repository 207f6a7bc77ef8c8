from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "to_email", "subject", "status", "created_at", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["key", "to_email", "subject"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False
