"""Orders in admin: read-only records whose status changes only through orders.services.

Actions release holds and cancel through the services (stock, 定期回数 and the OrderEvent follow),
and print invoices and delivery slips (orders.documents).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from . import services
from .documents.admin_actions import invoices_pdf, slips_pdf
from .models import Order, OrderEvent, OrderLine, OrderStatus


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ("product", "sku", "product_name", "quantity", "unit_price", "tax_rate", "line_total")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "before", "after", "note")
    readonly_fields = fields
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "customer",
        "subscription",
        "sequence",
        "status",
        "payment_status",
        "hold_reasons",
        "creation_date",
        "delivery_date",
        "total",
    )
    list_filter = ("status", "payment_status", "creation_date", "delivery_date")
    search_fields = ("=id", "ship_name", "customer__name", "customer__user__email", "tracking_number")
    list_select_related = ("customer__user", "subscription__course")
    date_hierarchy = "creation_date"
    inlines = [OrderLineInline, OrderEventInline]
    actions = [
        "release_hold",
        "mark_ready",
        "mark_shipped",
        "mark_completed",
        "cancel",
        invoices_pdf,
        slips_pdf,
    ]
    readonly_fields = [
        f.name
        for f in Order._meta.fields
        if f.name not in ("tracking_number", "delivery_time_slot", "is_gift")
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # child orders come from the nightly run

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False  # cancel instead: stock and 定期回数 must follow

    def _each(self, request: HttpRequest, queryset: QuerySet[Order], action, done: str) -> None:  # noqa: ANN001
        ok = 0
        for order_id in queryset.values_list("pk", flat=True):
            try:
                action(order_id=order_id, actor_user=request.user)
            except DomainError as exc:
                self.message_user(request, f"#{order_id:08d}: {exc.message}", messages.ERROR)
            else:
                ok += 1
        if ok:
            self.message_user(request, f"{done}: {ok}", messages.SUCCESS)

    @admin.action(description=_("保留を解除する"), permissions=["change"])
    def release_hold(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        held = queryset.filter(status=OrderStatus.ON_HOLD)
        self._each(request, held, services.order_release_hold, str(_("保留を解除しました")))

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Order], status: str) -> None:
        def move(*, order_id: int, actor_user: object) -> None:
            services.order_set_status(order_id=order_id, status=status, actor_user=actor_user)

        self._each(request, queryset, move, str(OrderStatus(status).label))

    @admin.action(description=_("出荷準備中にする"), permissions=["change"])
    def mark_ready(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._set_status(request, queryset, OrderStatus.READY)

    @admin.action(description=_("発送済みにする"), permissions=["change"])
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._set_status(request, queryset, OrderStatus.SHIPPED)

    @admin.action(description=_("完了にする"), permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._set_status(request, queryset, OrderStatus.COMPLETED)

    @admin.action(description=_("キャンセルする"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(request, queryset, services.order_cancel, str(_("キャンセルしました")))
