from django.contrib import admin

from .models import Notification, OutboxTask


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "to_email", "subject", "status", "created_at", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["key", "to_email", "subject"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False


# The task outbox (redis helper): read-only, for seeing what waits for the broker.
@admin.register(OutboxTask)
class OutboxTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "args", "status", "tries", "created_at", "dispatched_at"]
    list_filter = ["task", "status"]
    search_fields = ["key"]
    readonly_fields = [f.name for f in OutboxTask._meta.fields]

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False
