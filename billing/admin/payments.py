"""Admin for payments: the payment policy and dunning rules, cards (read only), attempts with
capture/refund/refresh actions, dunning cases with "retry now", received webhook events."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from ..models import (
    DunningCase,
    DunningRule,
    PaymentAttempt,
    PaymentMethod,
    PaymentPolicy,
    PaymentRefund,
    WebhookEvent,
)
from ..services.payments import (
    payment_attempt_refresh,
    payment_capture_order,
    payment_charge_order,
    payment_mark_paid,
    payment_refund_order,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the payment services only: an admin looks, the services change them."""

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


def _each(modeladmin, request, ids, service, done: str) -> None:  # noqa: ANN001
    ok = 0
    for object_id in ids:
        try:
            service(object_id)
        except DomainError as error:
            modeladmin.message_user(request, f"#{object_id}: {error.message}", messages.ERROR)
        else:
            ok += 1
    if ok:
        modeladmin.message_user(request, done % {"count": ok}, messages.SUCCESS)


@admin.register(PaymentPolicy)
class PaymentPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "capture_method", "final_action", "offline_deadline_days")

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return not PaymentPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(DunningRule)
class DunningRuleAdmin(admin.ModelAdmin):
    list_display = ("retry", "days_after_failure", "email_before")
    list_editable = ("days_after_failure", "email_before")


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "customer",
        "kind",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "is_default",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("customer__name", "customer__user__email", "last4", "stripe_payment_method_id")
    list_select_related = ("customer__user",)


class RefundInline(admin.TabularInline):
    model = PaymentRefund
    extra = 0
    can_delete = False
    readonly_fields = ("number", "amount", "reason", "gateway_refund_id", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = (
        "idempotency_key",
        "order",
        "status",
        "amount",
        "capture_method",
        "captured_amount",
        "refunded_amount",
        "error_code",
        "decline_code",
        "created_at",
    )
    list_filter = ("status", "capture_method", "error_code")
    search_fields = ("idempotency_key", "gateway_payment_intent_id", "order__id")
    list_select_related = ("order",)
    inlines = [RefundInline]
    actions = ["refresh", "capture", "refund_all"]

    @admin.action(description=_("Stripeの状態を取得して反映する"))
    def refresh(self, request, queryset) -> None:  # noqa: ANN001
        _each(
            self,
            request,
            queryset.values_list("pk", flat=True),
            lambda pk: payment_attempt_refresh(attempt_id=pk),
            _("%(count)d件を更新しました。"),
        )

    @admin.action(description=_("売上確定（与信済みの受注）"))
    def capture(self, request, queryset) -> None:  # noqa: ANN001
        ids = queryset.filter(status="authorized").values_list("order_id", flat=True)
        _each(
            self,
            request,
            ids,
            lambda pk: payment_capture_order(order_id=pk),
            _("%(count)d件を売上確定しました。"),
        )

    @admin.action(description=_("全額返金"))
    def refund_all(self, request, queryset) -> None:  # noqa: ANN001
        ids = queryset.filter(status="succeeded").values_list("order_id", flat=True)
        _each(
            self,
            request,
            ids,
            lambda pk: payment_refund_order(order_id=pk, reason="admin"),
            _("%(count)d件を返金しました。"),
        )


@admin.register(DunningCase)
class DunningCaseAdmin(ReadOnlyAdmin):
    list_display = (
        "order",
        "reason",
        "status",
        "failures",
        "next_retry_on",
        "deadline",
        "hard_decline",
        "last_error_code",
    )
    list_filter = ("status", "reason", "hard_decline")
    search_fields = ("order__id",)
    list_select_related = ("order",)
    actions = ["retry_now", "mark_paid"]

    @admin.action(description=_("今すぐ再決済する"))
    def retry_now(self, request, queryset) -> None:  # noqa: ANN001
        ids = queryset.filter(reason="card_failed", status="open").values_list("order_id", flat=True)
        _each(
            self,
            request,
            ids,
            lambda pk: payment_charge_order(order_id=pk, retry=True),
            _("%(count)d件を再決済しました。"),
        )

    @admin.action(description=_("入金済みにする（銀行振込・コンビニ払い）"))
    def mark_paid(self, request, queryset) -> None:  # noqa: ANN001
        ids = queryset.filter(reason="awaiting_offline", status="open").values_list("order_id", flat=True)
        _each(
            self,
            request,
            ids,
            lambda pk: payment_mark_paid(order_id=pk, note="admin"),
            _("%(count)d件を入金済みにしました。"),
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "object_id", "received_at")
    list_filter = ("type",)
    search_fields = ("event_id", "object_id")
