from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import Notification, OutboxTask
from .services import notification_retry_failed


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "to_email", "subject", "status", "created_at", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["key", "to_email", "subject"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    @admin.action(description=_("送信失敗のメールを再試行する"), permissions=["change"])
    def retry_failed(self, request, queryset):  # noqa: ANN001, ANN201
        count = notification_retry_failed(ids=list(queryset.values_list("pk", flat=True)), max_retries=1000)
        self.message_user(request, _("再試行: %(count)s件") % {"count": count}, messages.SUCCESS)

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
